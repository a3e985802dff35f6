"""Canonical JSON, input hashes and idempotency keys: equal for inputs that mean the same thing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crm_core.actions.activities.create_activity_note import CreateActivityNoteInput
from crm_core.jsonable import canonical_json, jsonable
from crm_core.runtime import get_spec
from crm_core.runtime.envelope import parse_envelope
from crm_core.runtime.idempotency import canonical_input, idempotency_key, input_hash
from tests.support.inputs import schedule_input

TENANT = uuid.UUID(int=0x7E)
CLIENT = uuid.UUID(int=0xC1)


def test_jsonable_turns_uuids_dates_and_decimals_into_json_types() -> None:
    value = {
        "id": CLIENT,
        "at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        "day": date(2026, 3, 2),
        "amount": Decimal("12.50"),
        "items": (1, 2),
    }

    assert jsonable(value) == {
        "id": str(CLIENT),
        "at": "2026-03-02T09:00:00Z",
        "day": "2026-03-02",
        "amount": "12.50",
        "items": [1, 2],
    }


def test_canonical_json_sorts_keys_has_no_spaces_and_keeps_unicode() -> None:
    assert canonical_json({"b": [1, {"d": 2, "c": 3}], "a": "é"}) == '{"a":"é","b":[1,{"c":3,"d":2}]}'


def test_canonical_json_keeps_the_offset_of_a_date_time() -> None:
    plus_one = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))

    assert canonical_json(plus_one) == '"2026-03-02T10:00:00+01:00"'


def note(**fields: object) -> CreateActivityNoteInput:
    return CreateActivityNoteInput.model_validate(
        {"target": {"type": "client", "id": str(CLIENT)}, "body": "Follow up on renewal", **fields}
    )


def test_an_explicit_default_hashes_like_the_omitted_one() -> None:
    assert input_hash(note(visibility="internal")) == input_hash(note())


def test_key_order_does_not_change_the_hash() -> None:
    reordered = CreateActivityNoteInput.model_validate(
        {"body": "Follow up on renewal", "target": {"id": str(CLIENT), "type": "client"}}
    )

    assert input_hash(reordered) == input_hash(note())


def test_another_input_hashes_differently() -> None:
    assert input_hash(note(body="Something else")) != input_hash(note())
    assert len(input_hash(note())) == 64


def test_the_idempotency_key_is_not_part_of_the_input_hash() -> None:
    assert "idempotency_key" not in canonical_input(schedule_input(idempotency_key="k"))
    assert input_hash(schedule_input(idempotency_key="k")) == input_hash(schedule_input())


def envelope_with(**fields: object):
    return parse_envelope({"tenant_id": str(TENANT), "actor_user_id": str(uuid.UUID(int=1)), "input": {}, **fields})


def test_the_envelopes_key_names_the_call() -> None:
    spec = get_spec("crm.create_activity_note")

    key = idempotency_key(
        spec, envelope_with(idempotency_key="note-1"), note(), run_id="r", step_path="s", payload_hash="h"
    )

    assert key == f"{TENANT}:crm.create_activity_note@1:note-1"


def test_without_a_key_the_run_step_and_input_hash_name_the_call() -> None:
    spec = get_spec("crm.create_activity_note")

    key = idempotency_key(spec, envelope_with(), note(), run_id="exec-1", step_path="notify", payload_hash="abc")

    assert key == f"{TENANT}:crm.create_activity_note@1:exec-1:notify:abc"


@pytest.mark.parametrize(
    ("envelope_key", "input_key", "expected_suffix"),
    [
        (None, " qbr-2027 ", "qbr-2027"),  # the input's key, trimmed
        ("from-envelope", "from-input", "from-envelope"),  # the envelope's wins
        (None, None, "run:step:hash"),
    ],
)
def test_an_action_provided_key_comes_from_the_input(
    envelope_key: str | None, input_key: str | None, expected_suffix: str
) -> None:
    spec = get_spec("crm.schedule_activity")
    payload = schedule_input(idempotency_key=input_key)
    envelope = envelope_with(idempotency_key=envelope_key) if envelope_key else envelope_with()

    key = idempotency_key(spec, envelope, payload, run_id="run", step_path="step", payload_hash="hash")

    assert key == f"{TENANT}:crm.schedule_activity@1:{expected_suffix}"


def test_an_engine_provided_action_ignores_a_key_in_its_input() -> None:
    spec = get_spec("crm.create_activity_note")
    payload = schedule_input(idempotency_key="in-the-input")

    key = idempotency_key(spec, envelope_with(), payload, run_id="run", step_path="step", payload_hash="hash")

    assert spec.idempotency == "engineProvided"
    assert key == f"{TENANT}:crm.create_activity_note@1:run:step:hash"
