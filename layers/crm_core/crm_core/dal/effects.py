"""The effect outbox (``workflow_event_outbox``): effects written with the action, locked and marked by delivery.

Rows are unique on (tenant, idempotency key), so a retried call never queues the same effect twice. Delivery
locks rows with ``FOR UPDATE SKIP LOCKED``: two dispatchers (the call's own and the relay) never deliver the same
row at once, and neither waits for the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from crm_core.db.engine import set_tenant
from crm_core.db.models import WorkflowEventOutbox

_T = WorkflowEventOutbox


@dataclass(frozen=True)
class EffectRow:
    """A pending effect as delivery sees it."""

    tenant: uuid.UUID
    effect_id: uuid.UUID
    kind: str
    event_type: str | None
    idempotency_key: str
    payload: dict[str, Any]
    content: bytes | None
    attempts: int
    recorder: str | None
    invocation_id: uuid.UUID | None


@dataclass(frozen=True)
class EffectMark:
    """What one delivery attempt changes on its row."""

    effect_id: uuid.UUID
    status: str  # PENDING (retry later), DELIVERED or FAILED
    attempts: int
    result: dict[str, Any] | None
    last_error: str | None
    available_at: datetime
    delivered_at: datetime | None


_COLUMNS = (
    _T.tenant,
    _T.event_id.label("effect_id"),
    _T.kind,
    _T.event_type,
    _T.idempotency_key,
    _T.payload,
    _T.content,
    _T.attempts,
    _T.recorder,
    _T.invocation_id,
)


def insert_effects(session: Session, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """Insert effect rows in one statement; returns the ids written (a key already there is skipped)."""
    if not rows:
        return []
    written = session.execute(
        insert(_T)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
        .returning(_T.event_id)
    ).scalars()
    return list(written)


def _lock_rows(session: Session, query: Select[*tuple[Any, ...]]) -> list[EffectRow]:
    """Run ``query`` (selecting ``_COLUMNS``) oldest first, locking rows and skipping those locked elsewhere."""
    rows: Sequence[Row[*tuple[Any, ...]]] = session.execute(
        query.order_by(_T.created_at, _T.event_id).with_for_update(skip_locked=True)
    ).all()
    return [EffectRow(**row._asdict()) for row in rows]  # _COLUMNS are labelled as EffectRow's fields


def lock_pending_effects(
    session: Session, tenant_id: uuid.UUID, effect_ids: Sequence[uuid.UUID], kinds: Sequence[str]
) -> list[EffectRow]:
    """The given pending effects of ``kinds`` in one tenant, locked (rows another dispatcher holds are skipped)."""
    return _lock_rows(
        session,
        select(*_COLUMNS).where(
            _T.tenant == tenant_id,
            _T.event_id.in_(list(effect_ids)),
            _T.kind.in_(list(kinds)),
            _T.status == "PENDING",
        ),
    )


def lock_due_effects(
    session: Session, now: datetime, kinds: Sequence[str], limit: int, tenant_id: uuid.UUID | None = None
) -> list[EffectRow]:
    """Pending effects whose time has come, locked, oldest first: of every tenant, or of ``tenant_id``.

    Every tenant's rows are visible to the relay's role alone (its own policy, migration 0004); with
    ``tenant_id`` the transaction is scoped to that tenant, so the actions' role can deliver its own.
    """
    if tenant_id is not None:
        set_tenant(session, tenant_id)
    query = select(*_COLUMNS).where(_T.status == "PENDING", _T.available_at <= now, _T.kind.in_(list(kinds)))
    if tenant_id is not None:
        query = query.where(_T.tenant == tenant_id)
    return _lock_rows(session, query.limit(limit))


def mark_effects(session: Session, tenant_id: uuid.UUID, marks: Sequence[EffectMark]) -> None:
    """Record the outcome of delivery attempts on their rows."""
    for mark in marks:
        session.execute(
            update(_T)
            .where(_T.tenant == tenant_id, _T.event_id == mark.effect_id)
            .values(
                status=mark.status,
                attempts=mark.attempts,
                result=mark.result,
                last_error=mark.last_error,
                available_at=mark.available_at,
                delivered_at=mark.delivered_at,
            )
        )
