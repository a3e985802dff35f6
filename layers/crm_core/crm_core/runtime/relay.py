"""The event relay: delivers outbox events still pending (scheduled function ``publish_events``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from crm_core.aws.event_publisher import EventBridgePublisher, EventPublisher
from crm_core.db.engine import get_engine
from crm_core.runtime.error_mapping import to_action_failure
from crm_core.runtime.events import relay_pending_events
from crm_core.runtime.observability import logger, metrics, tracer


def build_relay_handler(publisher: EventPublisher | None = None) -> Any:
    """The relay's Lambda handler; returns ``{"published": n, "failed": m}`` (failed rows wait and retry)."""

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def instrumented(event: Any, context: Any) -> dict[str, int]:
        limits = event if isinstance(event, dict) else {}
        try:
            report = relay_pending_events(
                get_engine(),
                publisher or EventBridgePublisher(),
                datetime.now(UTC),
                batch_size=int(limits.get("batch_size", 100)),
                max_batches=int(limits.get("max_batches", 10)),
            )
        except Exception as exc:
            raise to_action_failure(exc) from exc
        metrics.add_metric(name="RelayPublished", unit=MetricUnit.Count, value=report.published)
        metrics.add_metric(name="RelayFailed", unit=MetricUnit.Count, value=report.failed)
        logger.info("relay run", extra={"published": report.published, "failed": report.failed})
        return {"published": report.published, "failed": report.failed}

    return instrumented
