"""Conformance rules that need no database: idempotency errors map to the right class, and derived keys read
date-times in UTC."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
)

from crm_core.errors import TransientError, ValidationError
from crm_core.runtime.error_mapping import to_action_failure
from crm_core.runtime.idempotency import canonical_input, input_hash
from tests.support.inputs import schedule_input


def test_inconsistent_idempotency_state_is_transient() -> None:
    failure = to_action_failure(IdempotencyInconsistentStateError("record changed"))

    assert isinstance(failure, TransientError)
    assert failure.code == "TRANSIENT_FAILURE"


def _refused_then_cleanup_failed() -> IdempotencyPersistenceLayerError:
    """What Powertools raises when the action refused the call and deleting its record then failed."""
    try:
        try:
            raise ValidationError("start_time must not be after end_time", {"rule": "start_not_after_end"})
        except ValidationError:
            try:
                raise ConnectionError("DynamoDB unreachable")
            except ConnectionError as delete_error:
                raise IdempotencyPersistenceLayerError("Failed to delete record", delete_error) from delete_error
    except IdempotencyPersistenceLayerError as exc:
        return exc


def test_a_refusal_keeps_its_class_when_cleaning_the_idempotency_record_fails() -> None:
    failure = to_action_failure(_refused_then_cleanup_failed())

    assert isinstance(failure, ValidationError)
    assert failure.details == {"rule": "start_not_after_end"}


def test_a_store_failure_without_a_refusal_behind_it_stays_transient() -> None:
    assert isinstance(to_action_failure(IdempotencyPersistenceLayerError("store down")), TransientError)


def test_derived_key_reads_date_times_in_utc() -> None:
    local = schedule_input(start_time="2027-03-02T20:00:00+05:00")
    utc = schedule_input(start_time="2027-03-02T15:00:00Z")

    assert input_hash(local) == input_hash(utc)
    assert canonical_input(local)["start_time"] == canonical_input(utc)["start_time"]


def test_different_instants_still_differ() -> None:
    assert input_hash(schedule_input(start_time="2027-03-02T15:00:00+05:00")) != input_hash(
        schedule_input(start_time="2027-03-02T15:00:00Z")
    )
