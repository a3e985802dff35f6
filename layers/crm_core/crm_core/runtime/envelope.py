"""The invocation event every function takes (tenant, actor, input, run, step, key, dry run) and the
translation of pydantic errors into ValidationError."""

from __future__ import annotations

import uuid
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from crm_core.errors import ValidationError


class Envelope(BaseModel):
    """Every function's event. Other top-level keys are ignored, so a Step Functions state can be passed whole."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: uuid.UUID
    actor_user_id: uuid.UUID
    input: dict[str, Any]
    run_id: str | None = Field(default=None, min_length=1, max_length=512)
    step_path: str | None = Field(default=None, min_length=1, max_length=512)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=512)
    dry_run: StrictBool = False


def _location(error: Any, prefix: str) -> str:
    parts = [str(p) for p in error.get("loc", ())]
    return ".".join([prefix, *parts]) if prefix else ".".join(parts) or "(root)"


def validation_error_from(exc: pydantic.ValidationError, *, what: str, prefix: str = "") -> ValidationError:
    """A contract ValidationError listing every field problem pydantic found, in words a workflow author reads."""
    problems = [
        {"field": _location(e, prefix), "message": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    if len(problems) > 5:
        summary += f"; and {len(problems) - 5} more"
    return ValidationError(f"Invalid {what}: {summary}", {"rule": "schema", "errors": problems})


def parse_envelope(event: Any) -> Envelope:
    """The validated envelope; ValidationError when the event is not an object or a field is wrong."""
    if not isinstance(event, dict):
        raise ValidationError(
            "Invalid event: expected a JSON object with tenant_id, actor_user_id and input",
            {"rule": "schema", "expected": "object", "actual": type(event).__name__},
        )
    try:
        return Envelope.model_validate(event)
    except pydantic.ValidationError as exc:
        raise validation_error_from(exc, what="event") from None
