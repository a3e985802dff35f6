"""What an action's logic receives: the tenant transaction, who is acting, and ways to emit and audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_core.runtime.audit import AuditEntry
from crm_core.runtime.events import PendingEvent
from crm_core.runtime.permissions import require_permissions
from crm_core.runtime.spec import PermissionNeed


@dataclass
class ActionContext:
    """One call of one action, inside its tenant transaction.

    ``session`` is scoped to ``tenant_id`` by row-level security; queries still filter by tenant explicitly,
    so the indexes that start with ``tenant`` are used. ``now`` is fixed for the whole call.
    """

    session: Session
    tenant_id: uuid.UUID
    actor_user_id: uuid.UUID
    action_id: str
    action_version: int
    run_id: str
    step_path: str
    idempotency_key: str
    now: datetime
    dry_run: bool = False
    events: list[PendingEvent] = field(default_factory=list)
    audit_entry: AuditEntry | None = None

    def require(self, *needs: PermissionNeed) -> None:
        """PermissionDeniedError unless the actor holds every one of ``needs`` (checked in one query)."""
        require_permissions(self.session, self.tenant_id, self.actor_user_id, needs)

    def emit(self, event_type: str, idempotency_key: str, payload: dict[str, Any]) -> None:
        """Queue a domain event; it is written to the outbox in this transaction and published after commit."""
        self.events.append(PendingEvent(event_type=event_type, idempotency_key=idempotency_key, payload=payload))

    def audit(self, changed_data: dict[str, Any], details: dict[str, Any] | None = None) -> None:
        """Record this call's audit row (written by the runtime after the action succeeds). At most once."""
        if self.audit_entry is not None:
            raise RuntimeError(f"{self.action_id} recorded its audit row twice")
        self.audit_entry = AuditEntry(changed_data=changed_data, details=details or {})
