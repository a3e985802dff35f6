"""Lambda entry point of crm.create_quote."""

from crm_core.actions.quotes.create_quote import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
