"""Lambda entry point of crm.tag_entity."""

from crm_core.actions.tags.tag_entity import SPEC
from crm_core.runtime import build_handler

lambda_handler = build_handler(SPEC)
