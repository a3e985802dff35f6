"""The workflow designer's catalog (`crm-actions catalog`): the CRM group and its actions, from the registry."""

from __future__ import annotations

from typing import Any

from crm_core.runtime.registry import all_specs

CRM_GROUP: dict[str, Any] = {
    "groupKey": "crm",
    "label": "CRM",
    "iconToken": "crm",
    "tileKind": "core-object",
    "description": "Create and track CRM activity records.",
    "defaultActionId": "crm.create_activity_note",
    "modules": ["crm"],
}


def build_catalog() -> dict[str, Any]:
    """``{"groups": [...]}`` with the CRM group's actions sorted by label."""
    actions = sorted(
        (spec.catalog_entry() for spec in all_specs() if spec.id.startswith("crm.")),
        key=lambda entry: (entry["label"], entry["id"]),
    )
    return {"groups": [{**CRM_GROUP, "actions": actions}]}
