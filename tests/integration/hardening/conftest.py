"""The hardening suites' shared setup: Hypothesis profiles and one emulated AWS per module.

``HARDENING_PROFILE`` picks the Hypothesis profile: ``ci`` (the default: 25 examples per action, derandomized so
CI runs are repeatable) or ``hardening`` (``make hardening``: 200 examples per action, random, so each long run
tries new inputs).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from crm_dev.aws_resources import LocalResources, provision
from tests.support.local_aws import use_local_aws_environment

_RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=_RELAXED
)
settings.register_profile(
    "hardening", max_examples=200, deadline=None, database=None, suppress_health_check=_RELAXED, print_blob=True
)
settings.load_profile(os.environ.get("HARDENING_PROFILE", "ci"))


@pytest.fixture(scope="module")
def shared_aws() -> Iterator[LocalResources]:
    """moto for every AWS service, provisioned once for the module (the per-test ``aws`` costs a second each)."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as monkeypatch:
        use_local_aws_environment(monkeypatch)
        with mock_aws():
            yield provision()
