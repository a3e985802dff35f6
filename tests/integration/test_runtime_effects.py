"""After-commit effects: an event, an email and a document written with the action, delivered after its commit.

A test-only action (defined here, not registered) drives the real runtime (the same build_handler every function
uses) against real PostgreSQL and moto. Failures are made in moto's backends (the services answer 503), never in
the project's code. The relay serves every tenant, so this module works in a database of its own (when the role
may create one): other tests' relays never deliver these rows, and these relays never deliver theirs.
"""

from __future__ import annotations

import email
import email.policy
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.events.models import EventsBackend
from moto.s3.models import S3Backend
from moto.ses.models import ses_backends
from moto.sesv2.models import SESV2Backend
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from werkzeug.exceptions import HTTPException

from crm_core.actions.fields import ActionInput, ActionOutput
from crm_core.aws.ports import EffectPorts
from crm_core.dal.effects import EffectRow
from crm_core.db.engine import get_engine, tenant_transaction
from crm_core.db.migrate import upgrade
from crm_core.errors import ValidationError
from crm_core.runtime import ActionContext, build_handler
from crm_core.runtime.effects import MAX_ATTEMPTS, EffectOutcome, outcome_recorder, relay_pending_effects
from crm_core.settings import reset_settings
from crm_dev.aws_resources import LocalResources
from crm_dev.lambda_context import LocalLambdaContext
from crm_dev.seed import TenantSeeder
from tests.support.handlers import unregistered_spec

RECORDER = "test.effects"
RECIPIENT = "carol@client.example"
UNVERIFIED_SENDER = "nobody@unverified.example"
KINDS = ("event", "email", "document")


class EffectsInput(ActionInput):
    tag: str
    sender: str
    bucket: str
    fail_after_queueing: bool = False


class EffectsOutput(ActionOutput):
    tag: str
    email_status: str = "QUEUED"
    document_status: str = "QUEUED"


def object_key(tenant_id: uuid.UUID, tag: str) -> str:
    return f"tests/effects/{tenant_id}/{tag}.txt"


def raw_email(sender: str, tag: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = RECIPIENT
    message["Subject"] = f"Effects test {tag}"
    message.set_content(f"Hello from {tag}.")
    message.add_attachment(f"document {tag}".encode(), maintype="text", subtype="plain", filename=f"{tag}.txt")
    return message.as_bytes()


def queue_effects(ctx: ActionContext, data: EffectsInput) -> EffectsOutput:
    ctx.emit("TEST_EFFECTS_QUEUED", f"test_effects:{data.tag}", {"tag": data.tag})
    ctx.send_email(
        f"test_effects_email:{data.tag}",
        sender=data.sender,
        recipients=[RECIPIENT],
        raw_message=raw_email(data.sender, data.tag),
        details={"tag": data.tag},
        recorder=RECORDER,
    )
    ctx.store_document(
        f"test_effects_document:{data.tag}",
        bucket=data.bucket,
        object_key=object_key(ctx.tenant_id, data.tag),
        body=f"document {data.tag}".encode(),
        content_type="text/plain",
        metadata={"tag": data.tag},
        recorder=RECORDER,
    )
    if data.fail_after_queueing:
        raise ValidationError("asked to fail", {"rule": "test"})
    return EffectsOutput(tag=data.tag)


@outcome_recorder(RECORDER)
def record_outcome(session: Session, row: EffectRow, outcome: EffectOutcome) -> dict[str, Any]:
    """What the call's output says of its email and document, after every delivery attempt."""
    patch: dict[str, Any] = {
        f"{row.kind}_status": outcome.status,
        f"{row.kind}_attempts": outcome.attempts,
        f"{row.kind}_error": outcome.error,
    }
    if outcome.result and row.kind == "email":
        patch["email_message_id"] = outcome.result["message_id"]
    if outcome.result and row.kind == "document":
        patch["document_key"] = outcome.result["key"]
    return patch


EFFECTS = unregistered_spec(
    "test.effects", "Effects", "Queues an event, an email and a document.", EffectsInput, EffectsOutput, queue_effects
)


@dataclass(frozen=True)
class Caller:
    tenant_id: uuid.UUID
    actor: uuid.UUID


@pytest.fixture(scope="module")
def db(database_url: str, migration_url: str, engine: Engine, can_create_databases: bool) -> Iterator[Engine]:
    """A freshly migrated database for this module (the actions' engine on it), or the shared one when the owner
    may not create databases."""
    if not can_create_databases:
        yield engine
        return
    name = f"crm_effects_{uuid.uuid4().hex[:12]}"
    admin = create_engine(migration_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"create database {name}"))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(make_url(migration_url).set(database=name).render_as_string(hide_password=False))
        yield get_engine(url)
    finally:
        get_engine(url).dispose()
        relay_engine_of(get_engine(url)).dispose()
        with admin.connect() as connection:
            connection.execute(text(f"drop database if exists {name} with (force)"))
        admin.dispose()


def relay_engine_of(db: Engine) -> Engine:
    """The relay's login (RELAY_DATABASE_URL) on ``db``'s database."""
    relay_url = make_url(os.environ["RELAY_DATABASE_URL"]).set(database=db.url.database)
    return get_engine(relay_url.render_as_string(hide_password=False))


@pytest.fixture
def caller(db: Engine, aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Caller:
    """A tenant with an Admin in ``db``, which the handler uses too."""
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    reset_settings()
    seed = TenantSeeder(db).create()
    return Caller(seed.tenant_id, seed.user(roles=["Admin"]))


def call(who: Caller, aws: LocalResources, tag: str, *, sender: str | None = None, **envelope: Any) -> dict[str, Any]:
    action_input = {"tag": tag, "sender": sender or aws.sender, "bucket": aws.bucket, **envelope.pop("input", {})}
    event = {"tenant_id": str(who.tenant_id), "actor_user_id": str(who.actor), "input": action_input, **envelope}
    return build_handler(EFFECTS)(event, LocalLambdaContext("effects"))


def relay(db: Engine, hours: int = 2) -> dict[str, int]:
    """A relay run at ``hours`` from now (past any back-off a first failure sets)."""
    later = datetime.now(UTC) + timedelta(hours=hours)
    return relay_pending_effects(relay_engine_of(db), EffectPorts(), later).as_dict()


# What was really delivered, read back from moto.


def sent_emails(tag: str) -> list[EmailMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    raw = [m.raw_data for m in backend.sent_messages if f"Effects test {tag}" in getattr(m, "raw_data", "")]
    return [email.message_from_string(data, policy=email.policy.default) for data in raw]


def stored_objects(aws: LocalResources, who: Caller) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    listing = s3.list_objects_v2(Bucket=aws.bucket, Prefix=f"tests/effects/{who.tenant_id}/")
    return [item["Key"] for item in listing.get("Contents", [])]


def published(aws: LocalResources, who: Caller) -> list[dict[str, Any]]:
    return [e for e in aws.drain_events() if e["detail"].get("tenantId") == str(who.tenant_id)]


# What the call left in the database.


def outbox(db: Engine, who: Caller) -> dict[str, dict[str, Any]]:
    """The tenant's outbox rows by kind."""
    with tenant_transaction(who.tenant_id, engine=db) as session:
        rows = session.execute(
            text("select * from workflow_event_outbox where tenant = :tenant"), {"tenant": who.tenant_id}
        ).mappings()
        return {row["kind"]: dict(row) for row in rows}


def states(db: Engine, who: Caller) -> dict[str, tuple[str, int]]:
    """Status and attempts of the tenant's outbox rows, by kind."""
    return {kind: (row["status"], row["attempts"]) for kind, row in outbox(db, who).items()}


def ledger_outputs(db: Engine, who: Caller) -> list[dict[str, Any]]:
    with tenant_transaction(who.tenant_id, engine=db) as session:
        return list(
            session.execute(
                text("select output_json from workflow_action_invocations where tenant = :tenant"),
                {"tenant": who.tenant_id},
            ).scalars()
        )


def forget_first_line_records(aws: LocalResources) -> None:
    """Delete this action's DynamoDB idempotency records (as if they had expired)."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for item in dynamodb.scan(TableName=aws.table_name, ProjectionExpression="id")["Items"]:
        if item["id"]["S"].startswith(f"crm-actions.{EFFECTS.qualified_id}#"):
            dynamodb.delete_item(TableName=aws.table_name, Key={"id": item["id"]})


# Outages, made in moto's backends: each service answers 503 ServiceUnavailable (S3 in its XML error format).


class ServiceUnavailable(JsonRESTError):
    code = 503

    def __init__(self) -> None:
        super().__init__("ServiceUnavailable", "Service unavailable (test outage)")


class S3ServiceUnavailable(HTTPException):
    code = 503

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", "application/xml")]

    def get_body(self, *args: Any, **kwargs: Any) -> str:
        return "<Error><Code>ServiceUnavailable</Code><Message>Service unavailable (test outage)</Message></Error>"


def fail_with(exception: type[Exception]) -> Any:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise exception()

    return unavailable


def ses_outage(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(SESV2Backend, "send_raw_email", fail_with(ServiceUnavailable))


def full_outage(patch: pytest.MonkeyPatch) -> None:
    ses_outage(patch)
    patch.setattr(S3Backend, "put_object", fail_with(S3ServiceUnavailable))
    patch.setattr(EventsBackend, "put_events", fail_with(ServiceUnavailable))


def call_during(
    outage: Callable[[pytest.MonkeyPatch], None], monkeypatch: pytest.MonkeyPatch, *args: Any, **envelope: Any
) -> dict[str, Any]:
    """``call(*args, **envelope)`` while ``outage`` lasts (it ends with the call)."""
    with monkeypatch.context() as patch:
        outage(patch)
        return call(*args, **envelope)


def test_event_email_and_document_are_delivered_after_commit(aws: LocalResources, caller: Caller, db: Engine) -> None:
    out = call(caller, aws, "happy", idempotency_key="same")

    rows = outbox(db, caller)
    assert states(db, caller) == dict.fromkeys(KINDS, ("DELIVERED", 1))
    [event] = published(aws, caller)
    assert event["detail-type"] == "TEST_EFFECTS_QUEUED"
    assert event["detail"]["tag"] == "happy"
    assert rows["event"]["result"] == {"event_id": event["id"]}

    [message] = sent_emails("happy")
    assert message["From"] == aws.sender
    assert message["To"] == RECIPIENT
    assert [part.get_filename() for part in message.iter_attachments()] == ["happy.txt"]
    assert rows["email"]["result"]["message_id"]
    assert rows["email"]["payload"] == {"tag": "happy", "sender": aws.sender, "to": [RECIPIENT]}

    key = object_key(caller.tenant_id, "happy")
    stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket=aws.bucket, Key=key)
    assert stored["Body"].read() == b"document happy"
    assert stored["ContentType"] == "text/plain"
    assert stored["Metadata"] == {"tag": "happy"}
    assert rows["document"]["result"]["bucket"] == aws.bucket
    assert rows["document"]["result"]["key"] == key

    # The recorder's patch reaches the returned output and the ledger's stored output, so a replay returns it.
    assert out == {
        "tag": "happy",
        "email_status": "DELIVERED",
        "email_attempts": 1,
        "email_error": None,
        "email_message_id": rows["email"]["result"]["message_id"],
        "document_status": "DELIVERED",
        "document_attempts": 1,
        "document_error": None,
        "document_key": key,
    }
    assert ledger_outputs(db, caller) == [out]
    assert call(caller, aws, "happy", idempotency_key="same") == out
    assert len(sent_emails("happy")) == 1
    assert published(aws, caller) == []


def test_nothing_is_delivered_before_the_commit(aws: LocalResources, caller: Caller, db: Engine) -> None:
    with pytest.raises(ValidationError):
        call(caller, aws, "rolled-back", input={"fail_after_queueing": True})

    assert outbox(db, caller) == {}
    assert ledger_outputs(db, caller) == []
    assert sent_emails("rolled-back") == []
    assert stored_objects(aws, caller) == []
    assert published(aws, caller) == []


def test_dry_run_writes_and_delivers_nothing(aws: LocalResources, caller: Caller, db: Engine) -> None:
    out = call(caller, aws, "dry", dry_run=True)

    assert out == {"tag": "dry", "email_status": "QUEUED", "document_status": "QUEUED"}
    assert outbox(db, caller) == {}
    assert ledger_outputs(db, caller) == []
    assert sent_emails("dry") == []
    assert stored_objects(aws, caller) == []
    assert published(aws, caller) == []


def test_undeliverable_effects_stay_pending_and_the_relay_delivers_each_once(
    aws: LocalResources, caller: Caller, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = call_during(full_outage, monkeypatch, caller, aws, "outage", idempotency_key="outage")

    # The call succeeded: its effects are committed, their delivery deferred.
    assert out["email_status"] == out["document_status"] == "RETRYING"
    assert out["email_error"].startswith("ServiceUnavailable")
    assert out["document_error"].startswith("ServiceUnavailable")
    assert states(db, caller) == dict.fromkeys(KINDS, ("PENDING", 1))
    pending = outbox(db, caller).values()
    assert [row["result"] for row in pending] == [None, None, None]
    assert [row["last_error"].split(":")[0] for row in pending] == ["ServiceUnavailable"] * 3
    assert ledger_outputs(db, caller) == [out]
    assert (sent_emails("outage"), stored_objects(aws, caller), published(aws, caller)) == ([], [], [])

    # Before its back-off has passed, the relay leaves the rows alone.
    relay(db, hours=0)
    assert states(db, caller) == dict.fromkeys(KINDS, ("PENDING", 1))

    report = relay(db)

    assert report["delivered"] >= 3
    rows = outbox(db, caller)
    assert states(db, caller) == dict.fromkeys(KINDS, ("DELIVERED", 2))
    [event] = published(aws, caller)
    assert rows["event"]["result"] == {"event_id": event["id"]}
    assert len(sent_emails("outage")) == 1
    assert stored_objects(aws, caller) == [object_key(caller.tenant_id, "outage")]

    # The recorder ran in the relay: the ledger's stored output now says what really happened.
    [stored] = ledger_outputs(db, caller)
    assert stored["email_status"] == stored["document_status"] == "DELIVERED"
    assert stored["email_attempts"] == stored["document_attempts"] == 2
    assert stored["email_error"] is None
    assert stored["email_message_id"] == rows["email"]["result"]["message_id"]
    assert stored["document_key"] == object_key(caller.tenant_id, "outage")

    # Exactly once: another relay run delivers nothing more.
    relay(db, hours=4)
    assert len(sent_emails("outage")) == 1
    assert len(stored_objects(aws, caller)) == 1
    assert published(aws, caller) == []
    assert states(db, caller) == dict.fromkeys(KINDS, ("DELIVERED", 2))

    # The ledger, the source of truth, replays the patched output (once the DynamoDB record is gone).
    forget_first_line_records(aws)
    assert call(caller, aws, "outage", idempotency_key="outage") == stored
    assert len(sent_emails("outage")) == 1


def test_a_replay_after_the_relay_returns_the_patched_output(
    aws: LocalResources, caller: Caller, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = call_during(full_outage, monkeypatch, caller, aws, "replay", idempotency_key="replay")
    relay(db)
    [stored] = ledger_outputs(db, caller)
    assert (first["email_status"], stored["email_status"]) == ("RETRYING", "DELIVERED")

    assert call(caller, aws, "replay", idempotency_key="replay") == stored


def test_a_permanent_error_fails_the_email_at_once_and_the_rest_is_delivered(
    aws: LocalResources, caller: Caller, db: Engine
) -> None:
    out = call(caller, aws, "rejected", sender=UNVERIFIED_SENDER)

    assert out["email_status"] == "FAILED"
    assert out["email_error"].startswith("MessageRejected")
    assert out["document_status"] == "DELIVERED"
    rows = outbox(db, caller)
    assert states(db, caller) == {"event": ("DELIVERED", 1), "email": ("FAILED", 1), "document": ("DELIVERED", 1)}
    assert rows["email"]["last_error"].startswith("MessageRejected")
    assert rows["email"]["result"] is None
    assert len(published(aws, caller)) == 1
    assert stored_objects(aws, caller) == [object_key(caller.tenant_id, "rejected")]

    relay(db)  # no retry of a permanent failure
    assert sent_emails("rejected") == []
    assert outbox(db, caller)["email"]["attempts"] == 1


def test_attempts_are_bounded(aws: LocalResources, caller: Caller, db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = MAX_ATTEMPTS["email"]
    ses_outage(monkeypatch)
    call(caller, aws, "bounded")
    assert states(db, caller)["email"] == ("PENDING", 1)

    seen = []
    for run in range(1, limit + 1):  # each run later than the back-off the previous attempt set
        relay(db, hours=2 * run)
        seen.append(states(db, caller)["email"])

    assert seen == [("PENDING", n) for n in range(2, limit)] + [("FAILED", limit), ("FAILED", limit)]
    row = outbox(db, caller)["email"]
    assert row["last_error"].startswith("ServiceUnavailable")
    assert row["delivered_at"] is None
    assert sent_emails("bounded") == []
    [stored] = ledger_outputs(db, caller)
    assert (stored["email_status"], stored["email_attempts"]) == ("FAILED", limit)
    assert stored["document_status"] == "DELIVERED"


def test_a_row_another_dispatcher_holds_is_skipped_then_delivered_once(
    aws: LocalResources, caller: Caller, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_during(ses_outage, monkeypatch, caller, aws, "locked")
    assert states(db, caller)["email"] == ("PENDING", 1)

    with tenant_transaction(caller.tenant_id, engine=db) as other_dispatcher:
        other_dispatcher.execute(
            text("select 1 from workflow_event_outbox where tenant = :tenant and kind = 'email' for update"),
            {"tenant": caller.tenant_id},
        )
        relay(db)
        assert sent_emails("locked") == []

    assert states(db, caller)["email"] == ("PENDING", 1)

    relay(db)
    relay(db, hours=4)

    assert len(sent_emails("locked")) == 1
    assert states(db, caller)["email"] == ("DELIVERED", 2)
