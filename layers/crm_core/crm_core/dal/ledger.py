"""The idempotency ledger: one ``workflow_action_invocations`` row per key, written in the effect's transaction.

It is the source of truth of exactly-once: claiming a key inserts the row first, so a concurrent duplicate waits
on the row lock and then sees the committed output; a retry after a lost DynamoDB record, a timeout or a crash
finds the row and returns its output instead of repeating the effect.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import cast, select, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from crm_core.db.models import WorkflowActionInvocation
from crm_core.errors import ConflictError, TransientError


@dataclass(frozen=True)
class Claim:
    """Either the key is ours to use (``invocation_id``) or the call already happened (``replay_output``)."""

    invocation_id: uuid.UUID | None = None
    replay_output: dict[str, Any] | None = None


def claim_invocation(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    action_id: str,
    action_version: int,
    key: str,
    payload_hash: str,
    input_json: dict[str, Any],
    run_id: str,
    step_path: str,
    now: datetime,
) -> Claim:
    """Insert the ledger row for ``key``, or return the stored output of the call that already used it.

    ConflictError when the key was used with a different input.
    """
    invocation_id = session.execute(
        insert(WorkflowActionInvocation)
        .values(
            tenant=tenant_id,
            invocation_id=uuid.uuid4(),
            run_id=run_id,
            step_path=step_path,
            action_id=action_id,
            action_version=action_version,
            idempotency_key=key,
            input_hash=payload_hash,
            input_json=input_json,
            status="STARTED",
            started_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant", "action_id", "action_version", "idempotency_key"])
        .returning(WorkflowActionInvocation.invocation_id)
    ).scalar_one_or_none()
    if invocation_id is not None:
        return Claim(invocation_id=invocation_id)
    existing = session.execute(
        select(
            WorkflowActionInvocation.input_hash,
            WorkflowActionInvocation.status,
            WorkflowActionInvocation.output_json,
        ).where(
            WorkflowActionInvocation.tenant == tenant_id,
            WorkflowActionInvocation.action_id == action_id,
            WorkflowActionInvocation.action_version == action_version,
            WorkflowActionInvocation.idempotency_key == key,
        )
    ).one()
    if existing.input_hash != payload_hash:
        raise ConflictError(
            "Idempotency key was already used with a different input",
            {"rule": "idempotency_key_reuse", "idempotency_key": key, "action_id": action_id},
        )
    if existing.status != "SUCCEEDED" or existing.output_json is None:
        raise TransientError("The same call is still in progress; retry later", {"idempotency_key": key})
    return Claim(replay_output=existing.output_json)


def complete_invocation(
    session: Session, tenant_id: uuid.UUID, invocation_id: uuid.UUID, output: dict[str, Any], now: datetime
) -> None:
    """Mark the ledger row SUCCEEDED with the output a replay returns."""
    session.execute(
        update(WorkflowActionInvocation)
        .where(
            WorkflowActionInvocation.tenant == tenant_id,
            WorkflowActionInvocation.invocation_id == invocation_id,
        )
        .values(status="SUCCEEDED", output_json=output, completed_at=now)
    )


def patch_invocation_output(
    session: Session, tenant_id: uuid.UUID, invocation_id: uuid.UUID, patch: dict[str, Any]
) -> tuple[str, int, str] | None:
    """Merge ``patch`` into the stored output (top-level keys), e.g. what an after-commit delivery produced.

    Returns the row's action id, version and idempotency key (None when there is no such row).
    """
    row = session.execute(
        update(WorkflowActionInvocation)
        .where(
            WorkflowActionInvocation.tenant == tenant_id,
            WorkflowActionInvocation.invocation_id == invocation_id,
        )
        .values(output_json=WorkflowActionInvocation.output_json.op("||")(cast(type_coerce(patch, JSONB), JSONB)))
        .returning(
            WorkflowActionInvocation.action_id,
            WorkflowActionInvocation.action_version,
            WorkflowActionInvocation.idempotency_key,
        )
    ).one_or_none()
    return None if row is None else (row.action_id, row.action_version, row.idempotency_key)
