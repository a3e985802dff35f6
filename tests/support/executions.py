"""Running state machines in the tests: the marker of a test that executes one, and what an execution showed."""

from __future__ import annotations

from typing import Any

import pytest

from crm_dev.step_functions import Execution


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
