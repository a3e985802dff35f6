"""The invocation event every function takes (tenant, actor, input, run, step, key, dry run) and the
translation of pydantic errors into ValidationError."""

from __future__ import annotations

import json
import math
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from crm_core.actions.fields import (
    LOCAL_DATE_TIME_EXPECTED,
    OFFSET_DATE_TIME_EXPECTED,
    UUID_EXPECTED,
    Uuid,
)
from crm_core.errors import ValidationError

# CONTRACT section 5: the actual value in an error's details is cut to this many characters.
MAX_ACTUAL_CHARS = 200
# At most this many field problems are listed (a Step Functions error cause holds 32 KiB).
MAX_LISTED_PROBLEMS = 25
_SUMMARY_ACTUAL_CHARS = 60
_ELLIPSIS = "…"


class Envelope(BaseModel):
    """Every function's event. Other top-level keys are ignored, so a Step Functions state can be passed whole.

    Strict like the inputs: ids are UUID strings in canonical form, ``dry_run`` is ``true`` or ``false``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    tenant_id: Uuid
    actor_user_id: Uuid
    input: dict[str, Any]
    run_id: str | None = Field(default=None, min_length=1, max_length=512)
    step_path: str | None = Field(default=None, min_length=1, max_length=512)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=512)
    dry_run: bool = False


# What was expected, by pydantic error type, where the message alone does not say it in a caller's terms.
_EXPECTED_BY_TYPE: dict[str, str] = {
    "missing": "a value (the field is required)",
    "extra_forbidden": "no such field (the input takes only the fields of its schema)",
    "int_type": "an integer: a JSON number without a fraction (not a string, not a boolean, not 1.0)",
    "int_parsing": "an integer: a JSON number without a fraction",
    "int_from_float": "an integer: a JSON number without a fraction",
    "bool_type": "a boolean: true or false (not a string, not a number)",
    "string_type": "a string",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "uuid_text": UUID_EXPECTED,
    "uuid_type": UUID_EXPECTED,
    "uuid_parsing": UUID_EXPECTED,
    "date_time_text": OFFSET_DATE_TIME_EXPECTED,
    "local_date_time_text": LOCAL_DATE_TIME_EXPECTED,
    "timezone_aware": OFFSET_DATE_TIME_EXPECTED,
}

_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int in Python
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (tuple, "array"),
    (dict, "object"),
)


def _location(error: Any, prefix: str) -> str:
    parts = [str(p) for p in error.get("loc", ())]
    return ".".join([prefix, *parts]) if prefix else ".".join(parts) or "(root)"


def json_type_name(value: Any) -> str:
    """The JSON type of a decoded value: null, boolean, integer, number, string, array or object."""
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def actual_value(value: Any, limit: int = MAX_ACTUAL_CHARS) -> Any:
    """The value a caller sent, for an error's details: a boolean, integer, finite number or null as it is,
    a string cut to ``limit`` characters, anything else (arrays, objects) as JSON text cut to ``limit``."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _cut(value, limit)
    # Arrays and objects: their JSON text, cut (a huge one is only rendered up to a bounded size).
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # circular, only possible for objects built in the process
        text = repr(value)
    return _cut(text, limit)


def expected_text(error: Any) -> str:
    """What the field expected, in a workflow author's words."""
    error_type = error["type"]
    if error_type in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[error_type]
    context = error.get("ctx") or {}
    if error_type == "literal_error":
        return f"one of {context.get('expected', '')}"
    if "expected" in context and isinstance(context["expected"], str):
        return context["expected"]
    message: str = error["msg"]
    for lead in ("Input should be ", "Value error, "):
        if message.startswith(lead):
            return message[len(lead) :]
    return message


def _summary_actual(actual: Any) -> str:
    return _cut(json.dumps(actual, ensure_ascii=False, default=str), _SUMMARY_ACTUAL_CHARS)


def validation_error_from(exc: pydantic.ValidationError, *, what: str, prefix: str = "") -> ValidationError:
    """A contract ValidationError listing every field problem pydantic found, in words a workflow author reads.

    Each problem names the field, the message, pydantic's error type, what was expected and the actual value
    (cut to 200 characters) with its JSON type; a missing field has ``actual_type`` ``missing``.
    """
    problems: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False, include_context=True, include_input=True):
        problem: dict[str, Any] = {
            "field": _location(error, prefix),
            "message": error["msg"],
            "type": error["type"],
            "expected": expected_text(error),
        }
        if error["type"] == "missing":
            problem.update(actual=None, actual_type="missing")
        else:
            raw = error.get("input")
            problem.update(actual=actual_value(raw), actual_type=json_type_name(raw))
        problems.append(problem)

    def described(p: dict[str, Any]) -> str:
        if p["actual_type"] == "missing":
            return f"{p['field']}: {p['message']}"
        return f"{p['field']}: {p['message']} (got {_summary_actual(p['actual'])})"

    summary = "; ".join(described(p) for p in problems[:5])
    if len(problems) > 5:
        summary += f"; and {len(problems) - 5} more"
    details: dict[str, Any] = {"rule": "schema", "errors": problems[:MAX_LISTED_PROBLEMS]}
    if len(problems) > MAX_LISTED_PROBLEMS:
        details["errors_not_listed"] = len(problems) - MAX_LISTED_PROBLEMS
    return ValidationError(f"Invalid {what}: {summary}", details)


def require_unicode_text(event: Any) -> None:
    """ValidationError naming the first string (or key) of ``event`` that holds a lone surrogate.

    JSON may carry a lone surrogate (``"\\ud800"``); UTF-8, and so PostgreSQL, DynamoDB and the input hash, cannot.
    Checked once for the whole event, by encoding its JSON text (a few microseconds); the walk that finds the
    field runs only when that fails.
    """
    try:
        json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        field, text = _first_lone_surrogate(event, "")
        shown = text.encode("utf-8", "backslashreplace").decode("utf-8")
        raise ValidationError(
            f"Invalid event: {field} is not valid Unicode text (it holds a lone surrogate)",
            {
                "rule": "schema",
                "errors": [
                    {
                        "field": field,
                        "message": "Text must be valid Unicode: a lone surrogate cannot be stored",
                        "type": "unicode_surrogate",
                        "expected": "valid Unicode text (surrogates only in pairs)",
                        "actual": shown[:200],
                        "actual_type": "string",
                    }
                ],
            },
        ) from None


def _first_lone_surrogate(value: Any, path: str) -> tuple[str, str]:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "event", value
    elif isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            shown_key = key_text.encode("utf-8", "backslashreplace").decode("utf-8")
            field = f"{path}.{shown_key}" if path else shown_key
            try:
                key_text.encode("utf-8")
            except UnicodeEncodeError:
                return field, key_text
            found = _first_lone_surrogate(item, field)
            if found[1]:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _first_lone_surrogate(item, f"{path}[{index}]")
            if found[1]:
                return found
    return path, ""


def parse_envelope(event: Any) -> Envelope:
    """The validated envelope; ValidationError when the event is not an object or a field is wrong."""
    if not isinstance(event, dict):
        raise ValidationError(
            "Invalid event: expected a JSON object with tenant_id, actor_user_id and input",
            {"rule": "schema", "expected": "object", "actual": json_type_name(event)},
        )
    try:
        return Envelope.model_validate(event)
    except pydantic.ValidationError as exc:
        raise validation_error_from(exc, what="event") from None
