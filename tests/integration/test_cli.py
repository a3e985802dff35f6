"""The development CLI (``crm-actions``, crm_dev/cli.py): the catalog, database migrations, calls of the
real handlers from an event file, and the approver's decision on a quote a quote-to-cash execution waits for."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from crm_core.catalog import build_catalog
from crm_dev.approvals import ApprovalRequest
from crm_dev.cli import main
from crm_dev.step_functions import STATE_MACHINES, StateMachineRunner
from tests.support.executions import assert_succeeded, executes, wait_for_request
from tests.support.quotes import add_quote, quote_activities, quote_row
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


# ---- crm-actions approve: the approver's tool of statemachines/quote_to_cash.asl.json ------------------------
#
# Run in this process (``main``), inside the harness's moto: the execution waits in moto's Step Functions, and the
# command's Step Functions client (boto3's default) reaches the same emulator.


Waiting = tuple[str, ApprovalRequest]  # a waiting execution's arn and its approval request


def approve(*args: str) -> tuple[int, dict[str, Any]]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(["approve", *args])
    return status, json.loads(stdout.getvalue())


@pytest.fixture
def waiting_quote(harness: StateMachineRunner, tenant: Tenant, engine: Any) -> Waiting:
    """A quote-to-cash execution waiting for the first approval decision, and its request."""
    machine = harness.create_state_machine(STATE_MACHINES / "quote_to_cash.asl.json")
    arn = harness.start(
        machine,
        {
            "tenant_id": str(tenant.id),
            "actor_user_id": str(tenant.actor),
            "client_id": str(tenant.client),
            "contact_id": str(tenant.contact),
            "approval_required": True,
            "quote": {"title": "Backup service", "quote_date": "2026-03-02", "valid_until": "2026-04-01"},
            "items": [{"description": "Backup", "quantity": 3, "unit_price": 40_00}],
        },
    )
    return arn, wait_for_request(engine, tenant, 1)


@executes
def test_cli_approve_decides_and_the_execution_sends_the_quote(
    harness: StateMachineRunner, tenant: Tenant, engine: Any, approver: uuid.UUID, waiting_quote: Waiting
) -> None:
    arn, request = waiting_quote

    status, printed = approve(
        "--tenant", str(tenant.id), "--approver", str(approver), "--quote", str(request.quote_id),
        "--decision", "approve", "--comment", "Fine",
    )  # fmt: skip

    assert status == 0, printed
    assert printed == {
        "quote_id": str(request.quote_id),
        "quote_number": request.quote_number,
        "round": 1,
        "execution_arn": arn,
        "decision": "approve",
        "new_status": "approved",
        "answered": "SendTaskSuccess",
    }
    execution = harness.wait(arn, timeout=20.0)
    assert assert_succeeded(execution)["status"] == "sent"
    assert execution.entered_states()[-5:] == ["WaitForApproval", "Decision", "SendQuote", "TagClient", "QuoteSent"]
    [approved] = [a for a in quote_activities(engine, tenant.id, request.quote_id) if a["activity_type"] == "approved"]
    assert (approved["performed_by"], approved["description"]) == (approver, "Quote approved: Fine")


@executes
def test_cli_approve_refused_for_the_submitter_leaves_the_execution_waiting(
    harness: StateMachineRunner, tenant: Tenant, waiting_quote: Waiting
) -> None:
    arn, request = waiting_quote

    status, printed = approve(
        "--tenant", str(tenant.id), "--approver", str(tenant.actor), "--quote", str(request.quote_id),
        "--decision", "approve",
    )  # fmt: skip

    assert status == 1
    assert (printed["errorType"], printed["details"]["rule"]) == ("ValidationError", "approver_is_not_submitter")
    assert harness.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    harness.sfn.stop_execution(executionArn=arn)


@executes
def test_cli_approve_without_a_waiting_request_says_so(
    harness: StateMachineRunner, tenant: Tenant, engine: Any
) -> None:
    quote_id = add_quote(tenant, status="pending_approval")

    status, printed = approve(
        "--tenant", str(tenant.id), "--approver", str(tenant.actor), "--quote", str(quote_id),
        "--decision", "approve",
    )  # fmt: skip

    assert status == 1
    assert printed == {
        "errorType": "NoApprovalWaiting",
        "message": f"no approval request for quote {quote_id}: "
        "no quote-to-cash execution has submitted it for approval",
    }
    assert quote_row(engine, tenant.id, quote_id)["status"] == "pending_approval"


@executes
def test_cli_approve_after_the_execution_ended_says_nothing_waits(
    harness: StateMachineRunner, tenant: Tenant, engine: Any, approver: uuid.UUID, waiting_quote: Waiting
) -> None:
    arn, request = waiting_quote
    args = ["--tenant", str(tenant.id), "--approver", str(approver), "--quote", str(request.quote_id)]
    assert approve(*args, "--decision", "approve")[0] == 0
    assert_succeeded(harness.wait(arn, timeout=20.0))

    status, printed = approve(*args, "--decision", "request_changes")

    assert status == 1
    assert printed["errorType"] == "NoApprovalWaiting"
    assert f"execution {arn}, which is SUCCEEDED; nothing waits for a decision" in printed["message"]
    assert quote_row(engine, tenant.id, request.quote_id)["status"] == "sent"


def test_cli_approve_takes_only_the_three_decisions() -> None:
    result = run_cli("approve", "--tenant", str(uuid.uuid4()), "--approver", str(uuid.uuid4()),
                     "--quote", str(uuid.uuid4()), "--decision", "maybe")  # fmt: skip
    assert result.returncode == 2
    assert "invalid choice: 'maybe'" in result.stderr
