"""The idempotency ledger: one ``workflow_action_invocations`` row per key, written in the effect's transaction.

It is the source of truth of exactly-once: claiming a key (in ``crm_open_call``, see ``dal/calls.py``) inserts
the row first, so a concurrent duplicate waits on the row lock and then sees the committed output; a retry after
a lost DynamoDB record, a timeout or a crash finds the row and returns its output instead of repeating the
effect.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Update, cast, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB

from crm_core.dal.calls import StoredCall
from crm_core.db.models import WorkflowActionInvocation
from crm_core.errors import ConflictError, TransientError


def replay_output(stored: StoredCall, *, key: str, action_id: str, input_hash: str) -> dict[str, Any]:
    """The output to return for a key another call already used (its row was found by ``open_call``).

    ConflictError when the key was used with a different input; TransientError while that call is in progress.
    """
    if stored.input_hash != input_hash:
        raise ConflictError(
            "Idempotency key was already used with a different input",
            {"rule": "idempotency_key_reuse", "idempotency_key": key, "action_id": action_id},
        )
    if stored.status != "SUCCEEDED" or stored.output is None:
        raise TransientError("The same call is still in progress; retry later", {"idempotency_key": key})
    return stored.output


def output_patch_statement(tenant_id: uuid.UUID, invocation_id: uuid.UUID, patch: dict[str, Any]) -> Update:
    """The UPDATE that merges ``patch`` into the stored output (top-level keys)."""
    return (
        update(WorkflowActionInvocation)
        .where(
            WorkflowActionInvocation.c.tenant == tenant_id,
            WorkflowActionInvocation.c.invocation_id == invocation_id,
        )
        .values(output_json=WorkflowActionInvocation.c.output_json.op("||")(cast(type_coerce(patch, JSONB), JSONB)))
    )


def patch_invocation_output(
    connection: Connection, tenant_id: uuid.UUID, invocation_id: uuid.UUID, patch: dict[str, Any]
) -> tuple[str, int, str] | None:
    """Merge ``patch`` into the stored output (top-level keys), e.g. what an after-commit delivery produced.

    Returns the row's action id, version and idempotency key (None when there is no such row).
    """
    row = connection.execute(
        output_patch_statement(tenant_id, invocation_id, patch).returning(
            WorkflowActionInvocation.c.action_id,
            WorkflowActionInvocation.c.action_version,
            WorkflowActionInvocation.c.idempotency_key,
        )
    ).one_or_none()
    return None if row is None else (row.action_id, row.action_version, row.idempotency_key)
