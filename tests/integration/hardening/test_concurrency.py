"""Concurrency: 20 threads sending the same call (same idempotency key) give one effect; 20 different calls on
one record (status changes, tags) all succeed or fail cleanly, and no update is lost."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Engine

from crm_core.errors import ActionFailure, InternalError
from crm_dev.aws_resources import LocalResources
from tests.support.activities import seed_activity
from tests.support.concurrency import run_in_threads, with_retries
from tests.support.handlers import invoke_action
from tests.support.rows import activity_row, audit_rows, fetch_all, tag_mappings
from tests.support.tenants import make_tenant

THREADS = 20


def test_twenty_threads_sending_one_call_give_one_effect(engine: Engine, shared_aws: LocalResources) -> None:
    tenant = make_tenant(engine)
    payload = {"target": {"type": "client", "id": str(tenant.client)}, "tags": ["renewal"], "idempotency_key": "k-1"}

    def call() -> dict[str, Any]:
        return with_retries(lambda: invoke_action("crm.tag_entity", tenant.id, tenant.actor, payload, run_id="r"))

    outputs, errors = run_in_threads([call] * THREADS)

    assert errors == []
    assert len(outputs) == THREADS and all(o == outputs[0] for o in outputs)
    assert len(tag_mappings(engine, tenant.id, tenant.client)) == 1
    assert len(fetch_all(engine, tenant.id, "select 1 from workflow_action_invocations where tenant = :tenant")) == 1
    events = fetch_all(
        engine,
        tenant.id,
        "select event_type, count(*) as n from workflow_event_outbox where tenant = :tenant group by 1",
    )
    assert events and all(e["n"] == 1 for e in events), events  # one TAG_APPLIED (and one definition event)


def test_twenty_status_changes_on_one_activity_lose_no_update(engine: Engine, shared_aws: LocalResources) -> None:
    tenant = make_tenant(engine)
    activity = seed_activity(tenant, status_id=tenant.seed.status_ids["Planned"])
    names = ["In Progress", "Completed", "Cancelled", "Planned"]

    def change(n: int) -> Any:
        payload = {"activity_id": str(activity), "status_name": names[n % len(names)], "reason": f"change {n}"}
        return lambda: with_retries(
            lambda: invoke_action("crm.update_activity_status", tenant.id, tenant.actor, payload, run_id=f"r{n}")
        )

    outputs, errors = run_in_threads([change(n) for n in range(THREADS)])

    assert all(isinstance(e, ActionFailure) and not isinstance(e, InternalError) for e in errors), errors
    changed = [o for o in outputs if not o["no_op"]]
    assert len(audit_rows(engine, tenant.id, "crm.update_activity_status")) == len(changed)
    # Serial histories only: the (previous -> current) changes form one path from the seeded status to the final
    # one. Two changes that read the same status (a lost update) would leave that status with two ways out.
    start = str(tenant.seed.status_ids["Planned"])
    final = str(activity_row(engine, tenant.id, activity)["status_id"])
    balance: Counter[str] = Counter()
    for o in changed:
        balance[o["previous_status_id"]] += 1
        balance[o["current_status_id"]] -= 1
    expected: Counter[str] = Counter()
    if start != final:
        expected[start], expected[final] = 1, -1
    assert +balance == +expected and -balance == -expected, (balance, start, final)
    assert len(changed) >= THREADS // 2


def test_twenty_different_tags_on_one_record_are_all_kept(engine: Engine, shared_aws: LocalResources) -> None:
    tenant = make_tenant(engine)
    activity = seed_activity(tenant)
    tags = [f"tag-{n:02d}" for n in range(THREADS)]

    def tag(text: str) -> Any:
        payload = {"activity_id": str(activity), "tags": [text], "idempotency_key": f"tag-{uuid.uuid4()}"}
        return lambda: with_retries(lambda: invoke_action("crm.tag_activity", tenant.id, tenant.actor, payload))

    _, errors = run_in_threads([tag(t) for t in tags])

    assert errors == []
    assert sorted(m["tag_text"] for m in tag_mappings(engine, tenant.id, activity)) == tags
    # The activity's own tags column agrees with the mappings (issue 10, conformance 9): no write lost.
    assert sorted(activity_row(engine, tenant.id, activity)["tags"] or []) == tags
