"""The registry drives everything: each action has its function folder, sample event, template resource and
catalog entry; function modules import without configuration; the CLI works."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crm_core.catalog import build_catalog
from crm_core.runtime import all_specs
from crm_core.runtime.envelope import parse_envelope
from crm_dev.step_functions import load_template
from tests.support.tenants import Tenant

ROOT = Path(__file__).resolve().parents[1]
SPECS = all_specs()


def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def function_resources() -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"] for name, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_each_action_has_function_event_and_template_resource(spec) -> None:
    app = ROOT / "functions" / spec.name / "app.py"
    assert app.is_file(), f"missing {app}"
    imported = re.search(r"^from (crm_core\.actions\.[\w.]+) import SPEC$", app.read_text(), re.MULTILINE)
    assert imported, f"{app} does not import an action's SPEC"
    assert importlib.import_module(imported.group(1)).SPEC is spec

    event = json.loads((ROOT / "events" / f"{spec.name}.json").read_text())
    envelope = parse_envelope(event)
    spec.input_model.model_validate(envelope.input)

    code_uris = {props["CodeUri"].rstrip("/") for props in function_resources().values()}
    assert f"functions/{spec.name}" in code_uris


def test_every_function_folder_is_an_action_or_the_relay() -> None:
    folders = {p.name for p in (ROOT / "functions").iterdir() if p.is_dir() and (p / "app.py").exists()}
    assert folders == {s.name for s in SPECS} | {"publish_events"}


def test_every_template_function_points_at_an_existing_folder() -> None:
    for name, props in function_resources().items():
        assert (ROOT / props["CodeUri"] / "app.py").is_file(), name


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
    """No credentials, no database, no network needed to import a function (CONTRACT section 1)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DATABASE_", "DB_", "IDEMPOTENCY", "EVENT_BUS", "QUOTE_", "EMAIL_"))
    }
    env["PYTHONPATH"] = str(ROOT / "layers" / "crm_core")
    names = sorted({s.name for s in SPECS} | {"publish_events"})
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


def test_catalog_lists_the_crm_group() -> None:
    catalog = build_catalog()
    (group,) = catalog["groups"]
    assert group["groupKey"] == "crm"
    assert group["label"] == "CRM"
    assert group["defaultActionId"] == "crm.create_activity_note"
    labels = [a["label"] for a in group["actions"]]
    assert labels == sorted(labels)
    assert {a["id"] for a in group["actions"]} == {s.id for s in SPECS}


def test_catalog_entry_of_create_activity_note() -> None:
    (group,) = build_catalog()["groups"]
    entry = next(a for a in group["actions"] if a["id"] == "crm.create_activity_note")
    assert entry["version"] == 1
    assert entry["label"] == "Create Activity Note"
    assert entry["sideEffectful"] is True
    assert entry["idempotency"] == {"mode": "engineProvided"}
    schema = entry["inputSchema"]
    assert schema["required"] == ["target", "body"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["target"]["properties"]["type"]["enum"] == ["client", "contact", "ticket", "project"]
    assert "$ref" not in json.dumps(entry)
    assert set(entry["outputSchema"]["properties"]) == {
        "note_id",
        "created_at",
        "target_type",
        "target_id",
        "target_summary",
    }
    assert entry["outputSchema"]["properties"]["created_at"]["format"] == "date-time"


def test_action_provided_actions_take_an_idempotency_key() -> None:
    for spec in SPECS:
        fields = spec.input_model.model_fields
        assert ("idempotency_key" in fields) == (spec.idempotency == "actionProvided"), spec.id


def test_picker_fields_carry_designer_metadata() -> None:
    for spec in SPECS:
        properties = spec.catalog_entry()["inputSchema"].get("properties", {})
        for name, field in properties.items():
            kind = {
                "client_id": "client",
                "contact_id": "contact",
                "ticket_id": "ticket",
                "user_id": "user",
                "assigned_user_id": "user",
                "owner_user_id": "user",
            }.get(name)
            if kind is None:
                assert "x-workflow-picker-kind" not in field, (spec.id, name)
                continue
            assert field["x-workflow-picker-kind"] == kind, (spec.id, name)
            assert field["x-workflow-picker-allow-dynamic-reference"] is True
            assert field["x-workflow-picker-fixed-value-hint"].startswith("Search ")
            if kind == "contact":
                assert field["x-workflow-picker-dependencies"] == ["client_id"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_dev.cli", *args],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_cli_catalog_prints_json() -> None:
    result = run_cli("catalog")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(json.dumps(build_catalog()))


def test_cli_db_upgrade_is_idempotent(engine) -> None:
    for _ in range(2):
        result = run_cli("db", "upgrade")
        assert result.returncode == 0, result.stderr


def test_cli_invoke_runs_the_handler(tenant: Tenant, tmp_path: Path) -> None:
    event = {
        "tenant_id": str(tenant.id),
        "actor_user_id": str(tenant.actor),
        "input": {"target": {"type": "ticket", "id": str(tenant.ticket)}, "body": "From the CLI"},
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))

    result = run_cli("invoke", "crm.create_activity_note", "--event", str(path), "--emulate-aws")

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["target_summary"]["ticket_number"] == "T-1001"


def test_cli_invoke_prints_errors_as_json_with_status_1(tenant: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(
        json.dumps(
            {
                "tenant_id": str(tenant.id),
                "actor_user_id": str(tenant.actor),
                "input": {"target": {"type": "client", "id": str(tenant.id)}, "body": "x"},
            }
        )
    )

    result = run_cli("invoke", "crm.create_activity_note", "--event", str(path), "--emulate-aws")

    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "NotFoundError"
    assert error["code"] == "NOT_FOUND"


def test_cli_invoke_unknown_action(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text("{}")
    result = run_cli("invoke", "crm.nope", "--event", str(path))
    assert result.returncode == 1
    assert json.loads(result.stdout)["message"] == "Unknown action 'crm.nope'"
