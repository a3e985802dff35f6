"""crm.submit_quote_for_approval against real PostgreSQL: draft to pending_approval with its activities, totals
recalculated, already pending (no_op and error), templates and other statuses refused, another tenant, missing
permissions, dry run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.errors import broken_rule
from tests.support.quotes import NOW, add_quote, quote_activities, quote_row
from tests.support.rows import audit_rows, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.submit_quote_for_approval"


def test_submits_a_draft_with_its_activities_totals_and_audit(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, lines=2)  # 2 x 12.50 + 2 x 25.00, stored totals 0

    out = invoke(ACTION, {"quote_id": str(quote_id), "comment": "  Big deal, please check  ", "reason": "ignored"})

    assert (out["previous_status"], out["new_status"], out["no_op"]) == ("draft", "pending_approval", False)
    assert out["quote"]["status"] == "pending_approval"
    assert (out["quote"]["subtotal"], out["quote"]["total_amount"], out["quote"]["items_count"]) == (75_00, 75_00, 2)
    row = quote_row(engine, tenant.id, quote_id)
    assert (row["status"], row["total_amount"], row["updated_by"]) == ("pending_approval", 75_00, tenant.actor)
    changed, submitted = quote_activities(engine, tenant.id, quote_id)
    assert changed["activity_type"] == "status_changed"
    assert changed["description"] == "Quote status changed from draft to pending_approval"
    assert changed["metadata"] == {"previous_status": "draft", "next_status": "pending_approval"}
    assert changed["performed_by"] == tenant.actor
    assert submitted["activity_type"] == "approval_submitted"
    assert submitted["description"] == "Quote submitted for approval: Big deal, please check"
    assert submitted["metadata"] == {"comment": "Big deal, please check"}
    [audit] = audit_rows(engine, tenant.id, ACTION)
    assert audit["changed_data"]["new_status"] == "pending_approval"
    assert audit["changed_data"]["quote_id"] == str(quote_id)


def test_reason_is_the_note_when_there_is_no_comment(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    invoke(ACTION, {"quote_id": str(quote_id), "comment": "  ", "reason": "Discount above 20%"})
    activity = quote_activities(engine, tenant.id, quote_id)[-1]
    assert (activity["activity_type"], activity["metadata"]) == (
        "approval_submitted",
        {"comment": "Discount above 20%"},
    )


def test_without_comment_or_reason_only_the_status_change_is_recorded(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    invoke(ACTION, {"quote_id": str(quote_id)})
    assert [a["activity_type"] for a in quote_activities(engine, tenant.id, quote_id)] == ["status_changed"]


def test_submitting_twice_is_a_no_op_without_audit(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    invoke(ACTION, {"quote_id": str(quote_id)})
    before = tenant_row_counts(engine, tenant.id)

    again = invoke(ACTION, {"quote_id": str(quote_id), "comment": "again"})

    assert (again["previous_status"], again["new_status"], again["no_op"]) == (
        "pending_approval",
        "pending_approval",
        True,
    )
    assert again["quote"]["status"] == "pending_approval"
    after = tenant_row_counts(engine, tenant.id)
    # only the ledger row of the second call is new: no activity, no audit row
    assert {t: n for t, n in after.items() if n != before[t]} == {
        "workflow_action_invocations": before["workflow_action_invocations"] + 1
    }
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1


def test_submitting_twice_without_no_op_is_a_validation_error(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, status="pending_approval")
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "no_op_if_already_pending": False})
    assert caught.value.details == broken_rule("quote_not_already_pending", "status", ["draft"], "pending_approval")


@pytest.mark.parametrize("status", ["approved", "sent", "accepted", "rejected", "cancelled", "converted"])
def test_only_drafts_can_be_submitted(tenant: Tenant, engine, invoke, status: str) -> None:
    quote_id = add_quote(tenant, status=status)
    before = tenant_row_counts(engine, tenant.id)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id)})
    assert caught.value.details == broken_rule("quote_submittable_status", "status", ["draft"], status)
    assert quote_row(engine, tenant.id, quote_id)["status"] == status
    assert tenant_row_counts(engine, tenant.id) == before


def test_an_expired_sent_quote_is_expired_on_access_and_refused(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, status="sent", valid_until=NOW - timedelta(days=3))
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id)})
    assert caught.value.details["actual"] == "expired"


def test_a_template_is_refused(tenant: Tenant, engine, invoke) -> None:
    template = tenant.seed.quote(client_id=None, title="Template", is_template=True)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(template)})
    assert caught.value.details == broken_rule("quote_is_not_template", "quote_id", False, True)


def test_another_tenants_quote_is_not_found(tenant: Tenant, other_tenant: Tenant, engine, invoke) -> None:
    foreign = add_quote(other_tenant)
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {"quote_id": str(foreign)})
    assert caught.value.details == {"resource": "quote", "id": str(foreign), "field": "quote_id"}
    assert quote_row(engine, other_tenant.id, foreign)["status"] == "draft"


@pytest.mark.parametrize(
    ("grants", "missing"),
    [([], ("billing", "read")), ([("billing", "read")], ("billing", "update"))],
)
def test_missing_billing_permissions_are_refused(tenant: Tenant, engine, invoke, grants, missing) -> None:
    actor = actor_with(tenant, *grants) if grants else tenant.seed.user(roles=["Technician"])
    quote_id = add_quote(tenant)
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id)}, actor=actor)
    assert (caught.value.details["resource"], caught.value.details["action"]) == missing
    assert quote_row(engine, tenant.id, quote_id)["status"] == "draft"


def test_finance_may_submit(tenant: Tenant, engine, invoke) -> None:
    finance = tenant.seed.user(roles=["Finance"], first_name="Fin")
    out = invoke(ACTION, {"quote_id": str(add_quote(tenant))}, actor=finance)
    assert out["new_status"] == "pending_approval"


def test_dry_run_writes_nothing(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, {"quote_id": str(quote_id), "comment": "check"}, dry_run=True)

    assert (out["new_status"], out["quote"]["status"], out["quote"]["total_amount"]) == (
        "pending_approval",
        "pending_approval",
        75_00,
    )
    assert tenant_row_counts(engine, tenant.id) == before
    row = quote_row(engine, tenant.id, quote_id)
    assert (row["status"], row["total_amount"]) == ("draft", 0)
