"""Lambda entry point of crm.submit_quote_for_approval."""

from crm_core.actions.quotes.submit_quote_for_approval import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
