"""The outbox: events written in the action's transaction, published after commit, relayed when delivery failed.

A small action defined here drives the real runtime (the same build_handler every function uses).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from crm_core.actions.fields import ActionInput, ActionOutput, OffsetDateTime, UtcDateTime
from crm_core.aws.ports import EffectPorts
from crm_core.db.engine import tenant_transaction
from crm_core.errors import ValidationError
from crm_core.runtime import ActionContext
from crm_core.runtime.effects import relay_pending_effects
from crm_core.runtime.relay import build_relay_handler
from crm_core.settings import reset_settings
from crm_dev.lambda_context import LocalLambdaContext
from tests.support.handlers import invoke_action, unregistered_spec
from tests.support.rows import count_rows, fetch_one
from tests.support.tenants import Tenant


class PingInput(ActionInput):
    at: OffsetDateTime
    topics: list[str] = ["alpha"]
    fail_after_emit: bool = False


class PingOutput(ActionOutput):
    at: UtcDateTime
    emitted: int


def ping(ctx: ActionContext, data: PingInput) -> PingOutput:
    for topic in data.topics:
        ctx.emit("TEST_PINGED", f"test_pinged:{topic}:{data.at.isoformat()}", {"topic": topic, "at": data.at})
    ctx.audit({"topics": data.topics})
    if data.fail_after_emit:
        raise ValidationError("asked to fail", {"rule": "test"})
    return PingOutput(at=data.at, emitted=len(data.topics))


PING = unregistered_spec("test.ping", "Ping", "Emits one event per topic.", PingInput, PingOutput, ping)


def call_ping(tenant: Tenant, action_input: dict, **envelope: object) -> dict:
    return invoke_action(PING, tenant.id, tenant.actor, action_input, **envelope)


AT = "2026-03-02T09:30:00+01:00"


def test_naive_date_time_is_validation_error(aws, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as caught:
        call_ping(tenant, {"at": "2026-03-02T09:30:00"})

    error = caught.value.details["errors"][0]
    assert error["field"] == "input.at"
    assert error["type"] == "date_time_text"  # strict inputs: RFC 3339 text with seconds and an offset


def test_output_date_times_are_utc(aws, tenant: Tenant) -> None:
    assert call_ping(tenant, {"at": AT})["at"] == "2026-03-02T08:30:00Z"


def test_events_are_published_after_commit_with_the_contract_envelope(aws, tenant: Tenant, engine) -> None:
    call_ping(tenant, {"at": AT, "topics": ["alpha", "beta"]}, run_id="run-7")

    events = sorted(aws.drain_events(), key=lambda e: e["detail"]["topic"])
    assert [e["detail-type"] for e in events] == ["TEST_PINGED", "TEST_PINGED"]
    assert {e["source"] for e in events} == {"crm.workflow-actions"}
    detail = events[0]["detail"]
    assert detail["topic"] == "alpha"
    assert detail["tenantId"] == str(tenant.id)
    assert detail["actorType"] == "USER"
    assert detail["actorUserId"] == str(tenant.actor)
    assert detail["idempotencyKey"] == "test_pinged:alpha:2026-03-02T09:30:00+01:00"
    assert datetime.fromisoformat(detail["occurredAt"]).tzinfo is not None
    row = fetch_one(
        engine,
        tenant.id,
        "select * from workflow_event_outbox where tenant = :tenant and idempotency_key like 'test_pinged:alpha:%'",
    )
    assert row["status"] == "DELIVERED"
    assert row["result"]["event_id"]
    assert row["source_action_id"] == "test.ping"
    assert row["run_id"] == "run-7"


def test_an_event_key_is_published_once_even_across_calls(aws, tenant: Tenant, engine) -> None:
    call_ping(tenant, {"at": AT}, idempotency_key="first")
    call_ping(tenant, {"at": AT}, idempotency_key="second")

    assert len(aws.drain_events()) == 1
    assert count_rows(engine, tenant.id, "workflow_event_outbox") == 1


def test_a_replay_publishes_nothing_again(aws, tenant: Tenant) -> None:
    call_ping(tenant, {"at": AT}, idempotency_key="same")
    call_ping(tenant, {"at": AT}, idempotency_key="same")

    assert len(aws.drain_events()) == 1


def test_failed_action_leaves_no_event(aws, tenant: Tenant, engine) -> None:
    with pytest.raises(ValidationError):
        call_ping(tenant, {"at": AT, "fail_after_emit": True})

    assert count_rows(engine, tenant.id, "workflow_event_outbox") == 0
    assert count_rows(engine, tenant.id, "audit_logs") == 0
    assert aws.drain_events() == []


def test_dry_run_emits_nothing(aws, tenant: Tenant, engine) -> None:
    out = call_ping(tenant, {"at": AT}, dry_run=True)

    assert out["emitted"] == 1
    assert count_rows(engine, tenant.id, "workflow_event_outbox") == 0
    assert aws.drain_events() == []


def test_undeliverable_events_stay_pending_and_the_relay_delivers_them(
    aws, tenant: Tenant, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENT_BUS_NAME")
    reset_settings()

    out = call_ping(tenant, {"at": AT, "topics": ["gamma"]})

    assert out["emitted"] == 1  # the effect committed; delivery is deferred, not lost
    row = fetch_one(engine, tenant.id, "select * from workflow_event_outbox where tenant = :tenant")
    assert row["status"] == "PENDING"
    assert row["attempts"] == 1
    assert "EVENT_BUS_NAME" in row["last_error"]
    assert aws.drain_events() == []

    monkeypatch.setenv("EVENT_BUS_NAME", aws.bus_name)

    reset_settings()
    too_early = relay_pending_effects(engine, EffectPorts(), datetime.now(UTC), tenant_id=tenant.id)
    assert count_rows(engine, tenant.id, "workflow_event_outbox", "status = 'PENDING'") == 1, too_early

    relay_pending_effects(engine, EffectPorts(), datetime.now(UTC) + timedelta(hours=2), tenant_id=tenant.id)

    assert count_rows(engine, tenant.id, "workflow_event_outbox", "status = 'PENDING'") == 0
    # The relay serves every tenant: other tests' pending events may be delivered by the same run.
    mine = [e for e in aws.drain_events() if e["detail"]["tenantId"] == str(tenant.id)]
    assert [e["detail"]["topic"] for e in mine] == ["gamma"]


def test_relay_function_handler_reports_counts(aws, tenant: Tenant, engine, monkeypatch) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    reset_settings()
    call_ping(tenant, {"at": AT, "topics": ["delta"]})
    assert aws.drain_events() == []
    monkeypatch.setenv("EVENT_BUS_NAME", aws.bus_name)
    reset_settings()
    with tenant_transaction(tenant.id, engine=engine) as session:
        session.execute(
            text("update workflow_event_outbox set available_at = now() - interval '1 second' where tenant = :t"),
            {"t": tenant.id},
        )

    result = build_relay_handler()({"batch_size": 50, "max_batches": 2}, LocalLambdaContext("publish-events"))

    assert result["delivered"] >= 1
    mine = [e for e in aws.drain_events() if e["detail"]["tenantId"] == str(tenant.id)]
    assert [e["detail"]["topic"] for e in mine] == ["delta"]


def test_relay_cannot_read_the_outbox_without_its_setting(aws, tenant: Tenant, engine) -> None:
    call_ping(tenant, {"at": AT})
    with engine.connect() as connection:
        visible = connection.execute(text("select count(*) from workflow_event_outbox")).scalar_one()
    assert visible == 0


def test_unique_event_key_is_per_tenant(aws, tenant: Tenant, other_tenant: Tenant) -> None:
    call_ping(tenant, {"at": AT})
    call_ping(other_tenant, {"at": AT})

    assert {e["detail"]["tenantId"] for e in aws.drain_events()} == {str(tenant.id), str(other_tenant.id)}


def test_unknown_uuid_tenant_in_event_payload_is_stringified(aws, tenant: Tenant) -> None:
    call_ping(tenant, {"at": AT})
    detail = aws.drain_events()[0]["detail"]
    assert uuid.UUID(detail["actorUserId"]) == tenant.actor
