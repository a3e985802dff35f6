"""The init phase's rehearsal (ActionRunner.rehearse, run by crm_core.runtime.warmup): each action runs once as a
dry run under the nil tenant, in a transaction that is rolled back. It must reach the action's own statements
(that is its point: they are compiled before the first call), leave no row anywhere, and never raise."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from crm_core.runtime import all_specs, build_handler
from crm_core.runtime.spec import REHEARSAL_ID
from crm_dev.lambda_context import LocalLambdaContext
from crm_dev.sql_count import count_statements
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
    import sys

    from crm_core.db import prepared
    from crm_core.runtime import warmup

    warmup._compile_statements()

    dialect = engine.dialect
    assert prepared._made, "the layer's modules define prepared statements"
    assert all(dialect.name in statement._plans for statement in list(prepared._made))
    assert prepared.compile_all(dialect) == 0  # nothing left
    assert "_strptime" in sys.modules  # pg8000 parsed a timestamp: its strptime formats are ready


def test_the_first_line_is_primed_at_init_with_a_read_that_finds_nothing(aws, caplog) -> None:
    from crm_core.actions.tags.tag_entity import SPEC
    from crm_core.aws.clients import aws_client
    from crm_core.runtime.idempotency import first_line_for
    from crm_core.runtime.warmup import warm_up

    reads: list[dict] = []  # the GetItem requests botocore sends (their JSON body)
    aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb.GetItem", lambda params, **_: reads.append(params)
    )

    steps = warm_up(build_handler(SPEC))

    assert "idempotency" in steps
    assert "init warm-up step failed" not in caplog.text
    assert len(reads) == 1 and b"init-warm-up" in reads[0]["body"]
    store = first_line_for(SPEC.qualified_id).store
    scanned = store.client.scan(TableName=aws.table_name)["Items"]
    assert not [item for item in scanned if "init-warm-up" in item[store.key_attr]["S"]]  # read, never written
