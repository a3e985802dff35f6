"""The emulated AWS of the tests: its environment, and the Step Functions harness built on it.

The harness itself is ``crm_dev.step_functions``' runner (shared with the demo): ``mock_aws`` executing ASL,
the local resources, and every Lambda task dispatched to the real crm_core handler.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crm_core.settings import reset_settings
from crm_dev.aws_resources import FAKE_CREDENTIALS, LOCAL_DEFAULTS
from crm_dev.step_functions import StateMachineRunner, in_process


def use_local_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resource names and fake credentials of the local resources, and no endpoint (moto intercepts); the
    settings are read afresh from this environment."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {**LOCAL_DEFAULTS, **FAKE_CREDENTIALS}.items():
        monkeypatch.setenv(name, value)
    reset_settings()


def start_harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateMachineRunner]:
    """The body of a fixture: the local AWS environment, moto in executing mode, the dispatch patch."""
    use_local_aws_environment(monkeypatch)
    with in_process() as harness:
        yield harness
