"""Statement budgets (issue "Performance"): what one call sends to PostgreSQL, counted at the wire.

Statement counts are deterministic, so they are asserted here; times are not, and live in bench/calls.py.
A statement is every message pg8000 sends (the commit included); the ``begin transaction`` pg8000 sends before
a transaction's first statement is counted as the transaction, not as a statement.

Each case is called once to warm the container (first-call work is not what the budget is about), then once
more on fresh records while counting: a new call, then the same call again (a replay the ledger answers;
DynamoDB's first line is cleared so the ledger is what answers), then a dry run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from crm_core.runtime import get_spec
from crm_core.runtime.idempotency import forget_first_line_record
from crm_dev.sql_count import StatementLog, count_statements
from tests.support.activities import CALL_TYPE, seed_activity
from tests.support.handlers import invoke_action
from tests.support.quotes import add_quote
from tests.support.tenants import Tenant

Build = Callable[[Tenant], dict[str, Any]]


@dataclass(frozen=True)
class Budget:
    """The most statements and transactions a new call may send (the commit included)."""

    statements: int
    transactions: int = 1


REPLAY_BUDGET = Budget(3)


def _note(tenant: Tenant) -> dict[str, Any]:
    return {"target": {"type": "client", "id": str(tenant.client)}, "body": "Called about the renewal."}


def _schedule(tenant: Tenant) -> dict[str, Any]:
    return {
        "contact_id": str(tenant.contact),
        "type_id": str(CALL_TYPE),
        "title": "Follow-up call",
        "start_time": "2027-03-02T15:00:00Z",
        "end_time": "2027-03-02T16:00:00Z",
    }


def _update(tenant: Tenant) -> dict[str, Any]:
    return {"activity_id": str(seed_activity(tenant)), "patch": {"title": "Kickoff call: plan agreed"}}


def _status(tenant: Tenant) -> dict[str, Any]:
    return {"activity_id": str(seed_activity(tenant)), "status_name": "Completed"}


def _tag_activity(tenant: Tenant) -> dict[str, Any]:
    return {"activity_id": str(seed_activity(tenant)), "tags": ["upsell-candidate"]}


def _tag_entity(tenant: Tenant) -> dict[str, Any]:
    return {"target": {"type": "client", "id": str(tenant.client)}, "tags": [f"t-{uuid.uuid4().hex[:6]}"]}


def _send_quote(tenant: Tenant) -> dict[str, Any]:
    return {"quote_id": str(add_quote(tenant, lines=2)), "subject": "Your quote"}


def _type(tenant: Tenant) -> dict[str, Any]:
    return {"type_name": f"Site visit {uuid.uuid4().hex[:6]}"}


def _create_quote(tenant: Tenant) -> dict[str, Any]:
    return {
        "client_id": str(tenant.client),
        "contact_id": str(tenant.contact),
        "title": "Network refresh",
        "quote_date": "2026-06-01",
        "valid_until": "2026-06-30T23:59:59Z",
    }


def _add_item(tenant: Tenant) -> dict[str, Any]:
    return {"quote_id": str(add_quote(tenant)), "description": "Setup", "quantity": 1, "unit_price": 100_00}


def _from_template(tenant: Tenant) -> dict[str, Any]:
    template = _template(tenant, 3)
    return {"template_id": str(template), "client_id": str(tenant.client), "contact_id": str(tenant.contact)}


def _submit(tenant: Tenant) -> dict[str, Any]:
    return {"quote_id": str(add_quote(tenant)), "comment": "Ready"}


def _approve(tenant: Tenant) -> dict[str, Any]:
    return {"quote_id": str(add_quote(tenant, status="pending_approval")), "decision": "approve"}


def _convert(tenant: Tenant) -> dict[str, Any]:
    return {"quote_id": str(add_quote(tenant, status="accepted")), "target": "invoice"}


CASES: dict[str, tuple[Build, Budget]] = {
    "crm.find_activities": (lambda t: {"client_id": str(t.client), "limit": 10, "include_total": True}, Budget(3)),
    "crm.find_quotes": (lambda t: {"client_id": str(t.client), "limit": 10, "include_total": True}, Budget(3)),
    "crm.create_activity_note": (_note, Budget(6)),
    "crm.update_activity": (_update, Budget(7)),
    "crm.update_activity_status": (_status, Budget(7)),
    "crm.tag_activity": (_tag_activity, Budget(7)),
    "crm.tag_entity": (_tag_entity, Budget(7)),
    "crm.schedule_activity": (_schedule, Budget(8)),
    # The email's outcome recorder writes in a second transaction, which crm_mark_effects scopes (no tenant setup).
    "crm.send_quote": (_send_quote, Budget(12, transactions=2)),
    # The issue gives these no budget: what they send today, so that none grows unnoticed.
    "crm.create_interaction_type": (_type, Budget(7)),  # 8 before its insert returned the stored row
    "crm.create_quote": (_create_quote, Budget(9)),
    "crm.add_quote_item": (_add_item, Budget(10)),
    "crm.create_quote_from_template": (_from_template, Budget(15)),
    "crm.submit_quote_for_approval": (_submit, Budget(9)),
    "crm.approve_quote": (_approve, Budget(10)),
    "crm.convert_quote": (_convert, Budget(12)),
}


def _call(tenant: Tenant, action: str, action_input: dict[str, Any], **envelope: Any) -> StatementLog:
    with count_statements() as log:
        invoke_action(action, tenant.id, tenant.actor, action_input, **envelope)
    return log


@pytest.mark.parametrize("action", sorted(CASES))
def test_a_new_call_stays_within_its_statement_budget(aws, tenant: Tenant, action: str) -> None:
    build, budget = CASES[action]
    invoke_action(action, tenant.id, tenant.actor, build(tenant))  # warm the container

    log = _call(tenant, action, build(tenant))

    assert log.statements <= budget.statements, log.summary()
    assert log.transactions <= budget.transactions, log.summary()


@pytest.mark.parametrize("action", sorted(a for a in CASES if get_spec(a).records_invocations))
def test_a_replay_answered_by_the_ledger_stays_within_its_budget(aws, tenant: Tenant, action: str) -> None:
    build, _ = CASES[action]
    action_input = build(tenant)
    key = f"budget-{uuid.uuid4()}"
    first = invoke_action(action, tenant.id, tenant.actor, action_input, idempotency_key=key)
    spec = get_spec(action)
    forget_first_line_record(spec.id, spec.version, key)

    with count_statements() as log:
        again = invoke_action(action, tenant.id, tenant.actor, action_input, idempotency_key=key)

    assert again == first
    assert log.statements <= REPLAY_BUDGET.statements, log.summary()
    assert log.transactions <= 1, log.summary()


@pytest.mark.parametrize("action", sorted(CASES))
def test_a_dry_run_sends_no_more_than_a_new_call(aws, tenant: Tenant, action: str) -> None:
    build, budget = CASES[action]
    invoke_action(action, tenant.id, tenant.actor, build(tenant), dry_run=True)

    log = _call(tenant, action, build(tenant), dry_run=True)

    assert log.statements <= budget.statements, log.summary()
    assert not [text for text in log.texts if text.strip().lower() == "commit"], log.summary()


@pytest.mark.parametrize(
    ("action", "build"),
    [
        ("crm.create_quote_from_template", lambda t, n: {**_from_template(t), "template_id": str(_template(t, n))}),
        ("crm.send_quote", lambda t, n: {"quote_id": str(add_quote(t, lines=n))}),
        ("crm.add_quote_item", lambda t, n: {**_add_item(t), "quote_id": str(add_quote(t, lines=n))}),
    ],
)
def test_statements_do_not_grow_with_the_number_of_items(aws, tenant: Tenant, action: str, build: Any) -> None:
    invoke_action(action, tenant.id, tenant.actor, build(tenant, 1))  # warm the container

    counts = [_call(tenant, action, build(tenant, lines)).statements for lines in (1, 12)]

    assert counts[0] == counts[1], counts


def _template(tenant: Tenant, lines: int) -> uuid.UUID:
    return add_quote(
        tenant, status=None, is_template=True, quote_number=None, client_id=None, contact_id=None, lines=lines
    )
