"""The one way the tests call an action: through its real Lambda handler, as a fresh Lambda container would.

``invoke_action`` builds the event from its parts; ``invoke_event`` takes an event as it is, for tests whose
subject is the event itself (malformed envelopes, the sample events of events/). The ``invoke`` fixture of
tests/conftest.py is ``invoke_action`` with the test's tenant and actor filled in. ``unregistered_spec`` makes a
test-only action.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from crm_core.runtime import ActionContext, ActionSpec, PermissionNeed, build_handler, get_spec
from crm_dev.lambda_context import LocalLambdaContext

Action = str | ActionSpec[Any, Any]


def invoke_event(action: Action, event: object) -> dict[str, Any]:
    """The output of ``action`` (an id, or a spec the registry does not hold) for ``event``; its errors raise."""
    spec = get_spec(action) if isinstance(action, str) else action
    return build_handler(spec)(event, LocalLambdaContext(spec.name))


def invoke_action(
    action: Action,
    tenant_id: uuid.UUID,
    actor_id: uuid.UUID,
    action_input: dict[str, Any],
    **envelope: Any,
) -> dict[str, Any]:
    """Call ``action`` for ``actor_id`` in ``tenant_id``; ``envelope`` holds run_id, step_path, idempotency_key,
    dry_run and the like. The event goes through JSON first (uuids and dates become strings), as in Lambda."""
    event = {"tenant_id": tenant_id, "actor_user_id": actor_id, "input": action_input, **envelope}
    return invoke_event(action, json.loads(json.dumps(event, default=str)))


def unregistered_spec(
    action_id: str,
    label: str,
    description: str,
    input_model: type[BaseModel],
    output_model: type[BaseModel],
    run: Callable[[ActionContext, Any], Any],
) -> ActionSpec[Any, Any]:
    """A test-only action (the registry does not hold it) that any actor with ``client:read`` may call."""
    return ActionSpec(
        id=action_id,
        version=1,
        label=label,
        description=description,
        input_model=input_model,
        output_model=output_model,
        run=run,
        permissions=lambda data: [PermissionNeed("client", "read")],
    )
