"""Lambda entry point of the event relay: delivers outbox events still pending, on a schedule."""

from crm_core.runtime.relay import build_relay_handler

lambda_handler = build_relay_handler()
