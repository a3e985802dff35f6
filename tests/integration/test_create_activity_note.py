"""crm.create_activity_note end to end: real PostgreSQL, moto, the real Lambda handler."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from crm_core.db.engine import tenant_transaction
from crm_core.errors import InternalError, NotFoundError, PermissionDeniedError, ValidationError
from tests.support.handlers import invoke_action
from tests.support.rows import activity_row, count_rows, fetch_one, tenant_row_counts
from tests.support.tenants import Tenant, make_tenant

ACTION = "crm.create_activity_note"
NOTE_TYPE_ID = uuid.UUID("ba330b41-0e03-537d-834f-94a6c295a983")


def note_input(target_type: str, target_id: uuid.UUID, **extra: object) -> dict[str, object]:
    return {
        "target": {"type": target_type, "id": str(target_id)},
        "body": "Called about the renewal.",
        **extra,
    }


def target_summary(tenant: Tenant, target_type: str) -> dict[str, str]:
    """What the output says of a note's target, for each record of the seeded tenant (tests/support/tenants.py)."""
    client = str(tenant.client)
    return {
        "client": {"client_id": client, "client_name": "Acme Corp"},
        "contact": {
            "contact_id": str(tenant.contact),
            "full_name": "Carol Contact",
            "email": "carol@acme.example",
            "client_id": client,
        },
        "ticket": {
            "ticket_id": str(tenant.ticket),
            "ticket_number": "T-1001",
            "title": "Printer offline",
            "client_id": client,
        },
        "project": {"project_id": str(tenant.project), "project_name": "Office move", "client_id": client},
    }[target_type]


def test_note_on_client(invoke, tenant: Tenant, engine) -> None:
    out = invoke(ACTION, note_input("client", tenant.client, tags=["renewal", " renewal "], category="Renewal"))

    assert out["target_type"] == "client"
    assert out["target_id"] == str(tenant.client)
    assert out["target_summary"] == target_summary(tenant, "client")
    assert out["created_at"].endswith("Z")
    row = activity_row(engine, tenant.id, out["note_id"])
    assert row["type_id"] == NOTE_TYPE_ID
    assert row["client_id"] == tenant.client
    assert row["contact_name_id"] is None
    assert row["user_id"] == tenant.actor
    assert row["title"] == "Renewal"
    assert row["category"] == "Renewal"
    assert row["notes"] == "Called about the renewal."
    assert row["duration"] == 0
    assert row["status_id"] is None
    assert row["visibility"] == "internal"
    assert row["tags"] == ["renewal"]
    assert row["interaction_date"] == row["start_time"] == row["end_time"]


def test_note_on_contact_derives_client(invoke, tenant: Tenant, engine) -> None:
    out = invoke(ACTION, note_input("contact", tenant.contact, visibility="client_visible"))

    assert out["target_summary"] == target_summary(tenant, "contact")
    row = activity_row(engine, tenant.id, out["note_id"])
    assert (row["contact_name_id"], row["client_id"]) == (tenant.contact, tenant.client)
    assert row["visibility"] == "client_visible"
    assert row["title"] == "Note"
    assert row["tags"] is None


def test_note_on_ticket_derives_client_and_contact(invoke, tenant: Tenant, engine) -> None:
    out = invoke(ACTION, note_input("ticket", tenant.ticket))

    assert out["target_summary"] == target_summary(tenant, "ticket")
    row = activity_row(engine, tenant.id, out["note_id"])
    assert (row["ticket_id"], row["client_id"], row["contact_name_id"]) == (
        tenant.ticket,
        tenant.client,
        tenant.contact,
    )


def test_note_on_project(invoke, tenant: Tenant, engine) -> None:
    out = invoke(ACTION, note_input("project", tenant.project))

    assert out["target_summary"] == target_summary(tenant, "project")
    row = activity_row(engine, tenant.id, out["note_id"])
    assert (row["project_id"], row["client_id"]) == (tenant.project, tenant.client)


def test_note_writes_one_audit_row_and_no_event(invoke, tenant: Tenant, engine, aws) -> None:
    out = invoke(ACTION, note_input("client", tenant.client), run_id="run-42", step_path="steps.note")

    audit = fetch_one(engine, tenant.id, "select * from audit_logs where tenant = :tenant")
    assert audit["operation"] == "workflow_action:crm.create_activity_note"
    assert audit["table_name"] == "workflow_runs"
    assert audit["record_id"] == "run-42"
    assert audit["user_id"] == str(tenant.actor)
    assert audit["changed_data"] == {
        "interaction_id": out["note_id"],
        "target": {"type": "client", "id": str(tenant.client)},
    }
    assert audit["details"] == {
        "action_id": ACTION,
        "action_version": 1,
        "step_path": "steps.note",
        "note_id": out["note_id"],
    }
    assert count_rows(engine, tenant.id, "workflow_event_outbox") == 0
    assert aws.drain_events() == []


def test_client_visible_note_on_project_is_refused(invoke, tenant: Tenant, engine) -> None:
    before = tenant_row_counts(engine, tenant.id)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, note_input("project", tenant.project, visibility="client_visible"))

    assert caught.value.message == "client_visible notes are not supported for project targets"
    assert caught.value.details["rule"] == "client_visible_not_for_projects"
    assert caught.value.details["expected"] == "internal"
    assert tenant_row_counts(engine, tenant.id) == before


@pytest.mark.parametrize(
    ("target_type", "message"),
    [
        ("client", "Client not found"),
        ("contact", "Contact not found"),
        ("ticket", "Ticket not found"),
        ("project", "Project not found"),
    ],
)
def test_missing_target_is_not_found(invoke, tenant: Tenant, engine, target_type: str, message: str) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, note_input(target_type, missing))

    assert caught.value.code == "NOT_FOUND"
    assert caught.value.message == message
    assert caught.value.details == {"resource": target_type, "id": str(missing)}
    assert count_rows(engine, tenant.id, "interactions") == 0


@pytest.mark.parametrize("target_type", ["client", "contact", "ticket", "project"])
def test_record_of_another_tenant_is_not_found(
    invoke, tenant: Tenant, other_tenant: Tenant, engine, target_type: str
) -> None:
    foreign_id = getattr(other_tenant, target_type)
    with pytest.raises(NotFoundError):
        invoke(ACTION, note_input(target_type, foreign_id))

    assert count_rows(engine, tenant.id, "interactions") == 0
    assert count_rows(engine, other_tenant.id, "interactions") == 0


@pytest.mark.parametrize("target_type", ["client", "contact", "ticket", "project"])
def test_permission_is_target_type_update(invoke, tenant: Tenant, engine, target_type: str) -> None:
    everything_but = [
        (r, a)
        for r in ("client", "contact", "ticket", "project")
        for a in ("read", "update")
        if (r, a) != (target_type, "update")
    ]
    tenant.seed.role("Almost", everything_but)
    actor = tenant.seed.user(roles=["Almost"])

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, note_input(target_type, getattr(tenant, target_type)), actor=actor)

    assert caught.value.code == "PERMISSION_DENIED"
    assert caught.value.message == f"Permission denied: {target_type}:update"
    assert caught.value.details["resource"] == target_type
    assert caught.value.details["action"] == "update"
    assert count_rows(engine, tenant.id, "interactions") == 0


def test_permission_through_a_client_portal_role_does_not_count(invoke, tenant: Tenant) -> None:
    tenant.seed.role("Portal", [("client", "update")], msp=False)
    actor = tenant.seed.user(roles=["Portal"])

    with pytest.raises(PermissionDeniedError):
        invoke(ACTION, note_input("client", tenant.client), actor=actor)


def test_role_with_the_permission_is_enough(invoke, tenant: Tenant) -> None:
    tenant.seed.role("Notes", [("contact", "update")])
    actor = tenant.seed.user(roles=["Notes"])

    out = invoke(ACTION, note_input("contact", tenant.contact), actor=actor)

    assert out["target_id"] == str(tenant.contact)


def test_missing_note_type_is_internal_error(aws, scratch_database) -> None:
    """A database whose seed lost the Note type: the action explains the setup problem and writes nothing."""
    engine = scratch_database
    with engine.begin() as connection:
        connection.execute(text("delete from system_interaction_types where type_name = 'Note'"))
    tenant = make_tenant(engine)

    with pytest.raises(InternalError) as caught:
        invoke_action(ACTION, tenant.id, tenant.actor, note_input("client", tenant.client))

    assert caught.value.message == "System interaction type Note missing"
    assert caught.value.code == "INTERNAL_ERROR"
    assert count_rows(engine, tenant.id, "interactions") == 0


@pytest.mark.parametrize(("body", "field"), [("", "input.body"), ("   ", "input.body")])
def test_empty_body_is_validation_error(invoke, body: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"target": {"type": "client", "id": str(uuid.uuid4())}, "body": body})

    assert caught.value.details["errors"][0]["field"] == field


def test_unknown_target_type_is_validation_error(invoke) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, note_input("invoice", uuid.uuid4()))

    assert caught.value.details["errors"][0]["field"] == "input.target.type"


def test_tags_must_not_be_blank(invoke, tenant: Tenant) -> None:
    with pytest.raises(ValidationError):
        invoke(ACTION, note_input("client", tenant.client, tags=["ok", " "]))


def test_dry_run_writes_nothing_and_returns_the_output(invoke, tenant: Tenant, engine, aws) -> None:
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, note_input("client", tenant.client), dry_run=True)

    assert out["target_summary"]["client_name"] == "Acme Corp"
    assert tenant_row_counts(engine, tenant.id) == before
    assert aws.drain_events() == []
    with tenant_transaction(tenant.id, engine=engine) as session:
        assert (
            session.execute(
                text("select count(*) from interactions where interaction_id = :id"), {"id": out["note_id"]}
            ).scalar_one()
            == 0
        )
