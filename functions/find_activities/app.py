"""Lambda entry point of crm.find_activities."""

from crm_core.actions.activities.find_activities import SPEC
from crm_core.runtime import build_handler
from crm_core.runtime.warmup import warm_up

lambda_handler = build_handler(SPEC)
warm_up(lambda_handler)  # the first call's one-time work, done in the init phase
