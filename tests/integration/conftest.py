"""Fixtures of the integration tests beyond those of tests/conftest.py: people a test needs besides the actor."""

from __future__ import annotations

import uuid

import pytest

from tests.support.tenants import Tenant


@pytest.fixture
def approver(tenant: Tenant) -> uuid.UUID:
    """Abe Approver, a second Admin of the tenant: someone other than the submitter, who may decide on its quotes."""
    return tenant.seed.user(roles=["Admin"], first_name="Abe", last_name="Approver")
