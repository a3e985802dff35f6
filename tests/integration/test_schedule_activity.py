"""crm.schedule_activity end to end: derivations, guards, time zones, INTERACTION_LOGGED, replay safety."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crm_core.errors import ConflictError, InternalError, NotFoundError, PermissionDeniedError, ValidationError
from tests.support.activities import CALL_TYPE, MEETING_TYPE
from tests.support.errors import broken_rule
from tests.support.events import published
from tests.support.rows import activity_row, audit_rows, count_rows, execute, outbox_rows, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.schedule_activity"


def schedule(invoke, tenant: Tenant, *, envelope: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """Schedule a one-hour Call with the tenant's contact on 2027-03-02 15:00Z, changed by ``fields``."""
    action_input: dict[str, Any] = {
        "contact_id": str(tenant.contact),
        "type_id": str(CALL_TYPE),
        "title": "Follow-up call",
        "start_time": "2027-03-02T15:00:00Z",
        "end_time": "2027-03-02T16:00:00Z",
    }
    for key, value in fields.items():
        if value is None:
            action_input.pop(key, None)
        else:
            action_input[key] = str(value) if isinstance(value, uuid.UUID) else value
    return invoke(ACTION, action_input, **(envelope or {}))


def test_client_is_derived_from_the_contact(invoke, tenant: Tenant, engine) -> None:
    out = schedule(invoke, tenant, notes="Agenda: renewal", tags=["renewal", "renewal "], category="Sales")

    activity = out["activity"]
    assert activity["client_id"] == str(tenant.client)
    assert activity["client_name"] == "Acme Corp"
    assert activity["contact_id"] == str(tenant.contact)
    assert activity["contact_name"] == "Carol Contact"
    assert activity["type_name"] == "Call"
    assert activity["title"] == "Follow-up call"
    assert activity["notes_preview"] == "Agenda: renewal"
    assert activity["tags"] == ["renewal"]
    assert activity["category"] == "Sales"
    assert activity["visibility"] == "internal"
    row = activity_row(engine, tenant.id, activity["activity_id"])
    assert row["client_id"] == tenant.client
    assert row["contact_name_id"] == tenant.contact
    assert row["tags"] == ["renewal"]


def test_interaction_date_is_the_start_and_duration_is_derived(invoke, tenant: Tenant, engine) -> None:
    out = schedule(invoke, tenant)

    activity = out["activity"]
    assert activity["interaction_date"] == activity["start_time"] == "2027-03-02T15:00:00Z"
    assert activity["end_time"] == "2027-03-02T16:00:00Z"
    assert activity["duration"] == 60


def test_default_status_is_used(invoke, tenant: Tenant) -> None:
    out = schedule(invoke, tenant)

    assert out["activity"]["status_id"] == str(tenant.seed.status_ids["Completed"])
    assert out["activity"]["status_name"] == "Completed"


def test_given_status_is_used(invoke, tenant: Tenant) -> None:
    out = schedule(invoke, tenant, status_id=tenant.seed.status_ids["Planned"])

    assert out["activity"]["status_name"] == "Planned"


def test_missing_default_status_is_a_clear_internal_error(invoke, tenant: Tenant, engine) -> None:
    execute(engine, tenant.id, "update statuses set is_default = false where tenant = :tenant")

    with pytest.raises(InternalError) as caught:
        schedule(invoke, tenant)

    assert caught.value.code == "INTERNAL_ERROR"
    assert caught.value.message.startswith("No default interaction status found for this tenant")
    assert caught.value.details == {
        "rule": "default_status_required",
        "setup": "statuses",
        "status_type": "interaction",
        "is_default": True,
    }
    assert count_rows(engine, tenant.id, "interactions") == 0


def test_owner_defaults_to_the_actor(invoke, tenant: Tenant) -> None:
    out = schedule(invoke, tenant)

    assert out["activity"]["user_id"] == str(tenant.actor)
    assert out["activity"]["user_name"] == "Ada Admin"


def test_assigned_user_wins_over_owner_user(invoke, tenant: Tenant) -> None:
    bob = tenant.seed.user(roles=["Technician"], first_name="Bob", last_name="Tech")
    eve = tenant.seed.user(roles=["Technician"], first_name="Eve", last_name="Tech")

    assigned = schedule(invoke, tenant, assigned_user_id=bob, owner_user_id=eve)
    owner = schedule(invoke, tenant, owner_user_id=eve)

    assert assigned["activity"]["user_id"] == str(bob)
    assert owner["activity"]["user_id"] == str(eve)


@pytest.mark.parametrize("field", ["assigned_user_id", "owner_user_id"])
def test_unknown_owner_is_not_found(invoke, tenant: Tenant, other_tenant: Tenant, field: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        schedule(invoke, tenant, **{field: other_tenant.actor})

    assert caught.value.message == "User not found"
    assert caught.value.details == {"resource": "user", "id": str(other_tenant.actor), "field": field}


def test_contact_of_another_client_is_refused(invoke, tenant: Tenant, engine) -> None:
    globex = tenant.seed.client("Globex")

    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, client_id=globex)

    assert caught.value.message == "The contact does not belong to the client"
    assert caught.value.details == broken_rule(
        "contact_belongs_to_client", "contact_id", str(globex), str(tenant.client), contact_id=str(tenant.contact)
    )
    assert count_rows(engine, tenant.id, "interactions") == 0


def test_ticket_of_another_client_is_refused(invoke, tenant: Tenant) -> None:
    globex = tenant.seed.client("Globex")
    globex_ticket = tenant.seed.ticket(globex, None, number="T-2001")

    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, ticket_id=globex_ticket)

    assert caught.value.message == "The ticket belongs to another client"
    assert caught.value.details == broken_rule(
        "ticket_belongs_to_client", "ticket_id", str(tenant.client), str(globex), ticket_id=str(globex_ticket)
    )


def test_ticket_of_another_contact_is_refused(invoke, tenant: Tenant) -> None:
    dave = tenant.seed.contact(tenant.client, "Dave Contact")
    daves_ticket = tenant.seed.ticket(tenant.client, dave, number="T-3001")

    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, ticket_id=daves_ticket)

    assert caught.value.details == broken_rule(
        "ticket_contact_matches", "ticket_id", str(tenant.contact), str(dave), ticket_id=str(daves_ticket)
    )


def test_ticket_of_the_same_client_and_contact(invoke, tenant: Tenant) -> None:
    out = schedule(invoke, tenant, ticket_id=tenant.ticket)

    assert out["activity"]["ticket_id"] == str(tenant.ticket)
    assert out["activity"]["ticket_number"] == "T-1001"


def test_client_only(invoke, tenant: Tenant) -> None:
    out = schedule(invoke, tenant, contact_id=None, client_id=tenant.client)

    assert out["activity"]["client_id"] == str(tenant.client)
    assert out["activity"]["contact_id"] is None


def test_client_or_contact_is_required(invoke, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, contact_id=None)

    assert caught.value.details == broken_rule(
        "client_or_contact_required", "client_id", "client_id or contact_id", None
    )


def test_contact_without_client_needs_client_id(invoke, tenant: Tenant) -> None:
    loner = tenant.seed.contact(None, "Lone Contact")

    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, contact_id=loner)

    assert caught.value.details["rule"] == "client_resolvable"
    assert caught.value.details["field"] == "client_id"


@pytest.mark.parametrize(
    ("field", "resource", "message"),
    [
        ("contact_id", "contact", "Contact not found"),
        ("client_id", "client", "Client not found"),
        ("ticket_id", "ticket", "Ticket not found"),
    ],
)
def test_records_of_another_tenant_are_not_found(
    invoke, tenant: Tenant, other_tenant: Tenant, engine, field: str, resource: str, message: str
) -> None:
    foreign = getattr(other_tenant, resource)
    fields: dict[str, Any] = {field: foreign}
    if field == "client_id":
        fields["contact_id"] = None

    with pytest.raises(NotFoundError) as caught:
        schedule(invoke, tenant, **fields)

    assert caught.value.message == message
    assert caught.value.details == {"resource": resource, "id": str(foreign), "field": field}
    assert count_rows(engine, tenant.id, "interactions") == 0
    assert count_rows(engine, other_tenant.id, "interactions") == 0


def test_type_of_another_tenant_is_a_validation_error(invoke, tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = other_tenant.seed.interaction_type("Theirs")

    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, type_id=theirs)

    assert caught.value.details["rule"] == "interaction_type_exists"
    assert (caught.value.details["field"], caught.value.details["actual"]) == ("type_id", str(theirs))


def test_status_of_another_type_is_refused(invoke, tenant: Tenant) -> None:
    project_status = tenant.seed.status("Active", status_type="project")

    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, status_id=project_status)

    assert caught.value.details["rule"] == "status_is_interaction_status"
    assert caught.value.details["actual"] == "project"


def test_naive_times_are_read_in_the_given_zone(invoke, tenant: Tenant) -> None:
    out = schedule(
        invoke,
        tenant,
        start_time="2027-03-02T10:00:00",
        end_time="2027-03-02T11:30:00",
        timezone="Europe/Berlin",
    )

    assert out["activity"]["start_time"] == "2027-03-02T09:00:00Z"
    assert out["activity"]["end_time"] == "2027-03-02T10:30:00Z"
    assert out["activity"]["duration"] == 90


def test_naive_times_are_read_in_the_clients_zone(invoke, tenant: Tenant) -> None:
    winter = schedule(invoke, tenant, start_time="2027-03-02T10:00:00", end_time=None)
    summer = schedule(invoke, tenant, start_time="2027-07-01T10:00:00", end_time="2027-07-01T10:45:00")

    assert winter["activity"]["start_time"] == "2027-03-02T15:00:00Z"  # New York, EST
    assert winter["activity"]["end_time"] == "2027-03-02T15:00:00Z"
    assert winter["activity"]["duration"] == 0
    assert summer["activity"]["start_time"] == "2027-07-01T14:00:00Z"  # New York, EDT
    assert summer["activity"]["duration"] == 45


def test_naive_time_without_any_zone_is_refused(invoke, tenant: Tenant) -> None:
    plain = tenant.seed.client("No Zone Ltd")

    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, contact_id=None, client_id=plain, start_time="2027-03-02T10:00:00", end_time=None)

    expected = "an offset (Z or +hh:mm), the timezone input, or a client with a time zone"
    assert caught.value.details == broken_rule(
        "timezone_for_local_time", "start_time", expected, "2027-03-02T10:00:00", client_id=str(plain)
    )


def test_unknown_zone_name_is_a_validation_error(invoke, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, timezone="Europe/Atlantis")

    assert caught.value.details["errors"][0]["field"] == "input.timezone"


def test_end_before_start_is_refused(invoke, tenant: Tenant, engine) -> None:
    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, end_time="2027-03-02T14:00:00Z")

    details = caught.value.details  # the rule's whole refusal is unit-tested (tests/unit/activities/test_rules.py)
    assert details["rule"] == "start_not_after_end"
    assert (details["start_time"], details["actual"]) == ("2027-03-02T15:00:00Z", "2027-03-02T14:00:00Z")
    assert count_rows(engine, tenant.id, "interactions") == 0


def test_given_duration_is_kept(invoke, tenant: Tenant) -> None:
    out = schedule(invoke, tenant, duration=25)

    assert out["activity"]["duration"] == 25


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "input.title"),
        ({"type_id": None}, "input.type_id"),
        ({"start_time": None}, "input.start_time"),
        ({"duration": -5}, "input.duration"),
        ({"visibility": "everyone"}, "input.visibility"),
        ({"tags": [""]}, "input.tags"),
        ({"idempotency_key": ""}, "input.idempotency_key"),
    ],
)
def test_bad_input_is_validation_error(invoke, tenant: Tenant, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        schedule(invoke, tenant, **fields)

    assert caught.value.details["errors"][0]["field"] == field


def test_interaction_logged_is_in_the_outbox_and_published(invoke, tenant: Tenant, engine, aws) -> None:
    bob = tenant.seed.user(roles=["Technician"], first_name="Bob", last_name="Tech")
    out = schedule(
        invoke, tenant, type_id=MEETING_TYPE, assigned_user_id=bob, status_id=tenant.seed.status_ids["Planned"]
    )
    activity_id = out["activity"]["activity_id"]

    (row,) = outbox_rows(engine, tenant.id)
    assert row["event_type"] == "INTERACTION_LOGGED"
    assert row["idempotency_key"] == f"interaction_logged:{activity_id}"
    assert row["status"] == "DELIVERED"
    (event,) = published(aws)
    assert event["source"] == "crm.workflow-actions"
    assert event["detail-type"] == "INTERACTION_LOGGED"
    detail = event["detail"]
    assert detail == {
        "interactionId": activity_id,
        "clientId": str(tenant.client),
        "contactId": str(tenant.contact),
        "interactionType": "Meeting",
        "channel": "meeting",
        "interactionOccurredAt": "2027-03-02T15:00:00Z",
        "loggedByUserId": str(bob),
        "subject": "Follow-up call",
        "outcome": "Planned",
        "tenantId": str(tenant.id),
        "occurredAt": detail["occurredAt"],
        "actorType": "USER",
        "actorUserId": str(tenant.actor),
        "idempotencyKey": f"interaction_logged:{activity_id}",
    }
    assert row["payload"] == detail


@pytest.mark.parametrize(
    ("type_name", "channel"),
    [("Email follow-up", "email"), ("Phone screen", "phone"), ("Site Visit", "other"), ("Sticky note", "note")],
)
def test_channel_comes_from_the_type_name(invoke, tenant: Tenant, aws, type_name: str, channel: str) -> None:
    type_id = tenant.seed.interaction_type(type_name)

    schedule(invoke, tenant, type_id=type_id, contact_id=None, client_id=tenant.client)

    (event,) = published(aws, "INTERACTION_LOGGED")
    assert event["detail"]["interactionType"] == type_name
    assert event["detail"]["channel"] == channel
    assert "contactId" not in event["detail"]


def test_audit_row(invoke, tenant: Tenant, engine) -> None:
    out = schedule(invoke, tenant, ticket_id=tenant.ticket, envelope={"run_id": "run-3", "step_path": "plan"})

    (audit,) = audit_rows(engine, tenant.id, ACTION)
    assert audit["record_id"] == "run-3"
    assert audit["changed_data"] == {
        "activity_id": out["activity"]["activity_id"],
        "client_id": str(tenant.client),
        "contact_id": str(tenant.contact),
        "ticket_id": str(tenant.ticket),
        "status_id": str(tenant.seed.status_ids["Completed"]),
        "type_id": str(CALL_TYPE),
        "start_time": "2027-03-02T15:00:00Z",
        "end_time": "2027-03-02T16:00:00Z",
        "duration": 60,
        "assigned_user_id": str(tenant.actor),
    }


def test_needs_interaction_create(invoke, tenant: Tenant, engine) -> None:
    actor = actor_with(tenant, ("interaction", "update"), ("client", "update"), ("ticket", "read"))

    with pytest.raises(PermissionDeniedError) as caught:
        schedule(invoke, tenant, envelope={"actor": actor})

    assert caught.value.message == "Permission denied: interaction:create"
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("interaction", "create")
    assert count_rows(engine, tenant.id, "interactions") == 0


def test_ticket_needs_ticket_read(invoke, tenant: Tenant) -> None:
    actor = actor_with(tenant, ("interaction", "create"))

    assert schedule(invoke, tenant, envelope={"actor": actor})["activity"]["user_id"] == str(actor)
    with pytest.raises(PermissionDeniedError) as caught:
        schedule(invoke, tenant, ticket_id=tenant.ticket, envelope={"actor": actor})

    assert (caught.value.details["resource"], caught.value.details["action"]) == ("ticket", "read")


def test_dry_run_writes_and_emits_nothing(invoke, tenant: Tenant, engine, aws) -> None:
    before = tenant_row_counts(engine, tenant.id)

    out = schedule(invoke, tenant, envelope={"dry_run": True})

    assert out["activity"]["duration"] == 60
    assert tenant_row_counts(engine, tenant.id) == before
    assert published(aws) == []


def test_retried_task_with_idempotency_key_schedules_once(invoke, tenant: Tenant, engine, aws) -> None:
    first = schedule(invoke, tenant, idempotency_key="qbr-2027-q1", envelope={"run_id": "exec-1"})
    retried = schedule(invoke, tenant, idempotency_key="qbr-2027-q1", envelope={"run_id": "exec-1-retry"})

    assert retried == first
    assert count_rows(engine, tenant.id, "interactions") == 1
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1
    assert len(published(aws, "INTERACTION_LOGGED")) == 1


def test_idempotency_key_with_another_input_is_conflict(invoke, tenant: Tenant, engine) -> None:
    schedule(invoke, tenant, idempotency_key="qbr-2027-q2")

    with pytest.raises(ConflictError) as caught:
        schedule(invoke, tenant, idempotency_key="qbr-2027-q2", title="Something else")

    assert caught.value.details["rule"] == "idempotency_key_reuse"
    assert count_rows(engine, tenant.id, "interactions") == 1


def test_without_key_each_run_schedules_its_own(invoke, tenant: Tenant, engine) -> None:
    schedule(invoke, tenant, envelope={"run_id": "exec-a"})
    schedule(invoke, tenant, envelope={"run_id": "exec-b"})

    assert count_rows(engine, tenant.id, "interactions") == 2
