"""The init phase's rehearsal (ActionRunner.rehearse, run by crm_core.runtime.warmup): each action runs once as a
dry run under the nil tenant, in a transaction that is rolled back. It must reach the action's own statements
(that is its point: they are compiled before the first call), leave no row anywhere, and never raise."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from crm_core.runtime import all_specs, build_handler
from crm_core.runtime.spec import REHEARSAL_ID
from crm_core.settings import reset_settings
from crm_dev.aws_resources import LocalResources, provision
from crm_dev.lambda_context import LocalLambdaContext
from crm_dev.sql_count import count_statements
from tests.support.local_aws import use_local_aws_environment
from tests.support.rows import tenant_row_counts

NIL = uuid.UUID(REHEARSAL_ID)
SPECS = all_specs()


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_the_rehearsal_runs_the_action_and_leaves_nothing(aws, engine: Engine, spec) -> None:
    runner = build_handler(spec).runner

    with count_statements() as sent:
        runner.rehearse()

    # BEGIN/ROLLBACK aside: the opening statement, then at least one statement of the action itself.
    assert sent.statements >= 3, sent.texts
    assert "crm_open_call" in sent.texts[0] or "crm_open_call" in " ".join(sent.texts[:2])
    assert sent.texts[-1].strip().upper() == "ROLLBACK"
    assert set(tenant_row_counts(engine, NIL).values()) == {0}


def test_a_call_after_the_rehearsal_sends_its_usual_statements(aws, engine: Engine, tenant) -> None:
    from crm_core.actions.activities.find_activities import SPEC

    handler = build_handler(SPEC)
    handler.runner.rehearse()
    event = {
        "tenant_id": str(tenant.id),
        "actor_user_id": str(tenant.actor),
        "input": {"client_id": str(tenant.client)},
    }

    with count_statements() as sent:
        output = handler(event, LocalLambdaContext(SPEC.name))

    assert output["count"] >= 0
    assert sent.statements == 3


def test_the_statements_step_compiles_what_the_rehearsal_did_not_reach(engine: Engine) -> None:
    from crm_core.db import prepared
    from crm_core.runtime import warmup

    warmup._compile_statements("crm.find_activities")

    dialect = engine.dialect
    assert prepared._made, "the layer's modules define prepared statements"
    assert all(dialect.name in statement._plans for statement in list(prepared._made))
    assert prepared.compile_all(dialect) == 0  # nothing left


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    """AWS emulated by a moto server over HTTP (no in-process interception: what botocore does not send, the
    emulator never sees), with the local resources created; clients and first lines made afresh for it."""
    from moto.server import ThreadedMotoServer

    from crm_core.aws import clients
    from crm_core.runtime import idempotency

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    use_local_aws_environment(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(clients, "_clients", {})
    monkeypatch.setattr(idempotency, "_first_lines", {})
    reset_settings()
    try:
        yield provision()
    finally:
        server.stop()
        reset_settings()


def test_init_reads_from_dynamodb_and_rehearses_the_writes_without_sending_them(moto_server, caplog) -> None:
    from crm_core.actions.activities.create_activity_note import SPEC
    from crm_core.aws.clients import aws_client
    from crm_core.runtime.warmup import warm_up

    aws = moto_server
    reads: list[dict] = []  # the GetItem requests botocore sends (their JSON body)
    operations: list[str] = []  # every operation botocore prepared, sent or answered in the container
    dynamodb, events = aws_client("dynamodb"), aws_client("events")
    dynamodb.meta.events.register("before-call.dynamodb.GetItem", lambda params, **_: reads.append(params))
    for client in (dynamodb, events):
        client.meta.events.register("before-call", lambda model, **_: operations.append(model.name))
    # a rule that would catch the rehearsal's event (source crm.init), were it ever published
    events.put_rule(Name="init-tap", EventBusName=aws.bus_name, EventPattern='{"source": ["crm.init"]}')
    queue_arn = aws_client("sqs").get_queue_attributes(QueueUrl=aws.tap_queue_url, AttributeNames=["QueueArn"])
    events.put_targets(
        Rule="init-tap", EventBusName=aws.bus_name, Targets=[{"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}]
    )
    probe = {"Source": "crm.init", "DetailType": "probe", "Detail": "{}", "EventBusName": aws.bus_name}
    events.put_events(Entries=[probe])
    assert [e["detail-type"] for e in aws.drain_events()] == ["probe"]  # the tap catches what is published
    operations.clear()

    steps = warm_up(build_handler(SPEC))

    assert {"idempotency", "aws clients"} <= set(steps)
    assert "init warm-up step failed" not in caplog.text
    assert len(reads) == 1 and b"init-warm-up" in reads[0]["body"]
    # Powertools' write path and the effect's operation ran through botocore ...
    assert {"GetItem", "PutItem", "UpdateItem", "PutEvents"} <= set(operations)
    # ... but only the read reached AWS: nothing was written (PutItem and UpdateItem both create an item),
    # nothing was published
    assert dynamodb.scan(TableName=aws.table_name)["Items"] == []
    assert aws.drain_events() == []
