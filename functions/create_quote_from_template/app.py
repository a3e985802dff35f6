"""Lambda entry point of crm.create_quote_from_template."""

from crm_core.actions.quotes.create_quote_from_template import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
