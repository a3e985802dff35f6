"""Lambda entry point of crm.create_interaction_type."""

from crm_core.actions.activities.create_interaction_type import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
