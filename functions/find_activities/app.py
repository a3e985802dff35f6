"""Lambda entry point of crm.find_activities."""

from crm_core.actions.activities.find_activities import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
