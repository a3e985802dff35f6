"""Lambda entry point of crm.send_quote."""

from crm_core.actions.quotes.send_quote import SPEC
from crm_core.runtime import build_handler
from crm_core.runtime.warmup import warm_up

lambda_handler = build_handler(SPEC)
warm_up(lambda_handler)  # the first call's one-time work, done in the init phase
