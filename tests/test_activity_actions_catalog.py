"""The five activity actions as the outside world sees them: catalog entries, function folders, sample events."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from crm_core.catalog import build_catalog
from crm_core.runtime import get_spec
from crm_core.runtime.envelope import parse_envelope

ROOT = Path(__file__).resolve().parents[1]

ACTIONS = {
    "crm.find_activities": ("Find CRM Activities", False, "engineProvided"),
    "crm.update_activity": ("Update CRM Activity", True, "engineProvided"),
    "crm.update_activity_status": ("Update Activity Status", True, "engineProvided"),
    "crm.schedule_activity": ("Schedule CRM Activity", True, "actionProvided"),
    "crm.create_interaction_type": ("Create Activity Type", True, "actionProvided"),
}


def catalog_actions() -> dict[str, dict]:
    (crm,) = [g for g in build_catalog()["groups"] if g["groupKey"] == "crm"]
    return {a["id"]: a for a in crm["actions"]}


@pytest.mark.parametrize("action_id", list(ACTIONS))
def test_catalog_entry(action_id: str) -> None:
    label, side_effectful, mode = ACTIONS[action_id]
    entry = catalog_actions()[action_id]

    assert entry["version"] == 1
    assert entry["label"] == label
    assert entry["sideEffectful"] is side_effectful
    assert entry["idempotency"] == {"mode": mode}
    assert entry["description"]
    assert "$defs" not in json.dumps(entry["inputSchema"])
    has_key = "idempotency_key" in entry["inputSchema"]["properties"]
    assert has_key is (mode == "actionProvided")


PICKERS = {
    "crm.find_activities": {"client_id": "client", "contact_id": "contact", "ticket_id": "ticket", "user_id": "user"},
    "crm.schedule_activity": {
        "client_id": "client",
        "contact_id": "contact",
        "ticket_id": "ticket",
        "assigned_user_id": "user",
        "owner_user_id": "user",
    },
}


@pytest.mark.parametrize("action_id", list(PICKERS))
def test_picker_fields(action_id: str) -> None:
    properties = catalog_actions()[action_id]["inputSchema"]["properties"]

    for name, kind in PICKERS[action_id].items():
        assert properties[name]["x-workflow-picker-kind"] == kind
        assert properties[name]["x-workflow-picker-allow-dynamic-reference"] is True
        assert properties[name]["x-workflow-picker-fixed-value-hint"].startswith("Search ")
    assert properties["contact_id"]["x-workflow-picker-dependencies"] == ["client_id"]
    for plain in ("type_id", "status_id"):
        assert "x-workflow-picker-kind" not in properties[plain]


def test_activity_ids_have_no_picker() -> None:
    for action_id in ("crm.update_activity", "crm.update_activity_status"):
        properties = catalog_actions()[action_id]["inputSchema"]["properties"]
        assert "x-workflow-picker-kind" not in properties["activity_id"]
        assert properties["activity_id"]["format"] == "uuid"


def test_update_patch_schema_marks_non_null_fields() -> None:
    patch = catalog_actions()["crm.update_activity"]["inputSchema"]["properties"]["patch"]["properties"]

    assert patch["title"]["type"] == "string"
    assert patch["visibility"]["enum"] == ["internal", "client_visible"]
    assert {"type": "null"} in patch["notes"]["anyOf"]


def test_find_output_schema_has_paging_fields() -> None:
    output = catalog_actions()["crm.find_activities"]["outputSchema"]["properties"]

    assert {"activities", "count", "has_more", "next_cursor", "total", "matched_filters"} <= set(output)


@pytest.mark.parametrize("action_id", list(ACTIONS))
def test_function_folder_builds_the_handler_without_aws_or_database(action_id: str) -> None:
    name = action_id.split(".", 1)[1]
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"function_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.lambda_handler.spec is get_spec(action_id)
    assert (ROOT / "functions" / name / "requirements.txt").is_file()


@pytest.mark.parametrize("action_id", list(ACTIONS))
def test_sample_event_is_valid(action_id: str) -> None:
    name = action_id.split(".", 1)[1]
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())

    envelope = parse_envelope(event)
    get_spec(action_id).input_model.model_validate(envelope.input)


@pytest.mark.parametrize("action_id", list(ACTIONS))
def test_template_has_the_function_and_its_arn(action_id: str) -> None:
    name = action_id.split(".", 1)[1]
    logical = "".join(part.capitalize() for part in name.split("_")) + "Function"
    template = (ROOT / "template.yaml").read_text()

    assert f"  {logical}:\n    Type: AWS::Serverless::Function\n" in template
    assert f"CodeUri: functions/{name}/\n" in template
    assert f"  {logical}Arn:\n    Value: !GetAtt {logical}.Arn\n" in template
