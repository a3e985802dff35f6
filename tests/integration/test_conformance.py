"""Behaviour a workflow relies on, fixed against the reference: the scheduled start as INTERACTION_LOGGED's
occurredAt, a re-sent start that changes nothing, a re-applied tag that publishes again, and EventBridge
batches that fail alone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crm_core.aws.event_publisher import EventBridgePublisher, OutgoingEvent
from crm_dev.aws_resources import LocalResources
from tests.support.activities import CALL_TYPE, seed_activity
from tests.support.events import published
from tests.support.rows import execute
from tests.support.tenants import Tenant


def test_interaction_logged_occurs_at_the_scheduled_start(invoke, tenant: Tenant, aws: LocalResources) -> None:
    invoke(
        "crm.schedule_activity",
        {
            "contact_id": str(tenant.contact),
            "type_id": str(CALL_TYPE),
            "title": "Follow-up call",
            "start_time": "2027-03-02T20:00:00+05:00",
            "end_time": "2027-03-02T21:00:00+05:00",
        },
    )

    [event] = published(aws, "INTERACTION_LOGGED")
    assert event["detail"]["occurredAt"] == "2027-03-02T15:00:00Z"
    assert event["detail"]["interactionOccurredAt"] == "2027-03-02T15:00:00Z"


def test_re_sending_the_current_start_changes_nothing(invoke, tenant: Tenant) -> None:
    activity = seed_activity(tenant)
    current = invoke("crm.find_activities", {"client_id": str(tenant.client)})["activities"][0]
    assert current["activity_id"] == str(activity)

    out = invoke("crm.update_activity", {"activity_id": str(activity), "patch": {"start_time": current["start_time"]}})

    assert out["no_op"] is True
    assert out["changed_fields"] == []
    assert out["activity_after"]["duration"] == current["duration"]


def test_a_tag_removed_elsewhere_and_applied_again_is_published_again(
    invoke, tenant: Tenant, engine, aws: LocalResources
) -> None:
    tag: dict[str, Any] = {"target": {"type": "client", "id": str(tenant.client)}, "tags": ["renewal"]}
    first = invoke("crm.tag_entity", tag)
    execute(engine, tenant.id, "delete from tag_mappings where mapping_id = :m", m=first["added_tags"][0]["mapping_id"])

    second = invoke("crm.tag_entity", tag, run_id="a-later-run")

    assert second["added_count"] == 1
    applied = published(aws, "TAG_APPLIED")
    assert len(applied) == 2
    assert len({event["detail"]["idempotencyKey"] for event in applied}) == 2


def test_a_failed_later_batch_leaves_the_published_ones_published(
    aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.events.models import EventsBackend

    real_put_events = EventsBackend.put_events
    calls = {"count": 0}

    def second_batch_fails(self: EventsBackend, *args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == 2:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError("InternalFailure", "EventBridge hiccup")
        return real_put_events(self, *args, **kwargs)

    monkeypatch.setattr(EventsBackend, "put_events", second_batch_fails)
    marker = str(uuid.uuid4())
    events = [OutgoingEvent("TEST_BATCHED", {"n": n, "marker": marker}) for n in range(12)]

    results = EventBridgePublisher().publish(events)

    assert [bool(r.event_id) for r in results] == [True] * 10 + [False] * 2
    assert all("InternalFailure" in (r.error or "") for r in results[10:])
