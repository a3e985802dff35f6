"""The relay: delivers effects still pending (events, emails, documents), as the scheduled ``publish_events``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from crm_core.aws.ports import EffectPorts
from crm_core.db.engine import get_engine
from crm_core.db.roles import relay_database_url
from crm_core.runtime.effects import relay_pending_effects
from crm_core.runtime.error_mapping import to_action_failure
from crm_core.runtime.observability import logger, metrics, tracer
from crm_core.runtime.registry import all_specs


def build_relay_handler(ports: EffectPorts | None = None) -> Any:
    """The relay's Lambda handler; returns ``{"delivered": n, "retrying": m, "failed": k}``.

    ``retrying`` rows wait with a back-off for a later run; ``failed`` ones were given up (permanent errors or
    attempts used up) and stay in the outbox with their last error.
    """

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def lambda_handler(event: Any, context: Any) -> dict[str, int]:
        limits = event if isinstance(event, dict) else {}
        all_specs()  # importing the actions registers their outcome recorders
        try:
            report = relay_pending_effects(
                get_engine(relay_database_url()),  # the relay's own login (crm_relay)
                ports or EffectPorts(),
                datetime.now(UTC),
                batch_size=int(limits.get("batch_size", 100)),
                max_batches=int(limits.get("max_batches", 10)),
            )
        except Exception as exc:
            raise to_action_failure(exc) from exc
        counts = report.as_dict()
        metrics.add_metric(name="RelayDelivered", unit=MetricUnit.Count, value=report.delivered)
        metrics.add_metric(name="RelayRetrying", unit=MetricUnit.Count, value=report.retrying)
        metrics.add_metric(name="RelayFailed", unit=MetricUnit.Count, value=report.failed)
        logger.info("relay run", extra=counts)
        return counts

    return lambda_handler
