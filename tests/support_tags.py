"""Helpers for the tagging tests: seeded activities, tag rows, TAG events and concurrent calls."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

from crm_core.db.engine import tenant_session
from crm_core.runtime import build_handler, get_spec
from crm_dev.aws_resources import LocalResources
from crm_dev.lambda_context import LocalLambdaContext
from tests.conftest import Tenant
from tests.support_activities import add_activity


def seed_activity(tenant: Tenant, **values: Any) -> uuid.UUID:
    """A call with the tenant's client, logged by the tenant's actor."""
    values.setdefault("title", "Kickoff call")
    return add_activity(tenant, when=datetime(2026, 3, 2, 15, 0, tzinfo=UTC), **values)


def target_id(tenant: Tenant, target_type: str) -> uuid.UUID:
    """The tenant's record of ``target_type`` (an activity is seeded for ``interaction``)."""
    if target_type == "interaction":
        return seed_activity(tenant)
    return getattr(tenant, target_type)


def definitions(engine: Engine, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    with tenant_session(tenant_id, engine=engine) as session:
        rows = session.execute(
            text("select * from tag_definitions where tenant = :tenant order by tag_text, tagged_type"),
            {"tenant": tenant_id},
        )
        return [dict(r) for r in rows.mappings()]


def mappings(engine: Engine, tenant_id: uuid.UUID, tagged_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    with tenant_session(tenant_id, engine=engine) as session:
        rows = session.execute(
            text(
                "select m.*, d.tag_text from tag_mappings m join tag_definitions d"
                " on d.tenant = m.tenant and d.tag_id = m.tag_id"
                " where m.tenant = :tenant and (cast(:tagged as uuid) is null or m.tagged_id = cast(:tagged as uuid))"
                " order by d.tag_text"
            ),
            {"tenant": tenant_id, "tagged": str(tagged_id) if tagged_id else None},
        )
        return [dict(r) for r in rows.mappings()]


def activity_tags(engine: Engine, tenant_id: uuid.UUID, activity_id: uuid.UUID) -> list[str] | None:
    with tenant_session(tenant_id, engine=engine) as session:
        return session.execute(
            text("select tags from interactions where tenant = :tenant and interaction_id = :id"),
            {"tenant": tenant_id, "id": activity_id},
        ).scalar_one()


def tag_events(aws: LocalResources) -> list[tuple[str, dict[str, Any]]]:
    """(detail-type, detail) of the TAG_* events published since the last drain, in delivery order."""
    return [(e["detail-type"], e["detail"]) for e in aws.drain_events() if e["detail-type"].startswith("TAG_")]


def event_counts(events: list[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for detail_type, _ in events:
        counts[detail_type] = counts.get(detail_type, 0) + 1
    return counts


def call_handler(tenant: Tenant, action_id: str, action_input: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """One call through a fresh handler (as a separate Lambda container would make it)."""
    event = {"tenant_id": str(tenant.id), "actor_user_id": str(tenant.actor), "input": action_input, **envelope}
    return build_handler(get_spec(action_id))(event, LocalLambdaContext(action_id.split(".", 1)[1]))


def run_in_threads(calls: list[Callable[[], dict[str, Any]]]) -> tuple[list[dict[str, Any]], list[Exception]]:
    """Start every call on its own thread at the same moment; returns the outputs and the errors raised."""
    outputs: list[dict[str, Any]] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], dict[str, Any]]) -> None:
        barrier.wait()
        try:
            outputs.append(call())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outputs, errors


def run_racing_inserts(
    engine: Engine, calls: list[Callable[[], dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[Exception]]:
    """Run ``calls`` so that their inserts into tag_definitions really race.

    A gate transaction locks tag_definitions against writes; each call reads (finds no definition) and then
    blocks on its insert. Once every call is blocked there, the gate opens and the inserts race: one creates
    the row, the others wait for it on the unique index.
    """
    collected: list[tuple[list[dict[str, Any]], list[Exception]]] = []
    with engine.connect() as gate:
        gate_transaction = gate.begin()
        gate.execute(text("lock table tag_definitions in share row exclusive mode"))
        runner = threading.Thread(target=lambda: collected.append(run_in_threads(calls)))
        runner.start()
        try:
            _wait_for_blocked_inserts(engine, len(calls))
        finally:
            gate_transaction.commit()
        runner.join(timeout=120)
    assert collected, "the racing calls did not finish"
    return collected[0]


def _wait_for_blocked_inserts(engine: Engine, expected: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as probe:
            waiting = probe.execute(
                text("select count(*) from pg_locks where relation = 'tag_definitions'::regclass and not granted")
            ).scalar_one()
        if waiting >= expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"only {waiting} of {expected} calls reached the tag_definitions insert")
        time.sleep(0.05)
