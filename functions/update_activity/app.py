"""Lambda entry point of crm.update_activity."""

from crm_core.actions.activities.update_activity import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
