"""crm.update_activity_status end to end: by id or name, no-op when unchanged, guards, INTERACTION_UPDATED."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.activities import add_activity, at
from tests.support.errors import broken_rule
from tests.support.events import published
from tests.support.rows import activity_row, audit_rows, outbox_rows, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.update_activity_status"


@pytest.fixture
def activity(tenant: Tenant) -> uuid.UUID:
    return add_activity(tenant, when=at(0), contact_name_id=tenant.contact, status_id=tenant.seed.status_ids["Planned"])


def set_status(invoke, activity_id: uuid.UUID, *, envelope: dict[str, Any] | None = None, **fields: Any) -> dict:
    return invoke(
        ACTION, {"activity_id": str(activity_id), **{k: str(v) for k, v in fields.items()}}, **(envelope or {})
    )


def test_by_name_ignores_case_and_space(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    completed = tenant.seed.status_ids["Completed"]

    out = set_status(invoke, activity, status_name="  completed ", reason="call happened")

    assert out == {
        "activity_id": str(activity),
        "previous_status_id": str(tenant.seed.status_ids["Planned"]),
        "previous_status_name": "Planned",
        "current_status_id": str(completed),
        "current_status_name": "Completed",
        "no_op": False,
        "activity": out["activity"],
    }
    assert out["activity"]["status_id"] == str(completed)
    assert out["activity"]["status_name"] == "Completed"
    assert activity_row(engine, tenant.id, activity)["status_id"] == completed


def test_by_id(invoke, tenant: Tenant, activity: uuid.UUID, engine) -> None:
    cancelled = tenant.seed.status_ids["Cancelled"]

    out = set_status(invoke, activity, status_id=cancelled)

    assert out["current_status_name"] == "Cancelled"
    assert activity_row(engine, tenant.id, activity)["status_id"] == cancelled


def test_audit_and_event(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    completed = tenant.seed.status_ids["Completed"]
    set_status(invoke, activity, status_id=completed, reason="done", envelope={"run_id": "run-9"})

    (audit,) = audit_rows(engine, tenant.id, ACTION)
    assert audit["record_id"] == "run-9"
    assert audit["changed_data"] == {
        "activity_id": str(activity),
        "previous_status_id": str(tenant.seed.status_ids["Planned"]),
        "status_id": str(completed),
        "reason": "done",
    }
    (row,) = outbox_rows(engine, tenant.id)
    assert row["event_type"] == "INTERACTION_UPDATED"
    assert row["idempotency_key"].startswith(f"interaction_updated:{activity}:")
    (event,) = published(aws, "INTERACTION_UPDATED")
    detail = event["detail"]
    assert {k: detail[k] for k in ("interactionId", "clientId", "contactId", "userId", "changedFields")} == {
        "interactionId": str(activity),
        "clientId": str(tenant.client),
        "contactId": str(tenant.contact),
        "userId": str(tenant.actor),
        "changedFields": ["status_id"],
    }
    assert detail["idempotencyKey"] == row["idempotency_key"]


def test_activity_without_status_gets_one(invoke, tenant: Tenant) -> None:
    activity_id = add_activity(tenant, when=at(0))

    out = set_status(invoke, activity_id, status_name="Planned")

    assert (out["previous_status_id"], out["previous_status_name"]) == (None, None)
    assert out["current_status_name"] == "Planned"


def test_same_status_is_a_no_op(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    out = set_status(invoke, activity, status_name="Planned")

    assert out["no_op"] is True
    assert out["previous_status_id"] == out["current_status_id"] == str(tenant.seed.status_ids["Planned"])
    assert audit_rows(engine, tenant.id, ACTION) == []
    assert outbox_rows(engine, tenant.id) == []
    assert published(aws) == []


def test_same_status_without_no_op_is_recorded_but_emits_nothing(
    invoke, tenant: Tenant, activity: uuid.UUID, engine, aws
) -> None:
    out = invoke(ACTION, {"activity_id": str(activity), "status_name": "Planned", "no_op_if_already_status": False})

    assert out["no_op"] is False
    assert out["current_status_name"] == "Planned"
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1
    assert outbox_rows(engine, tenant.id) == []
    assert published(aws) == []


def test_unknown_name_lists_the_statuses_there_are(invoke, activity: uuid.UUID, engine, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as caught:
        set_status(invoke, activity, status_name="Done-ish")

    assert caught.value.message == "Target interaction status was not found"
    expected = ["Planned", "In Progress", "Completed", "Cancelled"]
    assert caught.value.details == broken_rule(
        "status_name_known", "status_name", expected, "Done-ish", status_type="interaction"
    )
    assert activity_row(engine, tenant.id, activity)["status_id"] == tenant.seed.status_ids["Planned"]


def test_name_of_a_ticket_status_is_not_an_interaction_status(invoke, tenant: Tenant, activity: uuid.UUID) -> None:
    tenant.seed.status("Escalated", status_type="ticket")

    with pytest.raises(ValidationError) as caught:
        set_status(invoke, activity, status_name="Escalated")

    assert caught.value.details["rule"] == "status_name_known"


def test_name_matching_two_statuses_is_ambiguous(invoke, tenant: Tenant, activity: uuid.UUID) -> None:
    first = tenant.seed.status("Waiting")
    second = tenant.seed.status("waiting ")

    with pytest.raises(ValidationError) as caught:
        set_status(invoke, activity, status_name="WAITING")

    assert caught.value.details["rule"] == "status_name_unambiguous"
    assert sorted(caught.value.details["actual"]) == sorted([str(first), str(second)])


def test_id_of_a_ticket_status_is_refused(invoke, tenant: Tenant, activity: uuid.UUID) -> None:
    ticket_status = tenant.seed.status("Open", status_type="ticket")

    with pytest.raises(ValidationError) as caught:
        set_status(invoke, activity, status_id=ticket_status)

    details = caught.value.details  # the shared rule's whole refusal: test_find_activities
    assert (details["rule"], details["field"], details["status_id"]) == (
        "status_is_interaction_status",
        "status_id",
        str(ticket_status),
    )


def test_status_of_another_tenant_is_a_validation_error(invoke, activity: uuid.UUID, other_tenant: Tenant) -> None:
    theirs = other_tenant.seed.status_ids["Completed"]

    with pytest.raises(ValidationError) as caught:
        set_status(invoke, activity, status_id=theirs)

    assert caught.value.message == "Target interaction status was not found"
    assert (caught.value.details["rule"], caught.value.details["actual"]) == ("status_exists", str(theirs))


def test_activity_of_another_tenant_is_not_found(invoke, other_tenant: Tenant, engine) -> None:
    theirs = add_activity(other_tenant, when=at(0), status_id=other_tenant.seed.status_ids["Planned"])

    with pytest.raises(NotFoundError) as caught:
        set_status(invoke, theirs, status_name="Completed")

    assert caught.value.details == {"resource": "interaction", "id": str(theirs), "field": "activity_id"}
    assert activity_row(engine, other_tenant.id, theirs)["status_id"] == other_tenant.seed.status_ids["Planned"]


@pytest.mark.parametrize("given", [{}, {"status_name": "Completed", "status_id": "x"}])
def test_exactly_one_of_id_or_name(invoke, tenant: Tenant, activity: uuid.UUID, given: dict[str, str]) -> None:
    if "status_id" in given:
        given = {**given, "status_id": str(tenant.seed.status_ids["Completed"])}

    with pytest.raises(ValidationError) as caught:
        set_status(invoke, activity, **given)

    assert caught.value.message == "Give exactly one of status_id or status_name"
    assert caught.value.details == broken_rule(
        "exactly_one_status_selector", "status_id", "exactly one of status_id, status_name", sorted(given)
    )


def test_needs_interaction_update(invoke, tenant: Tenant, activity: uuid.UUID) -> None:
    actor = actor_with(tenant, ("interaction", "read"), ("client", "update"))

    with pytest.raises(PermissionDeniedError) as caught:
        set_status(invoke, activity, status_name="Completed", envelope={"actor": actor})

    assert caught.value.details["resource"] == "interaction"
    assert caught.value.details["action"] == "update"


def test_dry_run_writes_and_emits_nothing(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    before = tenant_row_counts(engine, tenant.id)

    out = set_status(invoke, activity, status_name="Completed", envelope={"dry_run": True})

    assert out["current_status_name"] == "Completed"
    assert out["activity"]["status_name"] == "Completed"
    assert tenant_row_counts(engine, tenant.id) == before
    assert published(aws) == []


def test_retried_step_changes_once(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    envelope = {"run_id": "exec-4", "step_path": "close"}
    first = set_status(invoke, activity, status_name="Completed", envelope=envelope)
    again = set_status(invoke, activity, status_name="Completed", envelope=envelope)

    assert again == first
    assert first["no_op"] is False
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1
    assert len(published(aws, "INTERACTION_UPDATED")) == 1
