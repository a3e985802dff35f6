"""Domain events through the transactional outbox (CONTRACT sections 7 and 8).

An action's events are written to ``workflow_event_outbox`` in the action's own transaction (unique on tenant
and deterministic key, so a retried call never queues an event twice). After commit the runtime publishes
them; what could not be delivered stays PENDING and the relay function delivers it later, with back-off.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from crm_core.aws.event_publisher import EventPublisher, OutgoingEvent
from crm_core.db.engine import set_tenant
from crm_core.db.models import WorkflowEventOutbox
from crm_core.runtime.jsonable import jsonable

if TYPE_CHECKING:
    from crm_core.runtime.context import ActionContext

logger = logging.getLogger(__name__)

# The relay leaves a fresh row alone this long, so it does not race the publish that follows the commit.
RELAY_GRACE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class PendingEvent:
    """An event an action emitted, waiting for the outbox."""

    event_type: str
    idempotency_key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class DeliveryReport:
    """How many events a delivery published and how many stay pending."""

    published: int
    failed: int

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.published + other.published, self.failed + other.failed)


def event_payload(
    event: PendingEvent, *, tenant_id: uuid.UUID, actor_user_id: uuid.UUID, occurred_at: datetime
) -> dict[str, Any]:
    """The event's own fields plus tenantId, occurredAt, actorType, actorUserId and idempotencyKey."""
    payload: dict[str, Any] = jsonable(
        {
            **event.payload,
            "tenantId": tenant_id,
            "occurredAt": occurred_at,
            "actorType": "USER",
            "actorUserId": actor_user_id,
            "idempotencyKey": event.idempotency_key,
        }
    )
    return payload


def enqueue_events(session: Session, ctx: ActionContext) -> list[uuid.UUID]:
    """Write the call's queued events to the outbox; returns the ids written (a key already there is skipped)."""
    written: list[uuid.UUID] = []
    for event in ctx.events:
        event_id = session.execute(
            insert(WorkflowEventOutbox)
            .values(
                tenant=ctx.tenant_id,
                event_id=uuid.uuid4(),
                event_type=event.event_type,
                idempotency_key=event.idempotency_key,
                payload=event_payload(
                    event, tenant_id=ctx.tenant_id, actor_user_id=ctx.actor_user_id, occurred_at=ctx.now
                ),
                source_action_id=ctx.action_id,
                run_id=ctx.run_id,
                created_at=ctx.now,
                available_at=ctx.now + RELAY_GRACE,
            )
            .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
            .returning(WorkflowEventOutbox.event_id)
        ).scalar_one_or_none()
        if event_id is not None:
            written.append(event_id)
    return written


def _publish_locked_rows(
    session: Session, rows: Sequence[WorkflowEventOutbox], publisher: EventPublisher, now: datetime
) -> DeliveryReport:
    if not rows:
        return DeliveryReport(0, 0)
    error_text = ""
    try:
        results = publisher.publish([OutgoingEvent(r.event_type, r.payload) for r in rows])
    except Exception as exc:  # delivery is retried later; the effect has already committed
        logger.warning("event delivery failed: %s", exc)
        results = None
        error_text = f"{type(exc).__name__}: {exc}"
    published = failed = 0
    for index, row in enumerate(rows):
        result = results[index] if results is not None else None
        if result is not None and result.event_id:
            row.status, row.published_at, row.eventbridge_event_id = "PUBLISHED", now, result.event_id
            published += 1
        else:
            row.attempts += 1
            row.last_error = ((result.error if result is not None else None) or error_text)[:2000]
            row.available_at = now + min(RELAY_GRACE * (2 ** min(row.attempts, 10)), MAX_BACKOFF)
            failed += 1
    session.flush()
    return DeliveryReport(published, failed)


def deliver_events(
    engine: Engine,
    tenant_id: uuid.UUID,
    event_ids: Sequence[uuid.UUID],
    publisher: EventPublisher,
    now: datetime,
) -> DeliveryReport:
    """Publish the given committed outbox rows of one tenant (right after the action's commit)."""
    if not event_ids:
        return DeliveryReport(0, 0)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        set_tenant(session, tenant_id)
        rows = session.scalars(
            select(WorkflowEventOutbox)
            .where(
                WorkflowEventOutbox.tenant == tenant_id,
                WorkflowEventOutbox.event_id.in_(event_ids),
                WorkflowEventOutbox.status == "PENDING",
            )
            .order_by(WorkflowEventOutbox.created_at, WorkflowEventOutbox.event_id)
            .with_for_update(skip_locked=True)
        ).all()
        return _publish_locked_rows(session, rows, publisher, now)


def relay_pending_events(
    engine: Engine, publisher: EventPublisher, now: datetime, *, batch_size: int = 100, max_batches: int = 10
) -> DeliveryReport:
    """Deliver pending outbox rows of every tenant whose time has come (the relay function's job)."""
    report = DeliveryReport(0, 0)
    for _ in range(max_batches):
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.execute(text("select set_config('app.outbox_relay', 'on', true)"))
            rows = session.scalars(
                select(WorkflowEventOutbox)
                .where(WorkflowEventOutbox.status == "PENDING", WorkflowEventOutbox.available_at <= now)
                .order_by(WorkflowEventOutbox.available_at, WorkflowEventOutbox.event_id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            batch = _publish_locked_rows(session, rows, publisher, now)
        report = report + batch
        if len(rows) < batch_size:
            break
    return report
