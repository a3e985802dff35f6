"""The first and the last statement of every call: opening it (tenant, actor, permissions, ledger claim) and
closing it (the action's deferred writes, audit row, outbox rows, ledger completion).

A call's transaction is ``open_call`` -> the action's own reads and writes -> ``close_call`` -> COMMIT. Opening
is one statement (the ``crm_open_call`` function of migration 0005); closing is one statement whose
data-modifying CTEs write everything else together (see ``dal/writes.py``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    Connection,
    Delete,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from crm_core.dal.access import Actor, PermissionNeed
from crm_core.dal.alone import execute_alone
from crm_core.dal.writes import DeferredWrites, RowWrite, row_statement
from crm_core.db.models import AuditLog, WorkflowActionInvocation, WorkflowEventOutbox
from crm_core.db.prepared import Prepared, bound_values
from crm_core.db.shapes import shape_cache, shape_type

_OPEN_CALL = Prepared("select * from crm_open_call(:tenant, :actor, cast(:claim as jsonb))")


@dataclass(frozen=True)
class LedgerClaim:
    """The ledger row a recorded call claims for its idempotency key."""

    invocation_id: uuid.UUID
    action_id: str
    action_version: int
    key: str
    input_hash: str
    input_json: dict[str, Any]
    run_id: str
    step_path: str
    started_at: datetime

    def as_json(self) -> str:
        return json.dumps(
            {
                "invocation_id": str(self.invocation_id),
                "action_id": self.action_id,
                "action_version": self.action_version,
                "idempotency_key": self.key,
                "input_hash": self.input_hash,
                "input_json": self.input_json,
                "run_id": self.run_id,
                "step_path": self.step_path,
                "started_at": self.started_at.isoformat(),
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class StoredCall:
    """What the ledger holds for a key another call already used."""

    input_hash: str
    status: str
    output: dict[str, Any] | None


@dataclass(frozen=True)
class OpenedCall:
    """The facts of a call's first statement: the actor, what it holds, and the claim's outcome (if any).

    ``invocation_id`` is set when the key was claimed by this call; ``stored`` when another call had used it.
    Both are None when nothing was claimed (no claim asked, or an actor that may not act).
    """

    actor: Actor
    held: frozenset[PermissionNeed]
    invocation_id: uuid.UUID | None
    stored: StoredCall | None


@lru_cache(maxsize=64)
def held_permissions(text: str | None) -> frozenset[PermissionNeed]:
    """The permissions ``crm_open_call`` lists as one ``resource:action,resource:action`` text (parsed once per
    distinct text: a container sees the same few roles call after call)."""
    return frozenset(PermissionNeed(*need.split(":", 1)) for need in text.split(",")) if text else frozenset()


def open_call(
    connection: Connection, tenant_id: uuid.UUID, actor_user_id: uuid.UUID, claim: LedgerClaim | None
) -> OpenedCall:
    """Scope the transaction to ``tenant_id``, read the actor and its permissions, claim the key: one statement."""
    row = _OPEN_CALL.one(
        connection, tenant=tenant_id, actor=actor_user_id, claim=None if claim is None else claim.as_json()
    )
    stored = None
    if row.stored_status is not None:
        stored = StoredCall(row.stored_input_hash, row.stored_status, row.stored_output)
    return OpenedCall(
        actor=Actor(actor_user_id, bool(row.actor_found), row.actor_type, row.actor_inactive),
        held=held_permissions(row.held_permissions),
        invocation_id=row.claimed_invocation_id,
        stored=stored,
    )


def read_actor_alone(connection: Connection, tenant_id: uuid.UUID, actor_user_id: uuid.UUID) -> OpenedCall:
    """The actor and its permissions, as :func:`open_call` reads them, in one statement of its own (no claim).

    For a call whose output DynamoDB replays: the actor must still be an active user holding the permissions.
    """
    rows = execute_alone(
        connection,
        "select actor_found, actor_type, actor_inactive, held_permissions"
        " from crm_open_call(cast(%s as uuid), cast(%s as uuid), null)",
        (str(tenant_id), str(actor_user_id)),
    )
    found, user_type, inactive, held = rows[0]
    return OpenedCall(
        actor=Actor(actor_user_id, bool(found), user_type, inactive),
        held=held_permissions(held),
        invocation_id=None,
        stored=None,
    )


@dataclass(frozen=True)
class Completion:
    """The ledger row a call completes, with the output a replay returns."""

    tenant_id: uuid.UUID
    invocation_id: uuid.UUID
    output: dict[str, Any]
    completed_at: datetime


def close_call(
    connection: Connection,
    *,
    writes: DeferredWrites | None = None,
    audit: dict[str, Any] | None = None,
    effects: Sequence[dict[str, Any]] = (),
    completion: Completion | None = None,
) -> list[uuid.UUID]:
    """Write the action's deferred writes, the audit row, the outbox rows and the ledger completion in one
    statement (each a data-modifying CTE).

    Returns the ids of the outbox rows really written (a key already queued is skipped). Nothing is sent when
    there is nothing to write. When every deferred write is a row write (``insert_row``/``update_row``), the
    statement is a prepared one, built once per shape of call; otherwise it is built for the call.
    """
    kept = writes.statements if writes else []
    if not (kept or audit is not None or effects or completion is not None):
        return []
    audit_columns = None if audit is None else tuple(audit)
    effects_shape = (len(effects), tuple(effects[0])) if effects else None
    parameters: dict[str, Any] = {}
    if audit is not None:
        parameters.update({f"audit_{name}": value for name, value in audit.items()})
    for number, effect in enumerate(effects):
        parameters.update({f"e{number}_{name}": value for name, value in effect.items()})
    if completion is not None:
        parameters.update(
            done_tenant=completion.tenant_id,
            done_invocation=completion.invocation_id,
            done_output=completion.output,
            done_at=completion.completed_at,
        )
    for number, write in enumerate(kept):
        if isinstance(write, RowWrite):
            parameters.update({f"w{number}_{name}": value for name, value in write.values.items()})
    rows: Sequence[Any]
    row_writes = [write for write in kept if isinstance(write, RowWrite)]
    if len(row_writes) == len(kept):
        shape = _CloseShape(tuple(w.shape for w in row_writes), audit_columns, effects_shape, completion is not None)
        rows = _close_statement(shape).all(connection, parameters)
    else:  # a Core statement among the writes: its values are in it; the rest are bound as in the prepared form
        statements = [
            write.statement(f"w{number}_") if isinstance(write, RowWrite) else write
            for number, write in enumerate(kept)
        ]
        closing = _closing_select(statements, audit_columns, effects_shape, completion=completion is not None)
        rows = connection.execute(closing, parameters).all()
    return [row[0] for row in rows] if effects else []


@shape_type
@dataclass(frozen=True)
class _CloseShape:
    """What a closing statement writes, without the values: its statement is built once per shape."""

    writes: tuple[tuple[str, Table, tuple[str, ...], tuple[str, ...]], ...]
    audit: tuple[str, ...] | None
    effects: tuple[int, tuple[str, ...]] | None
    completion: bool


@shape_cache(maxsize=256)
def _close_statement(shape: _CloseShape) -> Prepared:
    """The closing statement of one shape of call, with a bind parameter for every value."""
    writes = [row_statement(write, f"w{number}_") for number, write in enumerate(shape.writes)]
    return Prepared(_closing_select(writes, shape.audit, shape.effects, completion=shape.completion))


def _closing_select(
    writes: Sequence[Insert | Update | Delete],
    audit: tuple[str, ...] | None,
    effects: tuple[int, tuple[str, ...]] | None,
    *,
    completion: bool,
) -> Select[Any]:
    """``writes`` as CTEs, then the audit row (``audit``: its columns), the ledger completion and the outbox rows
    (``effects``: how many, their columns), whose values are bind parameters (``audit_<column>``,
    ``done_tenant``/``done_invocation``/``done_output``/``done_at``, ``e<n>_<column>``)."""
    ctes: list[CTE] = [write.cte(f"write_{number}") for number, write in enumerate(writes)]
    if audit is not None:
        ctes.append(insert(AuditLog).values(bound_values(AuditLog, audit, "audit_")).cte("audit_row"))
    if completion:
        ledger = WorkflowActionInvocation
        ctes.append(
            update(ledger)
            .where(ledger.c.tenant == bindparam("done_tenant"), ledger.c.invocation_id == bindparam("done_invocation"))
            .values(
                status="SUCCEEDED",
                output_json=bindparam("done_output", type_=ledger.c.output_json.type),
                completed_at=bindparam("done_at", type_=ledger.c.completed_at.type),
            )
            .cte("ledger_row")
        )
    statement: Select[Any]
    if effects is not None:
        count, columns = effects
        outbox = WorkflowEventOutbox
        written = (
            pg_insert(outbox)
            .values([bound_values(outbox, columns, f"e{number}_") for number in range(count)])
            .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
            .returning(outbox.c.event_id)
            .cte("written")
        )
        statement = select(written.c.event_id)
    else:
        statement = select(literal(1))
    return statement.add_cte(*ctes) if ctes else statement
