"""The run audit row: one ``audit_logs`` row per successful side-effectful call, as AlgaPSA's ``writeRunAudit``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from crm_core.jsonable import jsonable


@dataclass(frozen=True)
class AuditEntry:
    """What an action records in its audit row (the runtime adds action, version and step)."""

    changed_data: dict[str, Any]
    details: dict[str, Any]


class AuditedCall(Protocol):
    """Who made the call, in which run and step, and when: the columns the runtime fills in."""

    tenant_id: uuid.UUID
    actor_user_id: uuid.UUID
    action_id: str
    action_version: int
    run_id: str
    step_path: str
    now: datetime


def run_audit_row(ctx: AuditedCall, entry: AuditEntry) -> dict[str, Any]:
    """The call's ``audit_logs`` row: operation ``workflow_action:{action_id}``, table ``workflow_runs``, record =
    run (written by :func:`crm_core.dal.calls.close_call`, with the call's other closing writes)."""
    return {
        "tenant": ctx.tenant_id,
        "audit_id": uuid.uuid4(),
        "user_id": str(ctx.actor_user_id),
        "operation": f"workflow_action:{ctx.action_id}",
        "table_name": "workflow_runs",
        "record_id": ctx.run_id,
        "changed_data": jsonable(entry.changed_data),
        "details": jsonable(
            {
                "action_id": ctx.action_id,
                "action_version": ctx.action_version,
                "step_path": ctx.step_path,
                **entry.details,
            }
        ),
        "timestamp": ctx.now,
    }
