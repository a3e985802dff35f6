"""What a demo scene uses: invoke an action as a person of the demo tenant, print what happened."""

from __future__ import annotations

import json
import textwrap
import uuid
from typing import Any

from crm_core.errors import ActionFailure
from crm_core.runtime import build_handler, get_spec
from crm_demo import ids
from crm_dev.aws_resources import LocalResources
from crm_dev.lambda_context import LocalLambdaContext

BOLD, DIM, GREEN, RED, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m"


class Stage:
    """Runs actions through their real Lambda handlers for the demo tenant and prints readable blocks."""

    def __init__(self, resources: LocalResources, *, color: bool = True):
        self.resources = resources
        self.color = color
        self.run_id = f"demo-{uuid.uuid4().hex[:8]}"
        self._events: list[dict[str, Any]] = []
        self.calls = 0
        self.failures = 0
        self._scene = 0

    def _c(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.color else text

    def invoke(
        self, action_id: str, action_input: dict[str, Any], *, actor: uuid.UUID | None = None, **envelope: Any
    ) -> dict[str, Any]:
        """The action's output; raises the contract error on failure."""
        event = {
            "tenant_id": str(ids.TENANT),
            "actor_user_id": str(actor or ids.ADMIN),
            "run_id": self.run_id,
            "step_path": envelope.pop("step_path", f"demo.{action_id}.{self.calls}"),
            "input": json.loads(json.dumps(action_input, default=str)),
            **envelope,
        }
        self.calls += 1
        spec = get_spec(action_id)
        return build_handler(spec)(event, LocalLambdaContext(spec.name))

    def attempt(self, action_id: str, action_input: dict[str, Any], **kwargs: Any) -> ActionFailure | dict[str, Any]:
        """Like ``invoke`` but returns the error instead of raising it (to show a refused call)."""
        try:
            return self.invoke(action_id, action_input, **kwargs)
        except ActionFailure as failure:
            self.failures += 1
            return failure

    def events(self) -> list[dict[str, Any]]:
        """EventBridge events published so far (each with DetailType and Detail), oldest first."""
        for event in self.resources.drain_events():
            self._events.append(
                {"DetailType": event["detail-type"], "Source": event["source"], "Detail": event["detail"]}
            )
        return list(self._events)

    def scene(self, title: str) -> None:
        """Start a numbered scene."""
        self._scene += 1
        print()
        print(self._c(BOLD, f"━━ {self._scene}. {title} " + "━" * max(3, 72 - len(title))))

    def show(self, title: str, lines: list[str]) -> None:
        """A titled block of lines."""
        print(f"  {self._c(BOLD, title)}")
        for line in lines:
            for part in textwrap.wrap(line, 100, subsequent_indent="      ") or [""]:
                print(f"    {part}")

    def ok(self, text: str) -> str:
        return self._c(GREEN, "✔ ") + text

    def failed(self, text: str) -> str:
        return self._c(RED, "✘ ") + text

    def refused(self, failure: ActionFailure) -> str:
        return self._c(RED, "✘ ") + f"{type(failure).__name__} ({failure.code}): {failure.message}"

    def dim(self, text: str) -> str:
        return self._c(DIM, text)
