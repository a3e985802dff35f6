"""Field types shared by the action schemas: input base, picker fields, date-times, idempotency key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema


class ActionInput(BaseModel):
    """Base of every action input: unknown keys are a ValidationError."""

    model_config = ConfigDict(extra="forbid")


class ActionOutput(BaseModel):
    """Base of every action output."""

    model_config = ConfigDict(extra="forbid")


def iso_utc(value: datetime) -> str:
    """``value`` in UTC as ISO 8601 with a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# A date-time in an input: ISO 8601 with an offset (naive values are a ValidationError).
OffsetDateTime = AwareDatetime

# A date-time in an output: always UTC, ISO 8601.
UtcDateTime = Annotated[
    datetime,
    PlainSerializer(iso_utc, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _has_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain text, not only white space")
    return value


def _clean_free_text_tags(value: list[str]) -> list[str]:
    cleaned = [tag.strip() for tag in value]
    if any(not tag for tag in cleaned):
        raise ValueError("tags must not be empty")
    return list(dict.fromkeys(cleaned))


# Text that must say something: white space alone is refused (titles, note bodies).
NonBlankText = Annotated[str, AfterValidator(_has_text)]

# The free-text tags stored on an activity (interactions.tags): trimmed, none empty, duplicates dropped.
FreeTextTags = Annotated[list[str], AfterValidator(_clean_free_text_tags)]

PICKER_HINTS = {
    "client": "Search clients",
    "contact": "Search contacts",
    "ticket": "Search tickets",
    "user": "Search users",
}


def picker(kind: str, description: str, *, dependencies: list[str] | None = None, default: Any = ...) -> Any:
    """A uuid field with the workflow designer's picker metadata (kind, dependencies, hint, dynamic references)."""
    extra: dict[str, Any] = {"x-workflow-picker-kind": kind}
    if dependencies:
        extra["x-workflow-picker-dependencies"] = dependencies
    extra["x-workflow-picker-fixed-value-hint"] = PICKER_HINTS[kind]
    extra["x-workflow-picker-allow-dynamic-reference"] = True
    return Field(default=default, description=description, json_schema_extra=extra)


def idempotency_key_field() -> Any:
    """The optional input ``idempotency_key`` of action-provided actions."""
    return Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Makes retries safe: calls with the same key create the record once and return the same output.",
    )
