"""Faults: the database connection killed at each statement of a call, DynamoDB throttled and down, EventBridge,
SES and S3 failing.

Each fault must give the contract's class (TransientError when a retry may succeed), lose nothing that was
committed, and a retry of the same call must complete exactly once: one row of the effect, one ledger row, and
every outbox row delivered (by the retry or the relay) with nothing missing.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import settings
from pg8000.core import CoreConnection
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from crm_core.aws.document_store import S3DocumentStore
from crm_core.aws.event_publisher import EventBridgePublisher
from crm_core.aws.mailer import SesMailer
from crm_core.aws.ports import EffectPorts
from crm_core.errors import ActionFailure, TransientError
from crm_core.runtime import build_handler, get_spec
from crm_core.runtime.effects import relay_pending_effects
from crm_core.runtime.error_mapping import to_action_failure
from crm_dev.aws_resources import LocalResources
from crm_dev.lambda_context import LocalLambdaContext
from crm_dev.sql_count import intercept_messages
from tests.support.activities import CALL_TYPE
from tests.support.hardening import row_counts
from tests.support.quotes import add_quote
from tests.support.rows import fetch_all
from tests.support.tenants import Tenant, make_tenant

# ---------------------------------------------------------------------------------------------------------------
# Calling an action
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One call, sent again unchanged by ``retry`` (same run id and step: same derived idempotency key)."""

    action_id: str
    tenant: Tenant
    payload: dict[str, Any]
    ports: EffectPorts | None = None
    run_id: str = ""

    def __post_init__(self) -> None:
        self.run_id = self.run_id or f"run-{uuid.uuid4()}"

    def send(self, *, timeout_seconds: float = 30.0) -> dict[str, Any]:
        spec = get_spec(self.action_id)
        event = {
            "tenant_id": str(self.tenant.id),
            "actor_user_id": str(self.tenant.actor),
            "input": self.payload,
            "run_id": self.run_id,
        }
        context = LocalLambdaContext(spec.name, timeout_seconds=timeout_seconds)
        return build_handler(spec, ports=self.ports)(json.loads(json.dumps(event)), context)

    def attempt(self, **kwargs: Any) -> dict[str, Any] | ActionFailure:
        try:
            return self.send(**kwargs)
        except ActionFailure as exc:
            return exc


def schedule_call(tenant: Tenant, **kwargs: Any) -> Call:
    """crm.schedule_activity: an activity row, and INTERACTION_LOGGED through the outbox."""
    payload = {
        "client_id": str(tenant.client),
        "type_id": str(CALL_TYPE),
        "title": "Renewal call",
        "start_time": "2027-03-02T15:00:00Z",
    }
    return Call("crm.schedule_activity", tenant, payload, **kwargs)


def tag_call(tenant: Tenant, **kwargs: Any) -> Call:
    payload = {"target": {"type": "contact", "id": str(tenant.contact)}, "tags": ["vip", "renewal"]}
    return Call("crm.tag_entity", tenant, payload, **kwargs)


def note_call(tenant: Tenant, **kwargs: Any) -> Call:
    """crm.create_activity_note: a note (an activity row) with its tags; nothing is delivered after the commit."""
    payload = {"target": {"type": "client", "id": str(tenant.client)}, "body": "Renewal call", "tags": ["qbr"]}
    return Call("crm.create_activity_note", tenant, payload, **kwargs)


def send_quote_call(tenant: Tenant, **kwargs: Any) -> Call:
    """crm.send_quote: the quote marked sent in the call's transaction; the PDF (S3) and the email (SES) through
    the outbox after the commit."""
    return Call("crm.send_quote", tenant, {"quote_id": str(add_quote(tenant))}, **kwargs)


def add_item_call(tenant: Tenant, **kwargs: Any) -> Call:
    """crm.add_quote_item: an item and the quote's totals recalculated; nothing delivered after the commit."""
    payload = {"quote_id": str(add_quote(tenant)), "description": "On-site hours", "quantity": 6, "unit_price": 12500}
    return Call("crm.add_quote_item", tenant, payload, **kwargs)


def submit_call(tenant: Tenant, **kwargs: Any) -> Call:
    """crm.submit_quote_for_approval: draft to pending_approval with its quote activities."""
    payload = {"quote_id": str(add_quote(tenant)), "comment": "Please approve"}
    return Call("crm.submit_quote_for_approval", tenant, payload, **kwargs)


CALLS: dict[str, Callable[..., Call]] = {
    "add_quote_item": add_item_call,
    "create_activity_note": note_call,
    "schedule_activity": schedule_call,
    "send_quote": send_quote_call,
    "submit_quote_for_approval": submit_call,
    "tag_entity": tag_call,
}


def ledger_rows(engine: Engine, tenant: Tenant) -> list[dict[str, Any]]:
    return fetch_all(engine, tenant.id, "select * from workflow_action_invocations where tenant = :tenant")


def outbox(engine: Engine, tenant: Tenant) -> list[dict[str, Any]]:
    return fetch_all(engine, tenant.id, "select * from workflow_event_outbox where tenant = :tenant")


def relay(engine: Engine, tenant: Tenant, ports: EffectPorts | None = None) -> None:
    """The relay, run for this tenant as if a day had passed (every back-off is over)."""
    relay_pending_effects(engine, ports or EffectPorts(), datetime.now(UTC) + timedelta(days=1), tenant_id=tenant.id)


def published_keys(aws: LocalResources, tenant: Tenant) -> list[str]:
    """Idempotency keys of the events of ``tenant`` that reached the bus since the last read."""
    return [e["detail"]["idempotencyKey"] for e in aws.drain_events() if e["detail"].get("tenantId") == str(tenant.id)]


def assert_exactly_once(owner_engine: Engine, aws: LocalResources, tenant: Tenant, baseline: dict[str, int]) -> None:
    """One call's worth of rows (as many outbox rows as the undisturbed call made, too), one ledger row, every
    outbox row delivered, and each event on the bus (after the relay ran)."""
    [ledger] = ledger_rows(owner_engine, tenant)
    assert ledger["status"] == "SUCCEEDED"
    rows = outbox(owner_engine, tenant)
    assert all(r["status"] == "DELIVERED" for r in rows), [(r["event_type"], r["status"]) for r in rows]
    keys = set(published_keys(aws, tenant))
    assert keys >= {r["idempotency_key"] for r in rows if r["kind"] == "event"}
    assert row_counts(owner_engine, tenant.id) == baseline


# ---------------------------------------------------------------------------------------------------------------
# The connection killed at statement k
# ---------------------------------------------------------------------------------------------------------------


@contextmanager
def killing_connection_at(engine: Engine, statement: int | None) -> Iterator[list[str]]:
    """Count the messages this thread sends to PostgreSQL; before message number ``statement`` (1-based) is sent,
    terminate that connection's backend from a second connection. Yields the texts sent (to count them)."""
    sent: list[str] = []
    admin = create_engine(engine.url, poolclass=NullPool)

    def kill_at(connection: CoreConnection, _method: str, statement_text: str, *_: Any) -> None:
        sent.append(statement_text)
        if statement is not None and len(sent) == statement:
            _terminate(admin, struct.unpack("!i", connection._backend_key_data[:4])[0])

    try:
        with intercept_messages(kill_at):
            yield sent
    finally:
        admin.dispose()


def _cause(failure: object) -> str:
    """The traceback behind an unexpected failure, for the assertion message."""
    import traceback

    cause = getattr(failure, "__cause__", None)
    return "".join(traceback.format_exception(cause)[-12:]) if cause else ""


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as connection:
        connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(1500):  # the backend exits asynchronously (slowly on a busy machine): wait until it is gone
            alive = connection.execute(text("select count(*) from pg_stat_activity where pid = :pid"), {"pid": pid})
            if not alive.scalar_one():
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} did not exit")


def _statements_of(engine: Engine, owner_engine: Engine, aws: LocalResources, make: Callable[..., Call]) -> int:
    tenant = make_tenant(owner_engine)
    with killing_connection_at(engine, None) as sent:
        make(tenant).send()
    published_keys(aws, tenant)
    return len(sent)


# CI kills the connection at every statement of one call; ``make hardening`` does it for each call of CALLS.
KILLED_CALLS = sorted(CALLS) if settings().max_examples > 25 else ["schedule_activity"]


def as_workflow_retries(send: Callable[[], Any], attempts: int = 3) -> Any:
    """``send()`` retried on TransientError, as a state machine's ``Retry`` (or the relay's next run) would."""
    for attempt in range(attempts):
        try:
            return send()
        except Exception as exc:
            failure = to_action_failure(exc)
            if not isinstance(failure, TransientError) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@pytest.mark.parametrize("action", KILLED_CALLS)
def test_a_connection_killed_at_any_statement_loses_nothing_and_the_retry_completes_once(
    action: str, engine: Engine, owner_engine: Engine, shared_aws: LocalResources
) -> None:
    """The harness seeds and reads as the schema owner, so only the calls (and the relay) use the actions' pool."""
    make = CALLS[action]
    total = _statements_of(engine, owner_engine, shared_aws, make)
    assert total >= 5
    baseline_tenant = make_tenant(owner_engine)  # the same call, undisturbed, gives the rows to expect
    make(baseline_tenant).send()
    relay(engine, baseline_tenant)
    published_keys(shared_aws, baseline_tenant)
    baseline = row_counts(owner_engine, baseline_tenant.id)
    outcomes: dict[int, str] = {}
    for k in range(1, total + 1):
        tenant = make_tenant(owner_engine)
        call = make(tenant)
        with killing_connection_at(engine, k):
            first = call.attempt()
        outcomes[k] = type(first).__name__
        assert isinstance(first, dict | TransientError), f"statement {k}: {first!r}\n{_cause(first)}"
        if isinstance(first, ActionFailure):
            assert ledger_rows(owner_engine, tenant) == [], f"statement {k}: a failed call left its ledger row"
        retried = as_workflow_retries(call.send)
        if isinstance(first, dict):
            assert retried == first, f"statement {k}"
        as_workflow_retries(lambda t=tenant: relay(engine, t))
        assert_exactly_once(owner_engine, shared_aws, tenant, baseline)
    # Both kinds of outcome were seen: kills inside the transaction, and kills in the delivery after the commit
    # (a call that delivers nothing sends no statement after its commit).
    delivers = baseline["workflow_event_outbox"] > 0
    assert ({"TransientError", "dict"} if delivers else {"TransientError"}) <= set(outcomes.values()), outcomes


def test_a_connection_reset_while_reading_is_transient(
    engine: Engine, owner_engine: Engine, shared_aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pg8000.core

    schedule_call(make_tenant(owner_engine)).send()  # a live pooled connection, so the reset hits a statement
    call = schedule_call(make_tenant(owner_engine))
    real_read, real_execute = pg8000.core._read, CoreConnection.execute_simple
    armed = {"reset": False, "done": False}

    def execute_simple(self: CoreConnection, statement: str, *args: Any, **kwargs: Any) -> Any:
        armed["reset"] = not armed["done"]  # the reply of the call's first statement (begin transaction)
        return real_execute(self, statement, *args, **kwargs)

    def reset_once(sock: Any, size: int) -> Any:
        if armed["reset"]:
            armed["reset"], armed["done"] = False, True
            raise ConnectionResetError(104, "Connection reset by peer")
        return real_read(sock, size)

    monkeypatch.setattr(pg8000.core, "_read", reset_once)
    monkeypatch.setattr(CoreConnection, "execute_simple", execute_simple)
    try:
        failure = call.attempt()
    finally:
        # A real reset kills the socket; this one left it open with a reply unread: no later test may reuse it.
        engine.dispose()
    assert armed["done"]
    assert isinstance(failure, TransientError), failure


def test_a_replay_after_a_connection_killed_in_the_delivery_is_answered_or_transient(
    engine: Engine, owner_engine: Engine, shared_aws: LocalResources
) -> None:
    first, second = (schedule_call(make_tenant(owner_engine)) for _ in range(2))
    with killing_connection_at(engine, None) as sent:
        first.send()
    mark = next(i for i, statement in enumerate(sent, 1) if statement.strip().lower() == "commit") + 1
    with killing_connection_at(engine, mark):
        output = second.attempt()
    assert isinstance(output, dict)

    replays = [second.attempt() for _ in range(3)]  # as a workflow's Retry would
    assert all(isinstance(r, dict | TransientError) for r in replays), [f"{r!r}\n{_cause(r)}" for r in replays]
    assert isinstance(replays[-1], dict)


def test_the_call_after_a_connection_killed_in_the_delivery_succeeds(
    engine: Engine, owner_engine: Engine, shared_aws: LocalResources
) -> None:
    first, second, third = (schedule_call(make_tenant(owner_engine)) for _ in range(3))
    with killing_connection_at(engine, None) as sent:
        first.send()
    mark = next(i for i, statement in enumerate(sent, 1) if statement.strip().lower() == "commit") + 1
    with killing_connection_at(engine, mark):
        assert isinstance(second.attempt(), dict)  # committed; only the delivery's mark was lost

    third.send()


# ---------------------------------------------------------------------------------------------------------------
# DynamoDB throttled or down
# ---------------------------------------------------------------------------------------------------------------


@contextmanager
def dynamodb_failing(monkeypatch: pytest.MonkeyPatch, method: str, code: str, status: int) -> Iterator[None]:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import DynamoDBBackend

    class Failure(JsonRESTError):
        def __init__(self) -> None:
            super().__init__(code, "injected by the hardening suite")
            self.code = status

    def fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise Failure()

    with monkeypatch.context() as patch:
        patch.setattr(DynamoDBBackend, method, fail)
        # botocore retries throttling with a back-off of seconds: keep the retries, skip the waiting.
        patch.setattr("botocore.endpoint.time", SimpleNamespace(sleep=lambda _seconds: None))
        yield


@pytest.mark.parametrize(
    ("code", "status", "expected_code"),
    [
        ("ProvisionedThroughputExceededException", 400, "RATE_LIMITED"),
        ("ThrottlingException", 400, "RATE_LIMITED"),
        ("InternalServerError", 500, "TRANSIENT_FAILURE"),
    ],
)
def test_dynamodb_refusing_the_first_write_is_transient_and_leaves_nothing(
    code: str,
    status: int,
    expected_code: str,
    engine: Engine,
    owner_engine: Engine,
    shared_aws: LocalResources,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = make_tenant(engine)
    before = row_counts(owner_engine, tenant.id)
    call = schedule_call(tenant)
    with dynamodb_failing(monkeypatch, "put_item", code, status):
        failure = call.attempt()
    assert isinstance(failure, TransientError) and failure.code == expected_code, failure
    assert row_counts(owner_engine, tenant.id) == before

    call.send()
    call.send()
    [ledger] = ledger_rows(engine, tenant)
    assert ledger["status"] == "SUCCEEDED" and ledger["run_id"] == call.run_id
    assert len(fetch_all(engine, tenant.id, "select 1 from interactions where tenant = :tenant")) == 1


def test_dynamodb_failing_after_the_commit_is_transient_and_the_retry_replays_the_ledger(
    engine: Engine, shared_aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(engine)
    call = schedule_call(tenant)
    with dynamodb_failing(monkeypatch, "update_item", "InternalServerError", 500):
        failure = call.attempt(timeout_seconds=0.5)
    assert isinstance(failure, TransientError), failure
    # The effect committed: it is kept, not lost.
    [ledger] = ledger_rows(engine, tenant)
    time.sleep(0.6)  # the first call's in-progress record expires with its Lambda timeout

    retried = call.send()
    again = call.send()
    assert retried == again
    assert len(ledger_rows(engine, tenant)) == 1
    assert len(fetch_all(engine, tenant.id, "select 1 from interactions where tenant = :tenant")) == 1
    assert retried["activity"]["activity_id"] == ledger["output_json"]["activity"]["activity_id"]


# ---------------------------------------------------------------------------------------------------------------
# EventBridge, SES and S3 failing (the effect ports swapped for ones that fail while told to)
# ---------------------------------------------------------------------------------------------------------------


class Switch:
    """Makes the wrapped adapters raise an AWS error while on."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.on = True
        self.delivered = 0

    def check(self, operation: str) -> None:
        if self.on:
            raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, operation)


class FailingPublisher(EventBridgePublisher):
    def __init__(self, switch: Switch) -> None:
        super().__init__()
        self.switch = switch

    def publish(self, events: Any) -> Any:
        self.switch.check("PutEvents")
        results = super().publish(events)
        self.switch.delivered += len(results)
        return results


class FailingMailer(SesMailer):
    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    def send_raw(self, **kwargs: Any) -> str:
        self.switch.check("SendEmail")
        message_id = super().send_raw(**kwargs)
        self.switch.delivered += 1
        return message_id


class FailingStore(S3DocumentStore):
    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    def put(self, **kwargs: Any) -> Any:
        self.switch.check("PutObject")
        stored = super().put(**kwargs)
        self.switch.delivered += 1
        return stored


@pytest.mark.parametrize("code", ["ServiceUnavailable", "ThrottlingException"])
def test_eventbridge_failing_keeps_the_event_pending_until_the_relay_delivers_it_once(
    code: str, engine: Engine, shared_aws: LocalResources
) -> None:
    tenant = make_tenant(engine)
    switch = Switch(code)
    call = schedule_call(tenant, ports=EffectPorts(events=FailingPublisher(switch)))

    first = call.send()  # committed: the call succeeds, the event waits in the outbox
    [row] = outbox(engine, tenant)
    assert row["status"] == "PENDING" and code in (row["last_error"] or "")
    assert call.send() == first  # a retry replays; it creates no second note nor event
    assert len(outbox(engine, tenant)) == 1
    assert published_keys(shared_aws, tenant) == []

    switch.on = False
    relay(engine, tenant)
    relay(engine, tenant)
    assert published_keys(shared_aws, tenant) == [row["idempotency_key"]]
    assert [r["status"] for r in outbox(engine, tenant)] == ["DELIVERED"]


@pytest.mark.parametrize("failing", ["mailer", "documents"])
def test_ses_or_s3_failing_keeps_the_quote_sent_and_delivers_the_email_and_pdf_once_later(
    failing: str, engine: Engine, shared_aws: LocalResources
) -> None:
    tenant = make_tenant(engine)
    quote_id = add_quote(tenant)
    switch = Switch("ServiceUnavailable")
    adapter = FailingMailer(switch) if failing == "mailer" else FailingStore(switch)
    ports = EffectPorts(**{failing: adapter})
    call = Call("crm.send_quote", tenant, {"quote_id": str(quote_id)}, ports=ports)

    first = call.send()
    assert first["new_status"] == "sent"
    pending = [r for r in outbox(engine, tenant) if r["status"] == "PENDING"]
    assert pending and all("ServiceUnavailable" in (r["last_error"] or "") for r in pending)
    assert call.send() == first

    switch.on = False
    relay(engine, tenant, ports)
    relay(engine, tenant, ports)
    rows = outbox(engine, tenant)
    assert all(r["status"] == "DELIVERED" for r in rows), [(r["kind"], r["status"]) for r in rows]
    kinds = sorted(r["kind"] for r in rows if r["kind"] != "event")
    assert kinds == ["document", "email"]
    assert switch.delivered == 1  # one email, or one PDF stored, for all the attempts
    if failing == "documents":
        [document] = [r for r in rows if r["kind"] == "document"]
        head = _s3_head(document["payload"]["bucket"], document["payload"]["key"])
        assert head["ContentType"] == "application/pdf"


def _s3_head(bucket: str, key: str) -> dict[str, Any]:
    from crm_core.aws.clients import aws_client

    head: dict[str, Any] = aws_client("s3").head_object(Bucket=bucket, Key=key)
    return head
