"""Lambda entry point of crm.approve_quote."""

from crm_core.actions.quotes.approve_quote import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
