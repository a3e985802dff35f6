"""The invocation event: parsed and checked before anything else runs, its errors in a workflow author's words."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from crm_core.errors import ValidationError
from crm_core.runtime.envelope import parse_envelope

TENANT = uuid.UUID(int=0x7E)
ACTOR = uuid.UUID(int=0xAC)


def event(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"tenant_id": str(TENANT), "actor_user_id": str(ACTOR), "input": {"body": "hello"}}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not ...}


def refusal(raw: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_envelope(raw)
    return caught.value


def test_a_minimal_event() -> None:
    envelope = parse_envelope(event())

    assert (envelope.tenant_id, envelope.actor_user_id, envelope.input) == (TENANT, ACTOR, {"body": "hello"})
    assert (envelope.run_id, envelope.step_path, envelope.idempotency_key, envelope.dry_run) == (
        None,
        None,
        None,
        False,
    )


def test_unknown_top_level_keys_are_ignored() -> None:
    envelope = parse_envelope(event(Comment="Step Functions state passed whole", previous={"x": 1}))

    assert envelope == parse_envelope(event())


@pytest.mark.parametrize("name", ["tenant_id", "actor_user_id", "input"])
def test_missing_field_is_validation_error(name: str) -> None:
    error = refusal(event(**{name: ...}))

    assert error.category == "ValidationError"
    assert error.code == "VALIDATION_ERROR"
    assert error.details == {
        "rule": "schema",
        "errors": [
            {
                "field": name,
                "message": "Field required",
                "type": "missing",
                "expected": "a value (the field is required)",
                "actual": None,
                "actual_type": "missing",
            }
        ],
    }


def test_bad_uuid_is_validation_error() -> None:
    error = refusal(event(actor_user_id="not-a-uuid"))

    assert error.details["errors"][0]["field"] == "actor_user_id"
    assert "actor_user_id" in error.message


@pytest.mark.parametrize(("raw", "json_type"), [(None, "null"), ([], "array"), ("text", "string"), (42, "integer")])
def test_event_that_is_not_an_object(raw: object, json_type: str) -> None:
    error = refusal(raw)

    assert error.details == {"rule": "schema", "expected": "object", "actual": json_type}


@pytest.mark.parametrize("value", ["yes", 1, "true", None])
def test_dry_run_must_be_a_boolean(value: object) -> None:
    assert refusal(event(dry_run=value)).details["errors"][0]["field"] == "dry_run"


@pytest.mark.parametrize("name", ["run_id", "step_path", "idempotency_key"])
@pytest.mark.parametrize("value", ["", "x" * 513])
def test_run_step_and_key_are_1_to_512_characters(name: str, value: str) -> None:
    assert refusal(event(**{name: value})).details["errors"][0]["field"] == name
    assert getattr(parse_envelope(event(**{name: "x" * 512})), name) == "x" * 512


def test_input_must_be_an_object() -> None:
    assert refusal(event(input=["body"])).details["errors"][0]["field"] == "input"


def test_the_message_sums_up_five_problems_and_counts_the_rest() -> None:
    many = {"tenant_id": "x", "actor_user_id": "y", "input": 1, "run_id": "", "step_path": "", "dry_run": "z"}

    error = refusal(many)

    assert len(error.details["errors"]) == 6
    assert error.message.startswith("Invalid event: tenant_id: ")
    assert error.message.endswith("; and 1 more")


def test_error_text_is_a_json_object_with_the_four_keys() -> None:
    error = refusal(event(tenant_id="x"))

    parsed = json.loads(str(error))
    assert set(parsed) == {"category", "code", "message", "details"}
    assert type(error).__name__ == "ValidationError"


def test_a_lone_surrogate_anywhere_in_the_event_is_a_validation_error_naming_its_field() -> None:
    from crm_core.runtime.envelope import require_unicode_text

    require_unicode_text({"input": {"title": "ok 👩‍💻 \u202e"}})  # pairs and marks are text
    for event, field in (
        ({"input": {"patch": {"title": "0\ud800"}}}, "input.patch.title"),
        ({"input": {"tags": ["a", "\udfff"]}}, "input.tags[1]"),
        ({"run_id": "\ud83d"}, "run_id"),
        ({"input": {"\ud800": 1}}, "input.\\ud800"),
    ):
        with pytest.raises(ValidationError) as refused:
            require_unicode_text(event)
        assert refused.value.details["errors"][0]["field"] == field
        json.dumps(refused.value.to_dict(), ensure_ascii=False).encode("utf-8")  # the error is valid text
