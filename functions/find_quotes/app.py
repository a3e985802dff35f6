"""Lambda entry point of crm.find_quotes."""

from crm_core.actions.quotes.find_quotes import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
