"""The one consistency check of what the outside world sees, driven by the registry (``all_specs()``).

Each registered action has its function folder (whose handler is built from the action's SPEC without AWS or a
database), a valid sample event, a function and an Arn output in template.yaml, and a catalog entry with the
contract's label, side effects, idempotency mode and designer metadata. The folders, events and template
resources are read from disk and parsed; the only list written by hand is the contract's table of labels
(``CONTRACT``), and the registry must match it exactly.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crm_core.catalog import build_catalog
from crm_core.runtime import ActionSpec, all_specs
from crm_core.runtime.envelope import parse_envelope
from crm_dev.step_functions import load_template

ROOT = Path(__file__).resolve().parents[2]
SPECS = all_specs()
RELAY = "publish_events"  # the one function that is not an action: it delivers what the outbox holds

# What the contract fixes for each action: its label in the designer, whether it has side effects, and who
# provides its idempotency key (the engine, from run and step; or the action, from its idempotency_key input).
CONTRACT: dict[str, tuple[str, bool, str]] = {
    "crm.add_quote_item": ("Add Quote Item", True, "actionProvided"),
    "crm.approve_quote": ("Approve Quote", True, "engineProvided"),
    "crm.convert_quote": ("Convert Quote", True, "engineProvided"),
    "crm.create_activity_note": ("Create Activity Note", True, "engineProvided"),
    "crm.create_interaction_type": ("Create Activity Type", True, "actionProvided"),
    "crm.create_quote": ("Create Quote", True, "actionProvided"),
    "crm.create_quote_from_template": ("Create Quote from Template", True, "actionProvided"),
    "crm.find_activities": ("Find CRM Activities", False, "engineProvided"),
    "crm.find_quotes": ("Find Quotes", False, "engineProvided"),
    "crm.schedule_activity": ("Schedule CRM Activity", True, "actionProvided"),
    "crm.send_quote": ("Send Quote", True, "engineProvided"),
    "crm.submit_quote_for_approval": ("Submit Quote for Approval", True, "engineProvided"),
    "crm.tag_activity": ("Tag CRM Activity", True, "actionProvided"),
    "crm.tag_entity": ("Tag Entity", True, "actionProvided"),
    "crm.update_activity": ("Update CRM Activity", True, "engineProvided"),
    "crm.update_activity_status": ("Update Activity Status", True, "engineProvided"),
}

# Input fields that name a record the designer offers a picker for, by field name, with the picker's kind.
PICKER_KINDS = {
    "client_id": "client",
    "contact_id": "contact",
    "ticket_id": "ticket",
    "user_id": "user",
    "assigned_user_id": "user",
    "owner_user_id": "user",
}


def by_id(spec: ActionSpec[Any, Any]) -> str:
    return spec.id


def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def function_resources() -> dict[str, dict[str, Any]]:
    """The template's functions: logical id -> properties."""
    return {
        name: r["Properties"] for name, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }


def catalog_entries() -> dict[str, dict[str, Any]]:
    (group,) = build_catalog()["groups"]
    return {entry["id"]: entry for entry in group["actions"]}


# ---- the registry, the contract and the catalog ------------------------------------------------------------


def test_the_registry_holds_exactly_the_actions_of_the_contract() -> None:
    registered = {spec.id for spec in SPECS}

    assert not registered - set(CONTRACT), f"registered actions without a row in CONTRACT: {registered - set(CONTRACT)}"
    assert not set(CONTRACT) - registered, f"actions of the contract not registered: {set(CONTRACT) - registered}"


@pytest.mark.parametrize("spec", SPECS, ids=by_id)
def test_catalog_entry_follows_the_contract(spec: ActionSpec[Any, Any]) -> None:
    assert spec.id in CONTRACT, f"{spec.id} has no row in CONTRACT: add its label, side effects and idempotency mode"
    label, side_effectful, mode = CONTRACT[spec.id]
    entry = catalog_entries()[spec.id]

    assert (entry["label"], entry["sideEffectful"], entry["idempotency"]) == (label, side_effectful, {"mode": mode})
    assert (spec.label, spec.side_effectful, spec.idempotency) == (label, side_effectful, mode)
    assert entry["version"] == spec.version == 1
    assert entry["description"]
    assert "$ref" not in json.dumps(entry)
    assert "$defs" not in json.dumps(entry)
    assert ("idempotency_key" in entry["inputSchema"]["properties"]) is (mode == "actionProvided")
    assert ("idempotency_key" in spec.input_model.model_fields) is (mode == "actionProvided")


def test_catalog_lists_the_crm_group() -> None:
    catalog = build_catalog()
    (group,) = catalog["groups"]
    assert group["groupKey"] == "crm"
    assert group["label"] == "CRM"
    assert group["defaultActionId"] == "crm.create_activity_note"
    labels = [a["label"] for a in group["actions"]]
    assert labels == sorted(labels)
    assert {a["id"] for a in group["actions"]} == {s.id for s in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=by_id)
def test_picker_fields_carry_designer_metadata(spec: ActionSpec[Any, Any]) -> None:
    properties = catalog_entries()[spec.id]["inputSchema"].get("properties", {})
    for name, field in properties.items():
        kind = PICKER_KINDS.get(name)
        if kind is None:
            assert "x-workflow-picker-kind" not in field, name
            continue
        assert field["x-workflow-picker-kind"] == kind, name
        assert field["x-workflow-picker-allow-dynamic-reference"] is True
        assert field["x-workflow-picker-fixed-value-hint"].startswith("Search ")
        if kind == "contact":
            assert field["x-workflow-picker-dependencies"] == ["client_id"]
    if "activity_id" in properties:
        assert properties["activity_id"]["format"] == "uuid"


# ---- function folders, sample events and template.yaml -----------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=by_id)
def test_function_folder_builds_the_actions_handler_without_aws_or_database(spec: ActionSpec[Any, Any]) -> None:
    folder = ROOT / "functions" / spec.name
    app = folder / "app.py"
    assert app.is_file(), f"missing {app}"
    imported = re.search(r"^from (crm_core\.actions\.[\w.]+) import SPEC$", app.read_text(), re.MULTILINE)
    assert imported, f"{app} does not import an action's SPEC"
    assert importlib.import_module(imported.group(1)).SPEC is spec

    module_spec = importlib.util.spec_from_file_location(f"function_{spec.name}", app)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # sockets are disabled here: building the handler reaches nothing

    assert module.lambda_handler.spec is spec
    assert (folder / "requirements.txt").is_file(), f"{folder} has no requirements.txt (every function has one)"


@pytest.mark.parametrize("spec", SPECS, ids=by_id)
def test_sample_event_is_a_valid_call(spec: ActionSpec[Any, Any]) -> None:
    event = json.loads((ROOT / "events" / f"{spec.name}.json").read_text())

    envelope = parse_envelope(event)
    spec.input_model.model_validate(envelope.input)


@pytest.mark.parametrize("spec", SPECS, ids=by_id)
def test_template_declares_the_function_and_its_arn(spec: ActionSpec[Any, Any]) -> None:
    logical_id = "".join(part.capitalize() for part in spec.name.split("_")) + "Function"
    resources, outputs = template()["Resources"], template()["Outputs"]

    assert resources[logical_id]["Type"] == "AWS::Serverless::Function"
    assert resources[logical_id]["Properties"]["CodeUri"] == f"functions/{spec.name}/"
    assert outputs[f"{logical_id}Arn"]["Value"] == {"Fn::GetAtt": [logical_id, "Arn"]}


def test_every_function_folder_is_an_action_or_the_relay() -> None:
    folders = {p.name for p in (ROOT / "functions").iterdir() if p.is_dir() and (p / "app.py").exists()}
    assert folders == {s.name for s in SPECS} | {RELAY}


def test_every_template_function_points_at_an_existing_folder() -> None:
    for name, props in function_resources().items():
        assert (ROOT / props["CodeUri"] / "app.py").is_file(), name


@pytest.mark.parametrize("path", sorted((ROOT / "events").glob("*.json")), ids=lambda p: p.name)
def test_every_sample_event_is_a_json_object_for_an_action_or_the_relay(path: Path) -> None:
    assert isinstance(json.loads(path.read_text()), dict)
    assert path.stem in {s.name for s in SPECS} | {RELAY}


def test_template_has_the_shared_resources() -> None:
    resources = template()["Resources"]
    table = resources["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert resources["CrmCoreLayer"]["Properties"]["ContentUri"] == "layers/crm_core/"
    assert resources["EventBus"]["Type"] == "AWS::Events::EventBus"
    assert resources["QuoteBucket"]["Type"] == "AWS::S3::Bucket"
    schedule = resources["PublishEventsFunction"]["Properties"]["Events"]["EveryMinute"]
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 minute)"


def test_function_modules_import_without_configuration() -> None:
    """No credentials, no database, no network needed to import a function: a cold start reaches nothing."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DATABASE_", "DB_", "IDEMPOTENCY", "EVENT_BUS", "QUOTE_", "EMAIL_"))
    }
    env["PYTHONPATH"] = str(ROOT / "layers" / "crm_core")
    names = sorted({s.name for s in SPECS} | {RELAY})
    script = (
        "import importlib.util, sys\n"
        f"for name in {names!r}:\n"
        f"    path = {str(ROOT)!r} + '/functions/' + name + '/app.py'\n"
        "    spec = importlib.util.spec_from_file_location('fn_' + name, path)\n"
        "    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "    assert callable(module.lambda_handler), name\n"
        "assert 'boto3' not in sys.modules, 'boto3 imported at cold start'\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# ---- the schemas of single actions -------------------------------------------------------------------------


def test_catalog_entry_of_create_activity_note() -> None:
    entry = catalog_entries()["crm.create_activity_note"]
    schema = entry["inputSchema"]
    assert schema["required"] == ["target", "body"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["target"]["properties"]["type"]["enum"] == ["client", "contact", "ticket", "project"]
    assert set(entry["outputSchema"]["properties"]) == {
        "note_id",
        "created_at",
        "target_type",
        "target_id",
        "target_summary",
    }
    assert entry["outputSchema"]["properties"]["created_at"]["format"] == "date-time"


def test_search_and_scheduling_offer_pickers_for_their_records() -> None:
    entries = catalog_entries()

    def pickers(action_id: str) -> dict[str, str]:
        properties = entries[action_id]["inputSchema"]["properties"]
        return {n: f["x-workflow-picker-kind"] for n, f in properties.items() if "x-workflow-picker-kind" in f}

    assert pickers("crm.find_activities") == {
        "client_id": "client",
        "contact_id": "contact",
        "ticket_id": "ticket",
        "user_id": "user",
    }
    assert pickers("crm.schedule_activity") == {
        "client_id": "client",
        "contact_id": "contact",
        "ticket_id": "ticket",
        "assigned_user_id": "user",
        "owner_user_id": "user",
    }


def test_update_patch_schema_marks_non_null_fields() -> None:
    patch = catalog_entries()["crm.update_activity"]["inputSchema"]["properties"]["patch"]["properties"]

    assert patch["title"]["type"] == "string"
    assert patch["visibility"]["enum"] == ["internal", "client_visible"]
    assert {"type": "null"} in patch["notes"]["anyOf"]


def test_find_output_schema_has_paging_fields() -> None:
    output = catalog_entries()["crm.find_activities"]["outputSchema"]["properties"]

    assert {"activities", "count", "has_more", "next_cursor", "total", "matched_filters"} <= set(output)


def test_the_two_tagging_actions_share_their_options_and_output() -> None:
    entries = catalog_entries()
    entity, activity = entries["crm.tag_entity"], entries["crm.tag_activity"]

    for entry in (entity, activity):
        assert entry["inputSchema"]["properties"]["if_exists"]["enum"] == ["no_op", "error"]
        assert entry["inputSchema"]["properties"]["if_exists"]["default"] == "no_op"
        assert entry["inputSchema"]["properties"]["tags"]["minItems"] == 1
        assert {"target", "added_tags", "existing_tags", "added_count", "existing_count"} <= set(
            entry["outputSchema"]["properties"]
        )
    assert entity["inputSchema"]["required"] == ["target", "tags"]
    target_types = entity["inputSchema"]["properties"]["target"]["properties"]["type"]["enum"]
    assert target_types == ["client", "contact", "ticket", "interaction"]
    assert activity["inputSchema"]["required"] == ["activity_id", "tags"]
    assert "activity_id" in activity["outputSchema"]["properties"]
    assert set(entity["outputSchema"]["properties"]["added_tags"]["items"]["properties"]) == {
        "tag_id",
        "tag_text",
        "mapping_id",
    }
