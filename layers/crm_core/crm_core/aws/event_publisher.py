"""Publishing domain events to Amazon EventBridge: Source `crm.workflow-actions`, DetailType = the event type."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from crm_core.settings import get_settings

EVENT_SOURCE = "crm.workflow-actions"
PUT_EVENTS_BATCH = 10  # EventBridge's limit of entries per PutEvents call


@dataclass(frozen=True)
class OutgoingEvent:
    """An event to publish: its type (the DetailType) and payload (the Detail)."""

    event_type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class PublishResult:
    """``event_id`` on success, ``error`` otherwise (one per event, in order)."""

    event_id: str | None
    error: str | None


class EventPublisher(Protocol):
    """Publishes events, one result per event, in order (a failed batch gives error results, not an exception)."""

    def publish(self, events: Sequence[OutgoingEvent]) -> list[PublishResult]: ...


class EventBridgePublisher:
    """Puts events on the bus named by ``EVENT_BUS_NAME``: Source ``crm.workflow-actions``, DetailType = type."""

    def publish(self, events: Sequence[OutgoingEvent]) -> list[PublishResult]:
        from crm_core.aws.clients import aws_client

        bus_name = get_settings().require("event_bus_name")
        client = aws_client("events")
        results: list[PublishResult] = []
        for start in range(0, len(events), PUT_EVENTS_BATCH):
            batch = events[start : start + PUT_EVENTS_BATCH]
            try:
                response = client.put_events(
                    Entries=[
                        {
                            "Source": EVENT_SOURCE,
                            "DetailType": event.event_type,
                            "Detail": json.dumps(event.payload, separators=(",", ":")),
                            "EventBusName": bus_name,
                        }
                        for event in batch
                    ]
                )
            except Exception as exc:  # this batch stays pending; batches already published keep their ids
                code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
                error = f"{code}: {exc}"[:2000]
                results.extend(PublishResult(event_id=None, error=error) for _ in batch)
                continue
            for entry in response["Entries"]:
                if entry.get("EventId"):
                    results.append(PublishResult(event_id=entry["EventId"], error=None))
                else:
                    error = f"{entry.get('ErrorCode', 'Unknown')}: {entry.get('ErrorMessage', '')}".strip()
                    results.append(PublishResult(event_id=None, error=error))
        return results
