"""The run audit row (reference section 1.4): one ``audit_logs`` row per successful side-effectful call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm_core.db.models import AuditLog
from crm_core.runtime.jsonable import jsonable


@dataclass(frozen=True)
class AuditEntry:
    changed_data: dict[str, Any]
    details: dict[str, Any]


def write_run_audit(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    actor_user_id: uuid.UUID,
    action_id: str,
    action_version: int,
    run_id: str,
    step_path: str,
    entry: AuditEntry,
    at: datetime,
) -> uuid.UUID:
    """Insert the audit row: operation ``workflow_action:{action_id}``, table ``workflow_runs``, record = run id."""
    audit_id = uuid.uuid4()
    session.execute(
        insert(AuditLog).values(
            tenant=tenant_id,
            audit_id=audit_id,
            user_id=str(actor_user_id),
            operation=f"workflow_action:{action_id}",
            table_name="workflow_runs",
            record_id=run_id,
            changed_data=jsonable(entry.changed_data),
            details=jsonable(
                {
                    "action_id": action_id,
                    "action_version": action_version,
                    "step_path": step_path,
                    **entry.details,
                }
            ),
            timestamp=at,
        )
    )
    return audit_id
