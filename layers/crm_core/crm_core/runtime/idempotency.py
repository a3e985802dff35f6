"""Exactly-once per idempotency key ``{tenant}:{action}@{version}:{k}``.

Two lines of defence:

1. Powertools idempotency on DynamoDB (``IDEMPOTENCY_TABLE``): a completed call's output is returned without
   touching the database; a concurrent duplicate gets ``IdempotencyAlreadyInProgressError`` (retry it).
2. The ``workflow_action_invocations`` ledger row, written in the same transaction as the effect: the source
   of truth. Claiming the key inserts the row first, so a concurrent duplicate waits on the row lock and then
   sees the committed output; a retry after a lost DynamoDB record, a timeout or a crash returns that output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from crm_core.jsonable import canonical_json, jsonable
from crm_core.runtime.envelope import Envelope
from crm_core.runtime.spec import ActionSpec
from crm_core.settings import get_settings

IDEMPOTENCY_RECORD_TTL_SECONDS = 24 * 3600


def canonical_input(payload: BaseModel) -> dict[str, Any]:
    """The validated input with defaults filled in, minus ``idempotency_key`` (it names the call, not its content).

    Date-times are normalised to UTC, so ``10:00+05:00`` and ``05:00Z`` are the same call.
    """
    data: dict[str, Any] = jsonable(_in_utc(payload.model_dump(mode="python", exclude={"idempotency_key"})))
    return data


def _in_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, dict):
        return {key: _in_utc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_in_utc(item) for item in value]
    return value


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


class DynamoDbFirstLine:
    """Powertools idempotency for one action, on the table named by ``IDEMPOTENCY_TABLE``.

    One persistence store per action and table: a Powertools store takes its configuration from the first
    function decorated with it, so sharing one between actions would silently mix their settings.
    """

    def __init__(self, qualified_id: str, table_name: str):
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        from crm_core.aws.clients import aws_client

        self.table_name = table_name
        self.key_prefix = f"crm-actions.{qualified_id}"
        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="input_hash",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_RECORD_TTL_SECONDS,
        )
        store = self.store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws_client("dynamodb"))

        def guarded(work: Callable[[], dict[str, Any]], *, call: dict[str, str]) -> dict[str, Any]:
            return work()

        # The record's key is "{key_prefix}#{md5 of the call's key}"; the input hash is checked on a replay.
        self._guarded = idempotent_function(
            guarded,
            data_keyword_argument="call",
            persistence_store=store,
            config=self.config,
            key_prefix=self.key_prefix,
        )

    def run(self, key: str, payload_hash: str, context: Any, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``work()`` at most once per key while the DynamoDB record lives; its stored output otherwise."""
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self.config.register_lambda_context(context)
        result: dict[str, Any] = self._guarded(work, call={"key": key, "input_hash": payload_hash})
        return result

    def prime(self) -> None:
        """At init: one read of a record that never exists (``GetItem``, which the function may do), so botocore
        resolves the endpoint and opens the HTTPS connection to DynamoDB; then one call through Powertools'
        idempotency with every DynamoDB request answered in this container (``answered_locally``: nothing is
        written), so its ``PutItem`` and ``UpdateItem`` paths in Powertools and botocore have run once. The
        first call would otherwise pay all of it."""
        from crm_core.aws.clients import answered_locally

        client = self.store.client
        client.get_item(TableName=self.table_name, Key={self.store.key_attr: {"S": f"{self.key_prefix}#init-warm-up"}})
        with answered_locally(client):
            self._guarded(dict, call={"key": "init-warm-up", "input_hash": "init-warm-up"})

    def forget(self, key: str) -> None:
        """Delete the record of ``key``, so the next call with it is answered by the ledger."""
        self.store.configure(self.config, key_prefix=self.key_prefix)
        self.store.delete_record(data={"key": key}, exception=RuntimeError("stored output superseded"))


_first_lines: dict[tuple[str, str], DynamoDbFirstLine] = {}


def first_line_for(qualified_id: str) -> DynamoDbFirstLine:
    """The DynamoDB first line of the action ``qualified_id`` (``crm.x@1``) on the configured table, created once
    per container; the call path and the relay's ``forget_first_line_record`` share it."""
    table_name = get_settings().require("idempotency_table")
    first_line = _first_lines.get((qualified_id, table_name))
    if first_line is None:
        first_line = _first_lines[(qualified_id, table_name)] = DynamoDbFirstLine(qualified_id, table_name)
    return first_line


def forget_first_line_record(action_id: str, version: int, key: str) -> None:
    """Drop the DynamoDB first-line record of one call of ``action_id@version`` (the relay's use)."""
    first_line_for(f"{action_id}@{version}").forget(key)
