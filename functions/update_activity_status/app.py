"""Lambda entry point of crm.update_activity_status."""

from crm_core.actions.activities.update_activity_status import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
