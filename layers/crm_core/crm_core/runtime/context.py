"""What an action's logic receives: the tenant transaction, who is acting, and ways to queue effects and audit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from crm_core.dal.access import PermissionNeed, require_permissions
from crm_core.dal.audit import AuditEntry
from crm_core.dal.writes import DeferredWrites
from crm_core.jsonable import jsonable
from crm_core.runtime.effects import PendingEffect


@dataclass
class ActionContext:
    """One call of one action, inside its tenant transaction.

    ``connection`` is scoped to ``tenant_id`` by row-level security; queries still filter by tenant explicitly,
    so the indexes that start with ``tenant`` are used. ``now`` is fixed for the whole call. Effects queued
    here are written to the outbox with the action's rows and delivered only after the commit; a dry run or a
    failed call delivers none.
    """

    connection: Connection
    tenant_id: uuid.UUID
    actor_user_id: uuid.UUID
    action_id: str
    action_version: int
    run_id: str
    step_path: str
    idempotency_key: str
    now: datetime
    dry_run: bool = False
    effects: list[PendingEffect] = field(default_factory=list)
    audit_entry: AuditEntry | None = None
    # Every MSP permission the actor holds, read by the call's first statement.
    held_permissions: frozenset[PermissionNeed] = frozenset()
    # Writes the action does not read back: sent with the call's closing statement (see dal/writes.py).
    writes: DeferredWrites = field(default_factory=DeferredWrites)
    _moments: int = field(default=0, init=False, repr=False)

    def moment(self) -> datetime:
        """``now`` plus one microsecond more each time: the timestamps of the rows a call adds to a timeline
        (quote activities), so that ordering by time keeps the order the call recorded them in."""
        self._moments += 1
        return self.now + timedelta(microseconds=self._moments - 1)

    def require(self, *needs: PermissionNeed) -> None:
        """PermissionDeniedError unless the actor holds every one of ``needs`` (no query: the call read them)."""
        require_permissions(self.held_permissions, needs)

    def emit(
        self, event_type: str, idempotency_key: str, payload: dict[str, Any], *, occurred_at: datetime | None = None
    ) -> None:
        """Queue a domain event for EventBridge.

        The payload gets ``tenantId``, ``occurredAt`` (default: the call's time), ``actorType``, ``actorUserId``
        and ``idempotencyKey`` beside its own fields; the key is unique per tenant, so an event is queued once.
        """
        detail = jsonable(
            {
                **payload,
                "tenantId": self.tenant_id,
                "occurredAt": occurred_at or self.now,
                "actorType": "USER",
                "actorUserId": self.actor_user_id,
                "idempotencyKey": idempotency_key,
            }
        )
        self.effects.append(PendingEffect("event", idempotency_key, detail, event_type=event_type))

    def send_email(
        self,
        key: str,
        *,
        sender: str,
        recipients: Sequence[str],
        raw_message: bytes,
        details: dict[str, Any] | None = None,
        recorder: str | None = None,
    ) -> PendingEffect:
        """Queue a raw MIME email for SES, sent once after the commit (``key`` is unique per tenant)."""
        payload = jsonable({**(details or {}), "sender": sender, "to": list(recipients)})
        effect = PendingEffect("email", key, payload, content=raw_message, recorder=recorder)
        self.effects.append(effect)
        return effect

    def store_document(
        self,
        key: str,
        *,
        bucket: str,
        object_key: str,
        body: bytes,
        content_type: str,
        metadata: dict[str, str] | None = None,
        recorder: str | None = None,
    ) -> PendingEffect:
        """Queue a document for S3, stored after the commit under ``object_key`` (putting it again is harmless)."""
        payload = {"bucket": bucket, "key": object_key, "content_type": content_type, "metadata": metadata or {}}
        effect = PendingEffect("document", key, payload, content=body, recorder=recorder)
        self.effects.append(effect)
        return effect

    def audit(self, changed_data: dict[str, Any], details: dict[str, Any] | None = None) -> None:
        """Record this call's audit row (written by the runtime after the action succeeds). At most once."""
        if self.audit_entry is not None:
            raise RuntimeError(f"{self.action_id} recorded its audit row twice")
        self.audit_entry = AuditEntry(changed_data=changed_data, details=details or {})
