"""The effect outbox (``workflow_event_outbox``): effects written with the action, locked and marked by delivery.

Rows are unique on (tenant, idempotency key), so a retried call never queues the same effect twice. Delivery
locks rows with ``FOR UPDATE SKIP LOCKED``: two dispatchers (the call's own and the relay) never deliver the same
row at once, and neither waits for the other.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, select

from crm_core.dal.alone import execute_alone
from crm_core.db.engine import set_tenant
from crm_core.db.models import WorkflowEventOutbox
from crm_core.db.prepared import Prepared

_T = WorkflowEventOutbox.c


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


def _lock_rows(connection: Connection, query: Select[*tuple[Any, ...]]) -> list[EffectRow]:
    """Run ``query`` (selecting ``_COLUMNS``) oldest first, locking rows and skipping those locked elsewhere."""
    rows: Sequence[Row[*tuple[Any, ...]]] = connection.execute(
        query.order_by(_T.created_at, _T.event_id).with_for_update(skip_locked=True)
    ).all()
    return [EffectRow(**row._asdict()) for row in rows]  # _COLUMNS are labelled as EffectRow's fields


def lock_due_effects(
    connection: Connection, now: datetime, kinds: Sequence[str], limit: int, tenant_id: uuid.UUID | None = None
) -> list[EffectRow]:
    """Pending effects whose time has come, locked, oldest first: of every tenant, or of ``tenant_id``.

    Every tenant's rows are visible to the relay's role alone (its own policy, migration 0004); with
    ``tenant_id`` the transaction is scoped to that tenant, so the actions' role can deliver its own.
    """
    if tenant_id is not None:
        set_tenant(connection, tenant_id)
    query = select(*_COLUMNS).where(_T.status == "PENDING", _T.available_at <= now, _T.kind.in_(list(kinds)))
    if tenant_id is not None:
        query = query.where(_T.tenant == tenant_id)
    return _lock_rows(connection, query.limit(limit))


_RECORD_MARKS = Prepared("select crm_mark_effects(cast(:tenant as uuid), cast(:marks as jsonb))")


def _marks_json(marks: Sequence[EffectMark]) -> str:
    return json.dumps(
        [
            {
                "effect_id": str(mark.effect_id),
                "status": mark.status,
                "attempts": mark.attempts,
                "result": mark.result,
                "last_error": mark.last_error,
                "available_at": mark.available_at.isoformat(),
                "delivered_at": None if mark.delivered_at is None else mark.delivered_at.isoformat(),
            }
            for mark in marks
        ],
        separators=(",", ":"),
    )


def record_marks(connection: Connection, tenant_id: uuid.UUID, marks: Sequence[EffectMark]) -> None:
    """Record delivery outcomes of one tenant's rows still PENDING in one statement (``crm_mark_effects``, which
    also scopes the rest of the connection's transaction to the tenant)."""
    _RECORD_MARKS.all(connection, tenant=str(tenant_id), marks=_marks_json(marks))


def record_marks_at_once(connection: Connection, tenant_id: uuid.UUID, marks: Sequence[EffectMark]) -> None:
    """:func:`record_marks` as one statement in its own implicit transaction (``dal/alone.py``), on a connection
    between transactions."""
    execute_alone(
        connection,
        "select crm_mark_effects(cast(%s as uuid), cast(%s as jsonb))",
        (str(tenant_id), _marks_json(marks)),
    )
