"""Lambda entry point of crm.convert_quote."""

from crm_core.actions.quotes.convert_quote import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
