"""Exactly-once per key: the DynamoDB first line and the PostgreSQL ledger (CONTRACT section 6)."""

from __future__ import annotations

import uuid

import boto3
import pytest

from crm_core.errors import ConflictError, NotFoundError, PermissionDeniedError
from crm_dev.sql_count import count_statements
from tests.support.concurrency import run_in_threads
from tests.support.handlers import invoke_action
from tests.support.rows import count_rows, execute, fetch_one
from tests.support.tenants import Tenant

ACTION = "crm.create_activity_note"


def note(tenant: Tenant, body: str = "Follow up on renewal") -> dict:
    return {"target": {"type": "client", "id": str(tenant.client)}, "body": body}


def test_replay_with_same_key_returns_same_output_and_writes_once(invoke, tenant: Tenant, engine) -> None:
    first = invoke(ACTION, note(tenant), idempotency_key="note-1")
    second = invoke(ACTION, note(tenant), idempotency_key="note-1")

    assert second == first
    assert count_rows(engine, tenant.id, "interactions") == 1
    assert count_rows(engine, tenant.id, "audit_logs") == 1
    ledger = fetch_one(engine, tenant.id, "select * from workflow_action_invocations where tenant = :tenant")
    assert ledger["idempotency_key"] == f"{tenant.id}:{ACTION}@1:note-1"
    assert ledger["status"] == "SUCCEEDED"
    assert ledger["output_json"] == first


def test_derived_key_makes_a_retried_step_exactly_once(invoke, tenant: Tenant, engine) -> None:
    first = invoke(ACTION, note(tenant), run_id="exec-1", step_path="notify")
    again = invoke(ACTION, note(tenant), run_id="exec-1", step_path="notify")
    other_step = invoke(ACTION, note(tenant), run_id="exec-1", step_path="notify-again")

    assert again == first
    assert other_step["note_id"] != first["note_id"]
    assert count_rows(engine, tenant.id, "interactions") == 2
    key = fetch_one(
        engine,
        tenant.id,
        "select idempotency_key from workflow_action_invocations where tenant = :tenant and step_path = 'notify'",
    )["idempotency_key"]
    prefix = f"{tenant.id}:{ACTION}@1:exec-1:notify:"
    assert key.startswith(prefix) and len(key) == len(prefix) + 64


def test_equivalent_inputs_hash_the_same(invoke, tenant: Tenant, engine) -> None:
    first = invoke(ACTION, note(tenant), idempotency_key="k")
    explicit_default = invoke(ACTION, {**note(tenant), "visibility": "internal"}, idempotency_key="k")

    assert explicit_default == first


def test_same_key_with_another_input_is_conflict(invoke, tenant: Tenant, engine) -> None:
    invoke(ACTION, note(tenant), idempotency_key="note-2")

    with pytest.raises(ConflictError) as caught:
        invoke(ACTION, note(tenant, body="Something else"), idempotency_key="note-2")

    assert caught.value.code == "CONFLICT"
    assert count_rows(engine, tenant.id, "interactions") == 1


def delete_idempotency_records(table_name: str) -> int:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(table_name)
    items = table.scan()["Items"]
    for item in items:
        table.delete_item(Key={"id": item["id"]})
    return len(items)


def test_replay_after_the_dynamodb_record_is_lost_still_writes_once(invoke, tenant: Tenant, engine, aws) -> None:
    first = invoke(ACTION, note(tenant), idempotency_key="note-3")
    assert delete_idempotency_records(aws.table_name) == 1

    second = invoke(ACTION, note(tenant), idempotency_key="note-3")

    assert second == first
    assert count_rows(engine, tenant.id, "interactions") == 1
    assert count_rows(engine, tenant.id, "workflow_action_invocations") == 1


def test_conflict_is_detected_by_the_ledger_too(invoke, tenant: Tenant, engine, aws) -> None:
    invoke(ACTION, note(tenant), idempotency_key="note-4")
    delete_idempotency_records(aws.table_name)

    with pytest.raises(ConflictError) as caught:
        invoke(ACTION, note(tenant, body="changed"), idempotency_key="note-4")

    assert caught.value.details["rule"] == "idempotency_key_reuse"


def test_keys_are_per_tenant(invoke, tenant: Tenant, other_tenant: Tenant, engine) -> None:
    invoke(ACTION, note(tenant), idempotency_key="shared")
    invoke(ACTION, note(other_tenant), idempotency_key="shared", as_tenant=other_tenant)

    assert count_rows(engine, tenant.id, "interactions") == 1
    assert count_rows(engine, other_tenant.id, "interactions") == 1


def test_failed_call_records_nothing_and_a_retry_runs_again(invoke, tenant: Tenant, engine) -> None:
    missing = {"target": {"type": "client", "id": str(uuid.uuid4())}, "body": "x"}
    with pytest.raises(NotFoundError):
        invoke(ACTION, missing, idempotency_key="retry-me")
    assert count_rows(engine, tenant.id, "workflow_action_invocations") == 0

    out = invoke(ACTION, note(tenant), idempotency_key="other")
    assert out["target_id"] == str(tenant.client)


def test_dry_run_records_no_invocation(invoke, tenant: Tenant, engine, aws) -> None:
    invoke(ACTION, note(tenant), idempotency_key="dry", dry_run=True)

    assert count_rows(engine, tenant.id, "workflow_action_invocations") == 0
    assert boto3.resource("dynamodb", region_name="us-east-1").Table(aws.table_name).scan()["Count"] == 0
    assert invoke(ACTION, note(tenant), idempotency_key="dry")["target_id"] == str(tenant.client)
    assert count_rows(engine, tenant.id, "interactions") == 1


def test_concurrent_duplicates_produce_one_effect(aws, tenant: Tenant, engine) -> None:
    """Eight simultaneous calls with one key: one effect; the rest replay or are told to retry."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    calls = [lambda: invoke_action(ACTION, tenant.id, tenant.actor, note(tenant), idempotency_key="race")] * 8

    outputs, errors = run_in_threads(calls)

    in_progress = [e for e in errors if isinstance(e, IdempotencyAlreadyInProgressError)]
    others = [e for e in errors if not isinstance(e, IdempotencyAlreadyInProgressError)]
    assert others == []
    assert len(outputs) + len(in_progress) == 8
    assert outputs and all(o == outputs[0] for o in outputs)
    assert count_rows(engine, tenant.id, "interactions") == 1


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ("update users set is_inactive = true where user_id = :actor", "actor_is_active"),
        ("delete from user_roles where user_id = :actor", None),
    ],
)
def test_a_replay_answered_by_dynamodb_still_checks_the_actor(
    invoke, tenant: Tenant, engine, change: str, rule: str | None
) -> None:
    """The stored output is not handed to an actor who has since been deactivated or lost the permission."""
    first = invoke(ACTION, note(tenant), idempotency_key="note-replay")
    assert invoke(ACTION, note(tenant), idempotency_key="note-replay") == first
    execute(engine, tenant.id, change, actor=tenant.actor)

    with count_statements() as log, pytest.raises(PermissionDeniedError) as refused:
        invoke(ACTION, note(tenant), idempotency_key="note-replay")

    assert refused.value.details.get("rule") == rule
    assert log.statements == 1 and log.transactions == 0, log.summary()  # one statement of its own
    assert count_rows(engine, tenant.id, "interactions") == 1
