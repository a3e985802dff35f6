"""Lambda entry point of the relay: delivers effects still pending (events, emails, documents), on a schedule."""

from crm_core.runtime.relay import build_relay_handler

lambda_handler = build_relay_handler()
