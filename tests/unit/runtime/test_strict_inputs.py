"""Strict inputs (issue 10): every action's input follows JSON types strictly, and the published JSON Schema says
so.

The fields are found from the registry: each action's published input schema is walked, and every field is tried
with the values its kind must refuse (a number for a date-time, "25" for an integer, "yes" and 0 for a boolean, a
UUID without hyphens, a date without a time, ...) and with those it must accept, on top of one valid input per
action. A new action or field is covered without touching this file, except for the valid input of a new action.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pydantic
import pytest

from crm_core.actions.fields import LOCAL_DATE_TIME_PATTERN, OFFSET_DATE_TIME_PATTERN, UUID_PATTERN
from crm_core.errors import ValidationError
from crm_core.runtime.envelope import MAX_ACTUAL_CHARS, parse_envelope, validation_error_from
from crm_core.runtime.handler import ActionRunner
from crm_core.runtime.registry import all_specs, get_spec
from crm_core.runtime.schemas import input_json_schema

ID = "7a2cb54b-7e63-44d6-b45e-fedc1ad3ed06"
OTHER_ID = "0c6af2ff-ebb1-48c8-911a-ee19f442a820"
AT = "2026-03-02T10:00:00+01:00"

# One valid input per action: the smallest that passes the input schema (the action may still refuse it later).
VALID_INPUTS: dict[str, dict[str, Any]] = {
    "crm.add_quote_item": {"quote_id": ID, "description": "Firewall", "quantity": 2, "unit_price": 1500},
    "crm.approve_quote": {"quote_id": ID, "decision": "approve"},
    "crm.convert_quote": {"quote_id": ID, "target": "invoice"},
    "crm.create_activity_note": {"target": {"type": "client", "id": ID}, "body": "Called about renewal."},
    "crm.create_interaction_type": {"type_name": "Site Visit"},
    "crm.create_quote": {
        "client_id": ID,
        "title": "Network refresh",
        "quote_date": "2026-06-01",
        "valid_until": "2026-06-30T00:00:00Z",
    },
    "crm.create_quote_from_template": {"template_id": ID, "client_id": OTHER_ID},
    "crm.find_activities": {"client_id": ID, "date_from": AT, "limit": 10},
    "crm.find_quotes": {"client_id": ID, "date_from": AT, "limit": 10},
    "crm.schedule_activity": {"client_id": ID, "type_id": OTHER_ID, "title": "Follow-up", "start_time": AT},
    "crm.send_quote": {"quote_id": ID},
    "crm.submit_quote_for_approval": {"quote_id": ID},
    "crm.tag_activity": {"activity_id": ID, "tags": ["vip"]},
    "crm.tag_entity": {"target": {"type": "client", "id": ID}, "tags": ["vip"]},
    "crm.update_activity": {"activity_id": ID, "patch": {"title": "Renamed"}},
    "crm.update_activity_status": {"activity_id": ID, "status_name": "Completed"},
}

UUID_REFUSED = [
    5,
    True,
    "not-a-uuid",
    ID.replace("-", ""),  # 32 digits without hyphens
    "{" + ID + "}",
    "urn:uuid:" + ID,
    " " + ID,
    ID + "\n",
    ID[:-1] + "g",
    ["x"],
]
UUID_ACCEPTED = [(ID, uuid.UUID(ID)), (ID.upper(), uuid.UUID(ID)), (uuid.UUID(ID), uuid.UUID(ID))]

DATE_TIME_REFUSED = [
    1_772_442_000,  # seconds since 1970
    1_772_442_000.5,
    "1772442000",
    True,
    "2026-03-02",  # a date without a time
    "2026-03-02T10:00Z",  # no seconds
    "2026-03-02 10:00:00Z",  # no T
    "2026-03-02T10:00:00+0100",  # offset without colon
    " 2026-03-02T10:00:00Z",
    "2026-02-30T10:00:00Z",  # no such day
    "next Tuesday",
]
NAIVE = "2026-03-02T10:00:00"
OFFSET_ACCEPTED = [
    (AT, datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
    ("2026-03-02T09:00:00.250Z", datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC)),
    (datetime(2026, 3, 2, 4, 0, tzinfo=timezone(timedelta(hours=-5))), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
]
INTEGER_REFUSED = ["25", "1", 1.0, 2.5, True, False, [1]]
BOOLEAN_REFUSED = ["yes", "true", "false", 0, 1, 1.0, "1", [True]]
STRING_REFUSED = [25, 2.5, True, ["text"], {"text": "x"}]
ARRAY_REFUSED = ["vip", 5, True, {"0": "vip"}]
OBJECT_REFUSED = ["{}", 5, True, ["x"]]


@dataclass(frozen=True)
class FieldCase:
    """One input field of one action: where it is, its kind and whether null is allowed."""

    action_id: str
    path: tuple[str, ...]
    kind: str
    nullable: bool
    schema: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.action_id}:{'.'.join(self.path)}"


def _flat(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for branch in schema["anyOf"] for o in _flat(branch)] if "anyOf" in schema else [schema]


def _branches(schema: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    options = _flat(schema)
    non_null = [o for o in options if o.get("type") != "null"]
    return non_null, len(non_null) < len(options)


def _kind(options: list[dict[str, Any]]) -> str:
    formats = {o.get("format") for o in options}
    if formats == {"date-time", "date"}:
        return "quote_date"
    (only,) = options
    if only.get("format") == "uuid":
        return "uuid"
    if only.get("format") == "date-time":
        return "offset_date_time"
    if only.get("pattern") == LOCAL_DATE_TIME_PATTERN:
        return "local_date_time"
    kind: str = only.get("type", "object" if "properties" in only else "unknown")
    return kind


def _fields(action_id: str, schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[FieldCase]:
    for name, prop in schema.get("properties", {}).items():
        options, nullable = _branches(prop)
        kind = _kind(options)
        yield FieldCase(action_id, (*prefix, name), kind, nullable, options[0])
        if kind == "object":
            yield from _fields(action_id, options[0], (*prefix, name))


def all_field_cases() -> list[FieldCase]:
    return [case for spec in all_specs() for case in _fields(spec.id, input_json_schema(spec.input_model))]


FIELD_CASES = all_field_cases()


def with_value(case: FieldCase, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID_INPUTS[case.action_id])
    node = data
    for part in case.path[:-1]:
        node = node.setdefault(part, {})
        if part == "target" and case.path[-1] != "type":
            node.setdefault("type", "client")
        if part == "target" and case.path[-1] != "id":
            node.setdefault("id", ID)
    node[case.path[-1]] = value
    return data


def field_problems(case: FieldCase, value: Any) -> list[dict[str, Any]]:
    """The errors the action's input model reports at this field for ``value`` on top of its valid input."""
    model = get_spec(case.action_id).input_model
    try:
        model.model_validate(with_value(case, value))
    except pydantic.ValidationError as exc:
        return [e for e in exc.errors() if tuple(str(p) for p in e["loc"]) == case.path]
    return []


def parsed_value(case: FieldCase, value: Any) -> Any:
    result: Any = get_spec(case.action_id).input_model.model_validate(with_value(case, value))
    for part in case.path:
        result = getattr(result, part) if not isinstance(result, dict) else result[part]
    return result


def cases_of(*kinds: str) -> list[Any]:
    return [pytest.param(case, id=str(case)) for case in FIELD_CASES if case.kind in kinds]


def test_every_action_has_a_valid_input_that_passes_its_schema() -> None:
    assert sorted(VALID_INPUTS) == sorted(spec.id for spec in all_specs())
    assert len(VALID_INPUTS) == 16
    for spec in all_specs():
        spec.input_model.model_validate(VALID_INPUTS[spec.id])
        jsonschema.Draft202012Validator(input_json_schema(spec.input_model)).validate(VALID_INPUTS[spec.id])


def test_every_field_has_a_known_kind() -> None:
    kinds = {case.kind for case in FIELD_CASES}
    assert kinds <= {
        "uuid",
        "offset_date_time",
        "local_date_time",
        "quote_date",
        "integer",
        "boolean",
        "string",
        "array",
        "object",
    }, [str(c) for c in FIELD_CASES if c.kind == "unknown"]
    # Every kind is present somewhere, so each rule below really runs.
    assert kinds >= {"uuid", "offset_date_time", "local_date_time", "quote_date", "integer", "boolean", "string"}


@pytest.mark.parametrize("case", cases_of("uuid"))
def test_uuids_only_in_canonical_text_form(case: FieldCase) -> None:
    for value in UUID_REFUSED:
        assert [p["type"] for p in field_problems(case, value)] == ["uuid_text"], value
    for value, expected in UUID_ACCEPTED:
        assert parsed_value(case, value) == expected


@pytest.mark.parametrize("case", cases_of("offset_date_time"))
def test_date_times_need_a_time_seconds_and_an_offset(case: FieldCase) -> None:
    for value in [*DATE_TIME_REFUSED, NAIVE]:
        assert field_problems(case, value), value
    for value, expected in OFFSET_ACCEPTED:
        assert parsed_value(case, value) == expected


@pytest.mark.parametrize("case", cases_of("local_date_time"))
def test_local_date_times_may_leave_out_the_offset_but_not_the_time(case: FieldCase) -> None:
    for value in DATE_TIME_REFUSED:
        assert field_problems(case, value), value
    assert parsed_value(case, NAIVE) == datetime(2026, 3, 2, 10, 0)
    for value, expected in OFFSET_ACCEPTED:
        assert parsed_value(case, value) == expected


@pytest.mark.parametrize("case", cases_of("quote_date"))
def test_quote_dates_are_date_times_with_offset_or_plain_dates(case: FieldCase) -> None:
    for value in [v for v in DATE_TIME_REFUSED if v != "2026-03-02"] + [NAIVE]:
        assert field_problems(case, value), value
    assert parsed_value(case, "2026-03-02") == datetime(2026, 3, 2, tzinfo=UTC)
    assert parsed_value(case, AT) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("case", cases_of("integer"))
def test_integers_are_json_integers(case: FieldCase) -> None:
    for value in INTEGER_REFUSED:
        assert [p["type"] for p in field_problems(case, value)] == ["int_type"], value
    good = case.schema.get("minimum", case.schema.get("exclusiveMinimum", 0) + 1)
    assert parsed_value(case, good) == good


@pytest.mark.parametrize("case", cases_of("boolean"))
def test_booleans_are_true_or_false(case: FieldCase) -> None:
    for value in BOOLEAN_REFUSED:
        assert [p["type"] for p in field_problems(case, value)] == ["bool_type"], value
    assert parsed_value(case, True) is True
    assert parsed_value(case, False) is False


@pytest.mark.parametrize("case", cases_of("string"))
def test_text_is_a_json_string(case: FieldCase) -> None:
    for value in STRING_REFUSED:
        assert field_problems(case, value), value


@pytest.mark.parametrize("case", cases_of("array"))
def test_lists_are_json_arrays(case: FieldCase) -> None:
    for value in ARRAY_REFUSED:
        assert field_problems(case, value), value


@pytest.mark.parametrize("case", cases_of("object"))
def test_nested_objects_are_json_objects(case: FieldCase) -> None:
    for value in OBJECT_REFUSED:
        assert field_problems(case, value), value


@pytest.mark.parametrize("case", [pytest.param(c, id=str(c)) for c in FIELD_CASES if not c.nullable])
def test_null_only_where_the_schema_allows_it(case: FieldCase) -> None:
    assert field_problems(case, None), "null accepted where the schema does not allow it"


# The published JSON Schema agrees: what the model refuses for its type, the schema refuses too, and the valid
# inputs pass both. (The one value JSON Schema cannot tell apart is 1.0, an "integer" there and refused here.)
_SCHEMA_REFUSED = {
    "uuid": [v for v in UUID_REFUSED if not isinstance(v, uuid.UUID)],
    "offset_date_time": [*DATE_TIME_REFUSED, NAIVE],
    "local_date_time": DATE_TIME_REFUSED,
    "integer": [v for v in INTEGER_REFUSED if v != 1.0],
    "boolean": BOOLEAN_REFUSED,
    "string": STRING_REFUSED,
}


def _schema_valid(case: FieldCase, value: Any) -> bool:
    schema = input_json_schema(get_spec(case.action_id).input_model)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return bool(validator.is_valid(with_value(case, value)))


@pytest.mark.parametrize("case", cases_of(*_SCHEMA_REFUSED))
def test_the_published_schema_refuses_what_the_model_refuses(case: FieldCase) -> None:
    for value in _SCHEMA_REFUSED[case.kind]:
        if value == "2026-02-30T10:00:00Z":
            continue  # a calendar check only the date-time format checker (an optional package) makes
        assert not _schema_valid(case, value), value


@pytest.mark.parametrize("case", cases_of("uuid", "offset_date_time", "local_date_time", "quote_date"))
def test_the_published_schema_accepts_what_the_model_accepts(case: FieldCase) -> None:
    accepted = {
        "uuid": [ID, ID.upper()],
        "offset_date_time": [AT, "2026-03-02T09:00:00.250Z"],
        "local_date_time": [AT, NAIVE],
        "quote_date": [AT, "2026-03-02"],
    }[case.kind]
    for value in accepted:
        assert _schema_valid(case, value), value


def test_the_text_patterns_are_in_the_schema() -> None:
    find = input_json_schema(get_spec("crm.find_activities").input_model)["properties"]
    assert find["client_id"]["anyOf"][0]["pattern"] == UUID_PATTERN
    assert find["client_id"]["anyOf"][0]["format"] == "uuid"
    assert find["date_from"]["anyOf"][0] == {
        "type": "string",
        "format": "date-time",
        "pattern": OFFSET_DATE_TIME_PATTERN,
    }
    schedule = input_json_schema(get_spec("crm.schedule_activity").input_model)["properties"]
    assert schedule["start_time"]["pattern"] == LOCAL_DATE_TIME_PATTERN
    assert "format" not in schedule["start_time"]  # date-time would promise an offset


# The envelope is strict the same way.


def envelope(**changes: Any) -> dict[str, Any]:
    return {"tenant_id": ID, "actor_user_id": OTHER_ID, "input": {}, **changes}


def envelope_problem(**changes: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        parse_envelope(envelope(**changes))
    (problem,) = caught.value.details["errors"]
    return dict(problem)


@pytest.mark.parametrize("name", ["tenant_id", "actor_user_id"])
@pytest.mark.parametrize("value", UUID_REFUSED)
def test_envelope_ids_are_canonical_uuid_text(name: str, value: Any) -> None:
    assert envelope_problem(**{name: value})["type"] == "uuid_text"


@pytest.mark.parametrize("value", BOOLEAN_REFUSED)
def test_envelope_dry_run_is_true_or_false(value: Any) -> None:
    assert envelope_problem(dry_run=value)["type"] == "bool_type"


@pytest.mark.parametrize("name", ["run_id", "step_path", "idempotency_key"])
@pytest.mark.parametrize("value", [5, True, ["x"]])
def test_envelope_names_are_strings(name: str, value: Any) -> None:
    assert envelope_problem(**{name: value})["type"] == "string_type"


def test_envelope_accepts_upper_case_ids_and_booleans() -> None:
    parsed = parse_envelope(envelope(tenant_id=ID.upper(), dry_run=True))
    assert (parsed.tenant_id, parsed.dry_run) == (uuid.UUID(ID), True)


# The error: expected and actual value per field (CONTRACT section 5), actual cut to 200 characters.


def input_refusal(action_id: str, raw: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        ActionRunner(get_spec(action_id))._parse_input(raw)
    return caught.value


def test_error_names_field_expected_and_actual() -> None:
    error = input_refusal("crm.find_activities", {"client_id": ID, "limit": "25", "include_total": 0})

    by_field = {p["field"]: p for p in error.details["errors"]}
    assert by_field["input.limit"] == {
        "field": "input.limit",
        "message": "Input should be a valid integer",
        "type": "int_type",
        "expected": "an integer: a JSON number without a fraction (not a string, not a boolean, not 1.0)",
        "actual": "25",
        "actual_type": "string",
    }
    assert (by_field["input.include_total"]["actual"], by_field["input.include_total"]["actual_type"]) == (
        0,
        "integer",
    )
    assert by_field["input.include_total"]["expected"].startswith("a boolean")
    assert 'input.limit: Input should be a valid integer (got "25")' in error.message
    assert "input.include_total: Input should be a valid boolean (got 0)" in error.message
    assert json.loads(str(error))["details"] == error.details


def test_error_for_a_date_time_says_what_form_is_expected() -> None:
    error = input_refusal("crm.find_activities", {"client_id": ID, "date_from": 1_772_442_000})

    (problem,) = error.details["errors"]
    assert problem["field"] == "input.date_from"
    assert problem["type"] == "date_time_text"
    assert (
        problem["expected"]
        == "an ISO 8601 date-time string with seconds and an offset (e.g. 2026-03-02T10:00:00+01:00)"
    )
    assert (problem["actual"], problem["actual_type"]) == (1_772_442_000, "integer")


def test_nested_field_errors_name_the_path() -> None:
    error = input_refusal("crm.update_activity", {"activity_id": ID, "patch": {"duration": "30"}})

    (problem,) = error.details["errors"]
    assert (problem["field"], problem["actual"]) == ("input.patch.duration", "30")


def test_long_actual_values_are_cut_to_200_characters() -> None:
    text = "x" * 100_000
    error = input_refusal("crm.find_activities", {"client_id": ID, "limit": text, "cursor": ["y" * 500]})

    by_field = {p["field"]: p for p in error.details["errors"]}
    assert len(by_field["input.limit"]["actual"]) == MAX_ACTUAL_CHARS == 200
    assert by_field["input.limit"]["actual"] == "x" * 199 + "…"
    cursor = by_field["input.cursor"]
    assert cursor["actual_type"] == "array"
    assert len(cursor["actual"]) == 200 and cursor["actual"].startswith('["yyy')
    assert len(error.message) < 1000


def test_unknown_and_missing_fields() -> None:
    error = input_refusal("crm.tag_activity", {"activity_id": ID, "colour": "blue"})

    by_field = {p["field"]: p for p in error.details["errors"]}
    assert (by_field["input.tags"]["actual"], by_field["input.tags"]["actual_type"]) == (None, "missing")
    assert by_field["input.tags"]["expected"] == "a value (the field is required)"
    assert (by_field["input.colour"]["actual"], by_field["input.colour"]["type"]) == ("blue", "extra_forbidden")


def test_literal_errors_list_the_choices() -> None:
    error = input_refusal("crm.convert_quote", {"quote_id": ID, "target": "contracts"})

    (problem,) = error.details["errors"]
    assert problem["expected"] == "one of 'contract', 'invoice' or 'contract_and_invoice'"


def test_at_most_25_problems_are_listed() -> None:
    model = pydantic.create_model("Many", **{f"f{i}": (int, ...) for i in range(40)})  # type: ignore[call-overload]
    with pytest.raises(pydantic.ValidationError) as caught:
        model.model_validate({f"f{i}": "x" for i in range(40)})

    error = validation_error_from(caught.value, what="input", prefix="input")

    assert len(error.details["errors"]) == 25
    assert error.details["errors_not_listed"] == 15
    assert error.message.endswith("; and 35 more")
