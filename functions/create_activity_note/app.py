"""Lambda entry point of crm.create_activity_note."""

from crm_core.actions.activities.create_activity_note import SPEC
from crm_core.runtime import build_handler
from crm_core.runtime.warmup import warm_up

lambda_handler = build_handler(SPEC)
warm_up(lambda_handler)  # the first call's one-time work, done in the init phase
