"""The development CLI (``crm-actions``, crm_dev/cli.py): the catalog, database migrations, and calls of the
real handlers from an event file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crm_core.catalog import build_catalog
from tests.support.tenants import Tenant

ROOT = Path(__file__).resolve().parents[2]


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
