"""After-commit effects: domain events, emails and documents, delivered only once the action has committed.

An action queues effects on its context (``ctx.emit``, ``ctx.send_email``, ``ctx.store_document``). The runtime
writes them to the outbox in the action's own transaction; nothing leaves before the commit, and a failed or dry
call leaves nothing. After the commit the dispatcher delivers them through the ports (EventBridge, SES, S3);
whatever could not be delivered stays PENDING with a back-off and the relay function delivers it later. Each
attempt is recorded on the row: status, attempts, the last error, and the result (event id, message id, S3
key). An action that needs to know how delivery went names an *outcome recorder*: it runs in the same
transaction that marks the row, after every attempt, may update the action's own rows (an activity's metadata,
an email log) and returns a patch of the call's output, which is merged into the returned output and into the
ledger's stored output, so a replay returns what really happened.

Exactly once: a row is locked (``FOR UPDATE SKIP LOCKED``) while it is delivered and marked in the same
transaction, so two dispatchers never deliver it twice. The one window left is a crash after the external
service accepted the effect and before that transaction commits: the row is still PENDING and the relay
delivers it again. Email and document rows are therefore delivered one per transaction, committed right after
the external call, which keeps that window to one commit round trip.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from crm_core.aws.event_publisher import OutgoingEvent
from crm_core.aws.ports import EffectPorts
from crm_core.dal.calls import close_call
from crm_core.dal.effects import (
    EffectMark,
    EffectRow,
    lock_due_effects,
    record_marks,
    record_marks_at_once,
)
from crm_core.dal.ledger import output_patch_statement, patch_invocation_output
from crm_core.dal.writes import DeferredWrites, StatementSink

logger = logging.getLogger(__name__)

EffectKind = Literal["event", "email", "document"]
# The relay leaves a fresh row alone this long, so it does not race the delivery that follows the commit.
RELAY_GRACE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)
# Attempts before an effect is given up as FAILED (it stays in the outbox, with its last error, for an operator).
MAX_ATTEMPTS: dict[str, int] = {"event": 20, "email": 6, "document": 10}
# AWS error codes that no retry can fix: the effect fails at once.
PERMANENT_AWS_ERRORS = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "BadRequestException",
        "InvalidParameterValue",
        "NoSuchBucket",
        "AccessDenied",
        "AccessDeniedException",
    }
)


@dataclass(frozen=True)
class PendingEffect:
    """An effect an action queued, waiting for the outbox."""

    kind: EffectKind
    key: str
    payload: dict[str, Any]
    event_type: str | None = None
    content: bytes | None = None
    recorder: str | None = None
    effect_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class EffectOutcome:
    """How one delivery attempt went: DELIVERED, RETRYING (stays pending) or FAILED (given up)."""

    status: Literal["DELIVERED", "RETRYING", "FAILED"]
    attempts: int
    result: dict[str, Any] | None = None
    error: str | None = None


# A recorder writes through a StatementSink: right after the commit its writes go out in one statement with the
# ledger patch; in the relay they run at once, in a savepoint.
OutcomeRecorder = Callable[[StatementSink, EffectRow, EffectOutcome], dict[str, Any] | None]
_RECORDERS: dict[str, OutcomeRecorder] = {}


def outcome_recorder(name: str) -> Callable[[OutcomeRecorder], OutcomeRecorder]:
    """Register ``function`` as the recorder named ``name`` (an action module registers its own at import)."""

    def register(function: OutcomeRecorder) -> OutcomeRecorder:
        if _RECORDERS.get(name, function) is not function:
            raise RuntimeError(f"outcome recorder {name!r} is registered twice")
        _RECORDERS[name] = function
        return function

    return register


@dataclass
class DeliveryReport:
    """What a delivery run did, and the output patches its recorders returned (in delivery order)."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    output_patch: dict[str, Any] = field(default_factory=dict)
    # (action id, version, idempotency key) of ledger rows whose stored output a recorder patched.
    patched_calls: list[tuple[str, int, str]] = field(default_factory=list)

    def add(self, outcome: EffectOutcome) -> None:
        if outcome.status == "DELIVERED":
            self.delivered += 1
        elif outcome.status == "RETRYING":
            self.retrying += 1
        else:
            self.failed += 1

    def merge(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.output_patch.update(other.output_patch)
        self.patched_calls.extend(other.patched_calls)

    def as_dict(self) -> dict[str, int]:
        return {"delivered": self.delivered, "retrying": self.retrying, "failed": self.failed}


def effect_rows(
    effects: Sequence[PendingEffect],
    *,
    tenant_id: uuid.UUID,
    action_id: str,
    run_id: str,
    invocation_id: uuid.UUID | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The call's outbox rows (written by ``close_call`` with the call's other closing writes)."""
    return [
        {
            "tenant": tenant_id,
            "event_id": effect.effect_id,
            "kind": effect.kind,
            "event_type": effect.event_type,
            "idempotency_key": effect.key,
            "payload": effect.payload,
            "content": effect.content,
            "recorder": effect.recorder,
            "invocation_id": invocation_id,
            "source_action_id": action_id,
            "run_id": run_id,
            "created_at": now,
            "available_at": now + RELAY_GRACE,
        }
        for effect in effects
    ]


def deliver_after_commit(
    connection: Connection,
    tenant_id: uuid.UUID,
    effects: Sequence[PendingEffect],
    ports: EffectPorts,
    now: datetime,
    *,
    invocation_id: uuid.UUID | None = None,
) -> DeliveryReport:
    """Deliver a call's committed effects on the call's own connection, right after its commit.

    Documents go first, then emails, then the events in one batch; then every outcome is recorded in one
    statement (``crm_mark_effects``), or, when an effect names an outcome recorder, in one transaction with the
    recorders and the ledger patches they return. No lock is taken: the rows were committed with
    ``available_at`` one ``RELAY_GRACE`` ahead, so the relay leaves them to this dispatcher meanwhile, and
    marks only touch rows still PENDING. A crash between a send and the mark leaves the row PENDING: the relay
    delivers it again after the grace (the window is the sends that follow plus one round trip).
    """
    ordered = [e for e in effects if e.kind == "document"] + [e for e in effects if e.kind == "email"]
    ordered += [e for e in effects if e.kind == "event"]
    rows = [_row_of(effect, tenant_id, invocation_id) for effect in ordered]
    outcomes = [_deliver_one(row, ports) for row in rows if row.kind != "event"]
    events = [row for row in rows if row.kind == "event"]
    if events:
        outcomes += _publish_events(events, ports)
    report = _reported(rows, outcomes)
    marks = [_mark(row, outcome, now) for row, outcome in zip(rows, outcomes, strict=True)]
    recorded = [(row, outcome) for row, outcome in zip(rows, outcomes, strict=True) if row.recorder is not None]
    if not recorded:
        record_marks_at_once(connection, tenant_id, marks)
        return report
    try:
        with connection.begin():
            record_marks(connection, tenant_id, marks)  # also scopes this transaction to the tenant
            writes = DeferredWrites()
            for row, outcome in recorded:
                report.output_patch.update(_RECORDERS[row.recorder or ""](writes, row, outcome) or {})
            if report.output_patch and invocation_id is not None:
                writes.execute(output_patch_statement(tenant_id, invocation_id, report.output_patch))
            close_call(connection, writes=writes)  # the recorders' writes and the ledger patch: one statement
    except Exception:
        logger.exception("outcome recorders failed; the deliveries are recorded without them")
        report.output_patch.clear()
        record_marks_at_once(connection, tenant_id, marks)
    return report


def _row_of(effect: PendingEffect, tenant_id: uuid.UUID, invocation_id: uuid.UUID | None) -> EffectRow:
    """A just-committed effect as delivery sees it (no attempt made yet)."""
    return EffectRow(
        tenant=tenant_id,
        effect_id=effect.effect_id,
        kind=effect.kind,
        event_type=effect.event_type,
        idempotency_key=effect.key,
        payload=effect.payload,
        content=effect.content,
        attempts=0,
        recorder=effect.recorder,
        invocation_id=invocation_id,
    )


def relay_pending_effects(
    engine: Engine,
    ports: EffectPorts,
    now: datetime,
    *,
    batch_size: int = 100,
    max_batches: int = 10,
    tenant_id: uuid.UUID | None = None,
) -> DeliveryReport:
    """Deliver pending effects whose time has come (the relay function's job): of every tenant, or of one.

    Emails and documents go one per transaction (see the module docstring); events in batches.
    """
    report = DeliveryReport()
    for _ in range(batch_size * max_batches):
        with engine.begin() as connection:
            rows = lock_due_effects(connection, now, ["document", "email"], 1, tenant_id)
            if not rows:
                break
            batch = _deliver_rows(connection, rows, ports, now)
        report.merge(batch)
        forget_replays(batch.patched_calls)
    for _ in range(max_batches):
        with engine.begin() as connection:
            rows = lock_due_effects(connection, now, ["event"], batch_size, tenant_id)
            for row_tenant in dict.fromkeys(row.tenant for row in rows):
                report.merge(_deliver_rows(connection, [r for r in rows if r.tenant == row_tenant], ports, now))
        if len(rows) < batch_size:
            break
    return report


def forget_replays(calls: Sequence[tuple[str, int, str]]) -> None:
    """Drop the DynamoDB first-line records of calls whose stored output the relay just patched.

    The first line keeps the output a call returned; after a later delivery the ledger holds the truth, so the
    next replay must reach the ledger. Best effort: a record that cannot be dropped expires with its TTL.
    """
    if not calls:
        return
    from crm_core.runtime.idempotency import forget_first_line_record

    for action_id, version, key in calls:
        try:
            forget_first_line_record(action_id, version, key)
        except Exception:
            logger.exception("could not drop the idempotency record of %s@%s", action_id, version)


def _deliver_rows(
    connection: Connection, rows: Sequence[EffectRow], ports: EffectPorts, now: datetime
) -> DeliveryReport:
    """Deliver locked rows of one tenant, mark them (which scopes the transaction to the tenant for the recorders),
    run their recorders and patch their ledger outputs."""
    if not rows:
        return DeliveryReport()
    outcomes = _send(rows, ports)
    record_marks(
        connection, rows[0].tenant, [_mark(row, outcome, now) for row, outcome in zip(rows, outcomes, strict=True)]
    )
    report = _reported(rows, outcomes)
    for row, outcome in zip(rows, outcomes, strict=True):
        if row.recorder is not None:
            _record_isolated(connection, row, outcome, report)
    return report


def _reported(rows: Sequence[EffectRow], outcomes: Sequence[EffectOutcome]) -> DeliveryReport:
    """The counts of ``outcomes``, each effect not delivered logged with its error."""
    report = DeliveryReport()
    for row, outcome in zip(rows, outcomes, strict=True):
        report.add(outcome)
        if outcome.status != "DELIVERED":
            logger.warning("effect %s (%s) not delivered: %s", row.effect_id, row.kind, outcome.error)
    return report


def _record(connection: Connection, row: EffectRow, outcome: EffectOutcome, report: DeliveryReport) -> None:
    """Run the row's recorder and patch its call's ledger output with what it returns."""
    patch = _RECORDERS[row.recorder or ""](connection, row, outcome)
    if not patch:
        return
    if row.invocation_id is not None:
        patched = patch_invocation_output(connection, row.tenant, row.invocation_id, patch)
        if patched is not None:
            report.patched_calls.append(patched)
    report.output_patch.update(patch)


def _record_isolated(connection: Connection, row: EffectRow, outcome: EffectOutcome, report: DeliveryReport) -> None:
    """:func:`_record` in a savepoint: if it fails, the delivery is still marked (never sent twice)."""
    attempt = DeliveryReport()
    try:
        with connection.begin_nested():
            _record(connection, row, outcome, attempt)
    except Exception:
        logger.exception(
            "outcome recorder %r failed for effect %s; the delivery stays recorded", row.recorder, row.effect_id
        )
        return
    report.merge(attempt)  # only the patches: the attempt counted no deliveries


def _send(rows: Sequence[EffectRow], ports: EffectPorts) -> list[EffectOutcome]:
    if rows[0].kind == "event":
        return _publish_events(rows, ports)
    return [_deliver_one(row, ports) for row in rows]


def _publish_events(rows: Sequence[EffectRow], ports: EffectPorts) -> list[EffectOutcome]:
    try:
        results = ports.events.publish([OutgoingEvent(r.event_type or "", r.payload) for r in rows])
    except Exception as exc:  # the effect has committed; delivery is retried later
        return [_failed_attempt(row, exc) for row in rows]
    outcomes: list[EffectOutcome] = []
    for row, result in zip(rows, results, strict=True):
        if result.event_id:
            outcomes.append(EffectOutcome("DELIVERED", row.attempts + 1, {"event_id": result.event_id}))
        else:
            outcomes.append(_retry_or_give_up(row, result.error or "not published", permanent=False))
    return outcomes


def _deliver_one(row: EffectRow, ports: EffectPorts) -> EffectOutcome:
    payload, content = row.payload, row.content or b""
    try:
        if row.kind == "document":
            stored = ports.documents.put(
                bucket=payload["bucket"],
                key=payload["key"],
                body=content,
                content_type=payload["content_type"],
                metadata=payload.get("metadata", {}),
            )
            result: dict[str, Any] = {"bucket": stored.bucket, "key": stored.key, "etag": stored.etag}
        else:
            message_id = ports.mailer.send_raw(sender=payload["sender"], recipients=payload["to"], raw_message=content)
            result = {"message_id": message_id}
    except Exception as exc:
        return _failed_attempt(row, exc)
    return EffectOutcome("DELIVERED", row.attempts + 1, result)


def _failed_attempt(row: EffectRow, exc: Exception) -> EffectOutcome:
    code = _aws_error_code(exc)
    reason = f"{code or type(exc).__name__}: {exc}"[:2000]
    return _retry_or_give_up(row, reason, permanent=code in PERMANENT_AWS_ERRORS)


def _retry_or_give_up(row: EffectRow, reason: str, *, permanent: bool) -> EffectOutcome:
    attempts = row.attempts + 1
    if permanent or attempts >= MAX_ATTEMPTS[row.kind]:
        return EffectOutcome("FAILED", attempts, error=reason)
    return EffectOutcome("RETRYING", attempts, error=reason)


def _aws_error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def _mark(row: EffectRow, outcome: EffectOutcome, now: datetime) -> EffectMark:
    if outcome.status == "RETRYING":
        available_at = now + min(RELAY_GRACE * (2 ** min(outcome.attempts, 10)), MAX_BACKOFF)
    else:
        available_at = now
    return EffectMark(
        effect_id=row.effect_id,
        status="PENDING" if outcome.status == "RETRYING" else outcome.status,
        attempts=outcome.attempts,
        result=outcome.result,
        last_error=outcome.error,
        available_at=available_at,
        delivered_at=now if outcome.status == "DELIVERED" else None,
    )
