"""Exactly-once per key (CONTRACT section 6).

Two lines of defence:

1. Powertools idempotency on DynamoDB (``IDEMPOTENCY_TABLE``): a completed call's output is returned without
   touching the database; a concurrent duplicate gets ``IdempotencyAlreadyInProgressError`` (retry it).
2. The ``workflow_action_invocations`` ledger row, written in the same transaction as the effect: the source
   of truth. Claiming the key inserts the row first, so a concurrent duplicate waits on the row lock and then
   sees the committed output; a retry after a lost DynamoDB record, a timeout or a crash returns that output.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from crm_core.config import require_setting
from crm_core.db.models import WorkflowActionInvocation
from crm_core.errors import ConflictError, TransientError
from crm_core.runtime.envelope import Envelope
from crm_core.runtime.jsonable import canonical_json, jsonable
from crm_core.runtime.spec import ActionSpec

IDEMPOTENCY_RECORD_TTL_SECONDS = 24 * 3600


def canonical_input(payload: BaseModel) -> dict[str, Any]:
    """The validated input with defaults filled in, minus ``idempotency_key`` (it names the call, not its content)."""
    data: dict[str, Any] = jsonable(payload.model_dump(mode="json", exclude={"idempotency_key"}))
    return data


def input_hash(payload: BaseModel) -> str:
    """sha256 of the canonical input: equal for inputs that mean the same thing."""
    return hashlib.sha256(canonical_json(canonical_input(payload)).encode()).hexdigest()


def idempotency_key(
    spec: ActionSpec[Any, Any],
    envelope: Envelope,
    payload: BaseModel,
    *,
    run_id: str,
    step_path: str,
    payload_hash: str,
) -> str:
    """``{tenant}:{action}@{version}:{k}``.

    ``k`` is the envelope's key, else the input's (action-provided actions), else ``{run}:{step}:{input hash}``.
    """
    k = envelope.idempotency_key
    if k is None and spec.idempotency == "actionProvided":
        own = getattr(payload, "idempotency_key", None)
        if isinstance(own, str) and own.strip():
            k = own.strip()
    if k is None:
        k = f"{run_id}:{step_path}:{payload_hash}"
    return f"{envelope.tenant_id}:{spec.qualified_id}:{k}"


@dataclass(frozen=True)
class Claim:
    """Either the key is ours to use (``invocation_id``) or the call already happened (``replay_output``)."""

    invocation_id: uuid.UUID | None = None
    replay_output: dict[str, Any] | None = None


def claim_invocation(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    spec: ActionSpec[Any, Any],
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
            action_id=spec.id,
            action_version=spec.version,
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
            WorkflowActionInvocation.action_id == spec.id,
            WorkflowActionInvocation.action_version == spec.version,
            WorkflowActionInvocation.idempotency_key == key,
        )
    ).one()
    if existing.input_hash != payload_hash:
        raise ConflictError(
            "Idempotency key was already used with a different input",
            {"rule": "idempotency_key_reuse", "idempotency_key": key, "action_id": spec.id},
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


class DynamoDbFirstLine:
    """Powertools idempotency for one action, on the table named by ``IDEMPOTENCY_TABLE``.

    One persistence store per action and table (a Powertools store is configured once, by its first user).
    """

    def __init__(self, spec: ActionSpec[Any, Any], table_name: str):
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

        from crm_core.aws.clients import aws_client

        self.table_name = table_name
        self.key_prefix = f"crm-actions.{spec.qualified_id}"
        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="input_hash",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_RECORD_TTL_SECONDS,
        )
        self.store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws_client("dynamodb"))

    def run(self, key: str, payload_hash: str, context: Any, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``work()`` at most once per key while the DynamoDB record lives; its stored output otherwise."""
        from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler

        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self.config.register_lambda_context(context)
        handler = IdempotencyHandler(
            function=work,
            function_payload={"key": key, "input_hash": payload_hash},
            config=self.config,
            persistence_store=self.store,
            key_prefix=self.key_prefix,
            function_args=(),
            function_kwargs={},
        )
        result: dict[str, Any] = handler.handle()
        return result


def first_line_for(spec: ActionSpec[Any, Any], cache: dict[str, DynamoDbFirstLine]) -> DynamoDbFirstLine:
    """The DynamoDB first line for ``spec`` on the configured table (created on first use)."""
    table_name = require_setting("IDEMPOTENCY_TABLE")
    first_line = cache.get(table_name)
    if first_line is None:
        first_line = cache[table_name] = DynamoDbFirstLine(spec, table_name)
    return first_line
