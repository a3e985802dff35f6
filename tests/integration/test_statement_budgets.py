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
