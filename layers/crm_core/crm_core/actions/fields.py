"""Field types shared by the action schemas: input base, strict JSON kinds, picker fields, date-times,
idempotency key.

Inputs follow JSON types strictly (issue 10). ``ActionInput`` validates in pydantic's strict mode, so a number is
never read from a string (``"25"`` is not an integer), a boolean only from ``true``/``false`` (not ``"yes"``, not
``0``), text only from a string, and an integer only from a JSON integer (``1.0`` is refused: Python's JSON
decoder keeps it a float, and nothing rounds it for the caller). Strict mode alone would refuse the strings a
JSON event carries for UUIDs and date-times, so those two kinds have their own types here, ``Uuid`` and
``OffsetDateTime`` / ``LocalDateTime``: each first checks the text's form with a pattern, then lets pydantic
parse it, all in pydantic-core (no Python call per field, so validation costs what lax mode did). Python objects
(``uuid.UUID``, aware ``datetime``) are accepted too, for callers inside the process.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import CoreSchema, core_schema


class ActionInput(BaseModel):
    """Base of every action input: unknown keys are a ValidationError, and every value must have its JSON type."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ActionOutput(BaseModel):
    """Base of every action output."""

    model_config = ConfigDict(extra="forbid")


def iso_utc(value: datetime) -> str:
    """``value`` in UTC as ISO 8601 with a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# A UUID in its canonical text form: 36 characters, 8-4-4-4-12 hexadecimal digits, either case (RFC 4122 reads
# hex digits case-insensitively; the value is kept as a uuid.UUID, so it is written back lower-case). No braces,
# no "urn:uuid:" prefix, no 32 digits without hyphens.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# An RFC 3339 date-time (the JSON Schema "date-time" format): a date, "T", hours, minutes and seconds, an optional
# fraction and an offset ("Z" or +hh:mm). A date alone, a number or seconds since 1970 are not date-times.
_DATE_AND_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
OFFSET_DATE_TIME_PATTERN = _DATE_AND_TIME + r"(?:Z|[+-]\d{2}:\d{2})$"
# The same with the offset optional: for actions that read a date-time without one in a given time zone.
LOCAL_DATE_TIME_PATTERN = _DATE_AND_TIME + r"(?:Z|[+-]\d{2}:\d{2})?$"

UUID_JSON_SCHEMA: dict[str, Any] = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
OFFSET_DATE_TIME_JSON_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": OFFSET_DATE_TIME_PATTERN,
}
LOCAL_DATE_TIME_JSON_SCHEMA: dict[str, Any] = {"type": "string", "pattern": LOCAL_DATE_TIME_PATTERN}

UUID_EXPECTED = (
    "a UUID string in canonical form, 8-4-4-4-12 hexadecimal digits (e.g. 123e4567-e89b-12d3-a456-426614174000)"
)
OFFSET_DATE_TIME_EXPECTED = "an ISO 8601 date-time string with seconds and an offset (e.g. 2026-03-02T10:00:00+01:00)"
LOCAL_DATE_TIME_EXPECTED = (
    "an ISO 8601 date-time string with seconds, with or without an offset (e.g. 2026-03-02T10:00:00)"
)


class _TextForm:
    """A JSON string of a given form, parsed into a Python value by pydantic-core: ``gate`` (an instance, or a
    string matching ``pattern``, else the error ``error_type``) chained to ``parsed`` (the lax parser)."""

    def __init__(
        self,
        *,
        instance: CoreSchema,
        pattern: str,
        parsed: CoreSchema,
        error_type: str,
        message: str,
        json_schema: dict[str, Any],
    ) -> None:
        self.instance, self.pattern, self.parsed = instance, pattern, parsed
        self.error_type, self.message, self.json_schema = error_type, message, json_schema

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        text = core_schema.str_schema(pattern=self.pattern, strict=True)
        gate = core_schema.union_schema(
            [text, self.instance],
            custom_error_type=self.error_type,
            custom_error_message=self.message,
        )
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema([text, self.parsed]),
            python_schema=core_schema.chain_schema([gate, self.parsed]),
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return dict(self.json_schema)


# A UUID in an input: the canonical text form (or a uuid.UUID).
Uuid = Annotated[
    uuid.UUID,
    _TextForm(
        instance=core_schema.uuid_schema(strict=True),
        pattern=UUID_PATTERN,
        parsed=core_schema.uuid_schema(strict=False),
        error_type="uuid_text",
        message="Input should be a UUID string in canonical form (8-4-4-4-12 hexadecimal digits)",
        json_schema=UUID_JSON_SCHEMA,
    ),
]

# A date-time in an input: RFC 3339 with an offset (an aware datetime); naive values are a ValidationError.
OffsetDateTime = Annotated[
    datetime,
    _TextForm(
        instance=core_schema.datetime_schema(strict=True),
        pattern=OFFSET_DATE_TIME_PATTERN,
        parsed=core_schema.datetime_schema(strict=False, tz_constraint="aware"),
        error_type="date_time_text",
        message="Input should be an ISO 8601 date-time string with seconds and an offset",
        json_schema=OFFSET_DATE_TIME_JSON_SCHEMA,
    ),
]

# A date-time in an input that may come without an offset (the action says in which time zone it is read).
LocalDateTime = Annotated[
    datetime,
    _TextForm(
        instance=core_schema.datetime_schema(strict=True),
        pattern=LOCAL_DATE_TIME_PATTERN,
        parsed=core_schema.datetime_schema(strict=False),
        error_type="local_date_time_text",
        message="Input should be an ISO 8601 date-time string with seconds",
        json_schema=LOCAL_DATE_TIME_JSON_SCHEMA,
    ),
]

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
    """A ``Uuid`` field with the workflow designer's picker metadata (kind, dependencies, hint, dynamic references)."""
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
