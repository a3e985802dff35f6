"""Lambda entry point of crm.add_quote_item."""

from crm_core.actions.quotes.add_quote_item import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
