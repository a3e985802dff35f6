"""The handler factory: one Lambda handler per action, every cross-cutting concern in one place.

A call goes: envelope -> input validation -> idempotency key -> (DynamoDB first line) -> one database
transaction [tenant setting -> actor check -> permissions -> ledger claim or replay -> action logic -> audit
row -> outbox rows (events, emails, documents) -> ledger completion] -> commit (or rollback for a dry run) ->
delivery of the effects, whose recorded outcomes patch the output. Any failure becomes one of the contract's
error classes, and nothing of the call persists.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pydantic
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel
from sqlalchemy import Connection

from crm_core.aws.ports import EffectPorts
from crm_core.dal.access import require_active_internal_actor, require_permissions
from crm_core.dal.alone import connection_lost
from crm_core.dal.audit import run_audit_row
from crm_core.dal.calls import Completion, LedgerClaim, close_call, open_call, read_actor_alone
from crm_core.dal.ledger import replay_output
from crm_core.db.engine import get_engine
from crm_core.errors import InternalError
from crm_core.jsonable import json_size
from crm_core.runtime.context import ActionContext
from crm_core.runtime.effects import PendingEffect, deliver_after_commit, effect_rows
from crm_core.runtime.envelope import Envelope, parse_envelope, require_unicode_text, validation_error_from
from crm_core.runtime.error_mapping import to_action_failure
from crm_core.runtime.idempotency import (
    canonical_input,
    first_line_for,
    idempotency_key,
    input_hash,
)
from crm_core.runtime.observability import logger, metrics, tracer
from crm_core.runtime.spec import REHEARSAL_ID, ActionSpec

MAX_OUTPUT_BYTES = 256 * 1024
_NIL = uuid.UUID(REHEARSAL_ID)  # the tenant and actor of the init rehearsal: no tenant has this id

LambdaHandler = Callable[[Any, Any], dict[str, Any]]


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Call:
    """One validated invocation."""

    envelope: Envelope
    payload: BaseModel
    run_id: str
    step_path: str
    key: str
    payload_hash: str
    # Exactly-once per key (both idempotency lines): side-effectful actions, except dry runs.
    recorded: bool

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.envelope.tenant_id


@dataclass(frozen=True)
class Outcome:
    """What a call's transaction produced: the output, whether to commit, the outbox rows to deliver after."""

    output: dict[str, Any]
    commit: bool
    effects: list[PendingEffect] = field(default_factory=list)
    invocation_id: uuid.UUID | None = None


class ActionRunner:
    """Runs one action's calls. ``ports`` replaces where effects go (tests pass adapters on emulated AWS)."""

    def __init__(
        self,
        spec: ActionSpec[Any, Any],
        *,
        ports: EffectPorts | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.spec = spec
        self._ports = ports
        self._clock = clock

    @property
    def ports(self) -> EffectPorts:
        if self._ports is None:
            self._ports = EffectPorts()
        return self._ports

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """Run one call; returns the output object or raises a contract error."""
        started = time.perf_counter()
        metrics.clear_metrics()  # one action per call: start from a clean metric set
        metrics.add_dimension(name="action", value=self.spec.id)
        try:
            output = self._handle(event, context)
        except Exception as exc:
            from aws_lambda_powertools.utilities.idempotency.exceptions import (
                IdempotencyAlreadyInProgressError,
            )

            if isinstance(exc, IdempotencyAlreadyInProgressError):
                metrics.add_metric(name="ActionInProgressDuplicate", unit=MetricUnit.Count, value=1)
                logger.warning("duplicate call while the first is in progress")
                raise
            failure = to_action_failure(exc)
            metrics.add_metric(name="ActionFailed", unit=MetricUnit.Count, value=1)
            logger.info(
                "action failed",
                extra={
                    "error": failure.to_dict(),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            if failure is exc:
                raise
            raise failure from exc
        metrics.add_metric(name="ActionSucceeded", unit=MetricUnit.Count, value=1)
        logger.info("action succeeded", extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        return output

    def _handle(self, event: Any, context: Any) -> dict[str, Any]:
        require_unicode_text(event)
        envelope = parse_envelope(event)
        run_id = envelope.run_id or getattr(context, "aws_request_id", None) or str(uuid.uuid4())
        step_path = envelope.step_path or self.spec.id
        logger.set_correlation_id(run_id)
        logger.append_keys(
            action_id=self.spec.id,
            tenant_id=str(envelope.tenant_id),
            step_path=step_path,
            dry_run=envelope.dry_run,
        )
        call = self._call_of(envelope, run_id, step_path)
        if not call.recorded:
            return self._execute(call)
        executed: list[bool] = []

        def work() -> dict[str, Any]:
            executed.append(True)
            return self._execute(call)

        output = first_line_for(self.spec.qualified_id).run(call.key, call.payload_hash, context, work)
        if not executed:  # DynamoDB replayed a stored output: the actor must still be allowed to see it
            self._check_replaying_actor(call)
        return output

    def _call_of(self, envelope: Envelope, run_id: str, step_path: str) -> Call:
        """The call the envelope asks for: its validated input, the input's hash and the idempotency key."""
        payload = self._parse_input(envelope.input)
        payload_hash = input_hash(payload)
        key = idempotency_key(
            self.spec, envelope, payload, run_id=run_id, step_path=step_path, payload_hash=payload_hash
        )
        recorded = self.spec.records_invocations and not envelope.dry_run
        return Call(envelope, payload, run_id, step_path, key, payload_hash, recorded)

    def _check_replaying_actor(self, call: Call) -> None:
        """PermissionDeniedError unless the actor is still an active internal user holding the action's
        permissions (one statement of its own; a replay the ledger answers checks this in its first statement)."""
        with get_engine().connect() as connection:
            opened = read_actor_alone(connection, call.tenant_id, call.envelope.actor_user_id)
        require_active_internal_actor(opened.actor)
        require_permissions(opened.held, self.spec.permissions(call.payload))

    def _parse_input(self, raw: dict[str, Any]) -> BaseModel:
        try:
            payload: BaseModel = self.spec.input_model.model_validate(raw)
            return payload
        except pydantic.ValidationError as exc:
            raise validation_error_from(exc, what=f"input for {self.spec.id}", prefix="input") from None

    @tracer.capture_method(capture_response=False)
    def _execute(self, call: Call) -> dict[str, Any]:
        now = self._clock()
        # One connection for the call: its transaction, then the marks of what was delivered after the commit.
        with get_engine().connect() as connection:
            try:
                try:
                    outcome = self._transaction(connection, call, now)
                    if outcome.commit:
                        connection.commit()
                    else:
                        connection.rollback()
                except BaseException:
                    connection.rollback()
                    raise
            except Exception as exc:
                # A socket error pg8000 raised below SQLAlchemy leaves the pool unaware the connection died.
                if connection_lost(exc) and not connection.invalidated:
                    connection.invalidate(exc)
                raise
            patch = self._deliver(connection, call.tenant_id, outcome, now)
        return {**outcome.output, **patch}

    def _transaction(self, connection: Connection, call: Call, now: datetime) -> Outcome:
        """Everything of the call that happens inside its one database transaction.

        Its first statement opens the call (tenant, actor, permissions, ledger claim) and its last closes it
        (audit row, outbox rows, ledger completion); in between are the action's own statements.
        """
        spec, envelope = self.spec, call.envelope
        claim = None
        if call.recorded:
            claim = LedgerClaim(
                invocation_id=uuid.uuid4(),
                action_id=spec.id,
                action_version=spec.version,
                key=call.key,
                input_hash=call.payload_hash,
                input_json=canonical_input(call.payload),
                run_id=call.run_id,
                step_path=call.step_path,
                started_at=now,
            )
        opened = open_call(connection, call.tenant_id, envelope.actor_user_id, claim)
        require_active_internal_actor(opened.actor)
        require_permissions(opened.held, spec.permissions(call.payload))
        if opened.stored is not None:
            output = replay_output(opened.stored, key=call.key, action_id=spec.id, input_hash=call.payload_hash)
            logger.info("replayed stored output", extra={"idempotency_key": call.key})
            return Outcome(output, commit=False)
        ctx = ActionContext(
            connection=connection,
            tenant_id=call.tenant_id,
            actor_user_id=envelope.actor_user_id,
            action_id=spec.id,
            action_version=spec.version,
            run_id=call.run_id,
            step_path=call.step_path,
            idempotency_key=call.key,
            now=now,
            dry_run=envelope.dry_run,
            held_permissions=opened.held,
        )
        output = self._serialize_output(spec.run(ctx, call.payload))
        if envelope.dry_run:  # validated, checked and computed: nothing is written, sent, stored or published
            close_call(connection, writes=ctx.writes)  # the writes still meet the database's rules, then roll back
            return Outcome(output, commit=False)
        invocation_id = opened.invocation_id
        written = set(
            close_call(
                connection,
                writes=ctx.writes,
                audit=None if ctx.audit_entry is None else run_audit_row(ctx, ctx.audit_entry),
                effects=effect_rows(
                    ctx.effects,
                    tenant_id=call.tenant_id,
                    action_id=spec.id,
                    run_id=call.run_id,
                    invocation_id=invocation_id,
                    now=now,
                ),
                completion=None if invocation_id is None else Completion(call.tenant_id, invocation_id, output, now),
            )
        )
        return Outcome(
            output,
            commit=True,
            effects=[e for e in ctx.effects if e.effect_id in written],
            invocation_id=invocation_id,
        )

    def rehearse(self) -> None:
        """The init phase's rehearsal (``crm_core.runtime.warmup``): the call's opening statement and, with the
        spec's ``rehearsal_input``, the action itself as a dry run, in one transaction that is rolled back,
        under the nil tenant, which has no rows (row-level security keeps every read empty, and any write fails
        its tenant foreign key). What it leaves behind is only what a first call would otherwise pay: the
        action's prepared statements compiled (``crm_core.db.prepared``) and the rest in the engine's cache,
        PL/pgSQL functions and catalog caches of the database session.
        The outcome of the rehearsed action (usually NOT_FOUND) is ignored.
        """
        spec = self.spec
        payload = None
        if spec.rehearsal_input is not None:  # the call's steps before its transaction, on the rehearsal's input
            envelope = parse_envelope(
                {"tenant_id": REHEARSAL_ID, "actor_user_id": REHEARSAL_ID, "input": spec.rehearsal_input}
            )
            payload = self._call_of(envelope, "rehearsal", spec.id).payload
        with get_engine().connect() as connection, connection.begin() as transaction:
            opened = open_call(connection, _NIL, _NIL, None)
            if payload is not None:
                ctx = ActionContext(
                    connection=connection,
                    tenant_id=_NIL,
                    actor_user_id=_NIL,
                    action_id=spec.id,
                    action_version=spec.version,
                    run_id="rehearsal",
                    step_path="rehearsal",
                    idempotency_key="rehearsal",
                    now=self._clock(),
                    dry_run=True,
                    held_permissions=opened.held | frozenset(spec.permissions(payload)),
                )
                try:
                    self._serialize_output(spec.run(ctx, payload))
                    close_call(connection, writes=ctx.writes)
                except Exception as exc:  # expected: the nil tenant has none of the records the input names
                    logger.debug("rehearsal ended", extra={"outcome": type(exc).__name__})
            transaction.rollback()

    def _serialize_output(self, result: BaseModel) -> dict[str, Any]:
        model = self.spec.output_model
        try:
            validated = result if isinstance(result, model) else model.model_validate(result)
        except pydantic.ValidationError as exc:
            raise InternalError(
                f"{self.spec.id} produced an invalid output",
                {"errors": exc.errors(include_url=False, include_input=False)},
            ) from exc
        size = json_size(validated)
        if size > MAX_OUTPUT_BYTES:
            raise InternalError("Action output exceeds 256 KiB", {"bytes": size, "limit": MAX_OUTPUT_BYTES})
        output: dict[str, Any] = validated.model_dump(mode="json")
        return output

    def _deliver(self, connection: Connection, tenant_id: uuid.UUID, outcome: Outcome, now: datetime) -> dict[str, Any]:
        """Deliver the committed effects; returns the output patch their recorders made (empty when none)."""
        if not outcome.effects:
            return {}
        try:
            report = deliver_after_commit(
                connection, tenant_id, outcome.effects, self.ports, now, invocation_id=outcome.invocation_id
            )
        except Exception:  # the effect is committed; the relay delivers what is still pending
            logger.exception("effect delivery deferred to the relay")
            metrics.add_metric(name="EffectDeliveryDeferred", unit=MetricUnit.Count, value=len(outcome.effects))
            return {}
        metrics.add_metric(name="EffectsDelivered", unit=MetricUnit.Count, value=report.delivered)
        if report.retrying or report.failed:
            logger.warning("some effects were not delivered", extra=report.as_dict())
            metrics.add_metric(name="EffectDeliveryDeferred", unit=MetricUnit.Count, value=report.retrying)
            metrics.add_metric(name="EffectDeliveryFailed", unit=MetricUnit.Count, value=report.failed)
        return report.output_patch


def build_handler(
    spec: ActionSpec[Any, Any],
    *,
    ports: EffectPorts | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> LambdaHandler:
    """The Lambda handler of ``spec``: ``lambda_handler(event, context) -> output dict``.

    Creating it touches no AWS service and no database; both are reached on the first call.
    """
    runner = ActionRunner(spec, ports=ports, clock=clock)

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
        return runner.handle(event, context)

    lambda_handler.runner = runner
    lambda_handler.spec = spec
    handler: LambdaHandler = lambda_handler
    return handler
