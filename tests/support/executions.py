"""Running state machines in the tests: the marker of a test that executes one, what an execution showed, and
the quote-to-cash approval requests an execution waits on."""

from __future__ import annotations

import time
from typing import Any

import pytest

from crm_dev.approvals import ApprovalRequest, parse_request
from crm_dev.step_functions import Execution
from tests.support.rows import fetch_all
from tests.support.tenants import Tenant


def executes(test: Any) -> Any:
    """Marks a test that executes a state machine (moto and PostgreSQL; a second or so each)."""
    return pytest.mark.aws(pytest.mark.slow(test))


def assert_succeeded(execution: Execution) -> dict[str, Any]:
    """The output of an execution that succeeded, in under ten seconds."""
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.output is not None
    assert execution.seconds < 10
    return execution.output


def assert_refused(execution: Execution, error: str, code: str) -> dict[str, Any]:
    """The action's error (class ``error``, code ``code``) of an execution that ended in ``ActionRefused``."""
    assert execution.status == "FAILED"
    assert execution.error == error
    assert execution.entered_states()[-1] == "ActionRefused"
    failure: dict[str, Any] = execution.cause_json
    assert failure["code"] == code
    return failure


def approval_requests(engine: Any, tenant: Tenant) -> list[ApprovalRequest]:
    """The approval requests of the "Quote approval" notes on the client, oldest first."""
    sql = (
        "select notes from interactions where tenant = :tenant and client_id = :client"
        " and category = 'Quote approval' order by interaction_date, interaction_id"
    )
    requests = [parse_request(row["notes"]) for row in fetch_all(engine, tenant.id, sql, client=tenant.client)]
    assert None not in requests, "a Quote approval note the approver's tool cannot read"
    return sorted((r for r in requests if r is not None), key=lambda r: r.round)


def wait_for_request(engine: Any, tenant: Tenant, round_number: int, timeout: float = 10.0) -> ApprovalRequest:
    """The approval request of that round, once the WaitForApproval step has written it."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        requests = approval_requests(engine, tenant)
        if len(requests) >= round_number:
            return requests[round_number - 1]
        time.sleep(0.05)
    raise AssertionError(f"no approval request for round {round_number} after {timeout} s")
