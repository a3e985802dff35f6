"""Lambda entry point of crm.create_activity_note."""

from crm_core.actions.activities.create_activity_note import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
