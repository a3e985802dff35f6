"""The EventBridge events moto delivered to the bus (read through the tap queue of ``LocalResources``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from crm_dev.aws_resources import LocalResources


def published(aws: LocalResources, detail_type: str | None = None) -> list[dict[str, Any]]:
    """Events delivered since the last read (all, or those of ``detail_type``), with detail-type and detail."""
    return [e for e in aws.drain_events() if detail_type is None or e["detail-type"] == detail_type]


def tag_events(aws: LocalResources) -> list[tuple[str, dict[str, Any]]]:
    """(detail-type, detail) of the TAG_* events delivered since the last read, in delivery order."""
    return [(e["detail-type"], e["detail"]) for e in published(aws) if e["detail-type"].startswith("TAG_")]


def event_counts(events: list[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    """How many of ``events`` there are of each detail-type."""
    return dict(Counter(detail_type for detail_type, _ in events))
