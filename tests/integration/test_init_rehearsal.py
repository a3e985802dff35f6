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
