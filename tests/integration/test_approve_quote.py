"""crm.approve_quote against real PostgreSQL: approve and request changes with their activities, the submitter
cannot decide on their own submission, request changes then resubmit and approve, statuses and templates
refused, another tenant, missing permissions, dry run."""

from __future__ import annotations

import uuid

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.errors import broken_rule
from tests.support.quotes import add_quote, quote_activities, quote_row
from tests.support.rows import audit_rows, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.approve_quote"
SUBMIT = "crm.submit_quote_for_approval"


def submitted_quote(tenant: Tenant, invoke) -> tuple[uuid.UUID, uuid.UUID]:
    """A draft quote submitted for approval by a Finance user; returns (quote_id, submitter)."""
    finance = tenant.seed.user(roles=["Finance"], first_name="Fin", last_name="Ance")
    quote_id = add_quote(tenant)
    invoke(SUBMIT, {"quote_id": str(quote_id)}, actor=finance)
    return quote_id, finance


def test_approves_a_quote_submitted_by_someone_else(tenant: Tenant, engine, invoke) -> None:
    quote_id, finance = submitted_quote(tenant, invoke)

    out = invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve", "comment": "Looks good"})

    assert (out["previous_status"], out["new_status"], out["decision"]) == ("pending_approval", "approved", "approve")
    assert (out["quote"]["status"], out["quote"]["total_amount"]) == ("approved", 75_00)
    assert quote_row(engine, tenant.id, quote_id)["status"] == "approved"
    *_, changed, approved = quote_activities(engine, tenant.id, quote_id)
    assert changed["metadata"] == {"previous_status": "pending_approval", "next_status": "approved"}
    assert changed["performed_by"] == tenant.actor
    assert (approved["activity_type"], approved["description"]) == ("approved", "Quote approved: Looks good")
    assert approved["metadata"] == {"decision": "approve", "comment": "Looks good", "submitted_by": str(finance)}
    assert approved["performed_by"] == tenant.actor
    [audit] = audit_rows(engine, tenant.id, ACTION)
    assert (audit["changed_data"]["decision"], audit["changed_data"]["new_status"]) == ("approve", "approved")


def test_approving_your_own_submission_is_refused(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    submitted = invoke(SUBMIT, {"quote_id": str(quote_id)})
    assert submitted["new_status"] == "pending_approval"
    before = tenant_row_counts(engine, tenant.id)

    for decision in ("approve", "request_changes"):
        with pytest.raises(ValidationError) as caught:
            invoke(ACTION, {"quote_id": str(quote_id), "decision": decision})
        details = caught.value.details
        assert details["rule"] == "approver_is_not_submitter"
        assert (details["field"], details["actual"], details["submitted_by"]) == (
            "actor_user_id",
            str(tenant.actor),
            str(tenant.actor),
        )
        assert details["expected"] == "a user other than the submitter"
        assert details["submitted_at"]

    assert quote_row(engine, tenant.id, quote_id)["status"] == "pending_approval"
    assert tenant_row_counts(engine, tenant.id) == before


def test_request_changes_then_resubmit_then_approve(tenant: Tenant, engine, invoke) -> None:
    quote_id, _ = submitted_quote(tenant, invoke)

    back = invoke(ACTION, {"quote_id": str(quote_id), "decision": "request_changes", "comment": "Add monitoring"})
    assert (back["previous_status"], back["new_status"], back["quote"]["status"]) == (
        "pending_approval",
        "draft",
        "draft",
    )
    requested = quote_activities(engine, tenant.id, quote_id)[-1]
    assert (requested["activity_type"], requested["description"]) == (
        "approval_changes_requested",
        "Changes requested to quote: Add monitoring",
    )
    assert requested["metadata"]["decision"] == "request_changes"

    # the Admin resubmits it: now the Admin is the submitter and a different approver must decide
    invoke(SUBMIT, {"quote_id": str(quote_id)})
    with pytest.raises(ValidationError):
        invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve"})
    approved = invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve"}, actor=_approver(tenant))
    assert approved["new_status"] == "approved"

    timeline = quote_activities(engine, tenant.id, quote_id)
    assert [a["activity_type"] for a in timeline] == [
        "status_changed",
        "status_changed",
        "approval_changes_requested",
        "status_changed",
        "status_changed",
        "approved",
    ]
    # a call's activities are a microsecond apart in the order it recorded them: ordering by time is the timeline
    times = [a["created_at"] for a in timeline]
    assert len(set(times)) == len(times)
    assert quote_row(engine, tenant.id, quote_id)["status"] == "approved"


def _approver(tenant: Tenant) -> uuid.UUID:
    """A user who may approve quotes and did not submit this one."""
    return actor_with(tenant, ("billing", "read"), ("quotes", "approve"))


def test_a_quote_without_a_recorded_submitter_can_be_approved(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, status="pending_approval", created_by=tenant.actor)
    out = invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve"})
    assert out["new_status"] == "approved"
    assert quote_activities(engine, tenant.id, quote_id)[-1]["metadata"]["submitted_by"] is None


@pytest.mark.parametrize("status", ["draft", "approved", "sent", "accepted", "converted", "cancelled"])
def test_only_quotes_pending_approval_can_be_decided(tenant: Tenant, engine, invoke, status: str) -> None:
    quote_id = add_quote(tenant, status=status)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve"})
    assert caught.value.details == broken_rule("quote_pending_approval", "status", ["pending_approval"], status)
    assert quote_row(engine, tenant.id, quote_id)["status"] == status


def test_a_template_is_refused(tenant: Tenant, engine, invoke) -> None:
    template = tenant.seed.quote(client_id=None, title="Template", is_template=True)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(template), "decision": "approve"})
    assert caught.value.details["rule"] == "quote_is_not_template"


def test_an_unknown_decision_is_a_validation_error(tenant: Tenant, engine, invoke) -> None:
    quote_id, _ = submitted_quote(tenant, invoke)
    with pytest.raises(ValidationError):
        invoke(ACTION, {"quote_id": str(quote_id), "decision": "reject"})
    assert quote_row(engine, tenant.id, quote_id)["status"] == "pending_approval"


def test_another_tenants_quote_is_not_found(tenant: Tenant, other_tenant: Tenant, engine, invoke) -> None:
    foreign = add_quote(other_tenant, status="pending_approval")
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {"quote_id": str(foreign), "decision": "approve"})
    assert caught.value.details == {"resource": "quote", "id": str(foreign), "field": "quote_id"}
    assert quote_row(engine, other_tenant.id, foreign)["status"] == "pending_approval"


@pytest.mark.parametrize(
    ("grants", "missing"),
    [
        ([("quotes", "approve")], ("billing", "read")),
        ([("billing", "read"), ("billing", "update")], ("quotes", "approve")),
    ],
)
def test_missing_permissions_are_refused(tenant: Tenant, engine, invoke, grants, missing) -> None:
    quote_id, _ = submitted_quote(tenant, invoke)
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve"}, actor=actor_with(tenant, *grants))
    assert (caught.value.details["resource"], caught.value.details["action"]) == missing
    assert quote_row(engine, tenant.id, quote_id)["status"] == "pending_approval"


def test_finance_cannot_approve(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, status="pending_approval")
    finance = tenant.seed.user(roles=["Finance"], first_name="Fin")
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve"}, actor=finance)
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("quotes", "approve")


def test_dry_run_writes_nothing(tenant: Tenant, engine, invoke) -> None:
    quote_id, _ = submitted_quote(tenant, invoke)
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, {"quote_id": str(quote_id), "decision": "approve"}, dry_run=True)

    assert (out["new_status"], out["quote"]["status"]) == ("approved", "approved")
    assert tenant_row_counts(engine, tenant.id) == before
    assert quote_row(engine, tenant.id, quote_id)["status"] == "pending_approval"
