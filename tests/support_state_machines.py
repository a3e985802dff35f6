"""The pytest side of running state machines in moto: everything else is crm_demo/step_functions.py.

``start_harness`` is the body of the ``harness`` fixture: the ``aws`` fixture's environment, then
``crm_dev.step_functions.in_process()`` (mock_aws executing ASL, the local resources, the action functions,
Lambda invokes dispatched to the real handlers; the dispatch patch is removed afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crm_core.settings import reset_settings
from crm_dev.aws_resources import FAKE_CREDENTIALS, LOCAL_DEFAULTS
from crm_dev.step_functions import (
    STATE_MACHINES,
    SUBSTITUTION,
    Execution,
    Invocation,
    StateMachineResource,
    function_actions,
    in_process,
    load_template,
    state_machine_resources,
)
from crm_dev.step_functions import StateMachineRunner as StateMachineHarness

__all__ = [
    "STATE_MACHINES",
    "SUBSTITUTION",
    "Execution",
    "Invocation",
    "StateMachineHarness",
    "StateMachineResource",
    "function_actions",
    "load_template",
    "start_harness",
    "state_machine_resources",
]


def start_harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateMachineHarness]:
    """The body of a fixture: the ``aws`` fixture's environment, moto in executing mode, the dispatch patch."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {**LOCAL_DEFAULTS, **FAKE_CREDENTIALS}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    with in_process() as harness:
        yield harness
