"""Fixtures: the real PostgreSQL at DATABASE_URL (run as the app role), AWS emulated by moto.

Every test works in tenants of its own (fresh uuids), so tests never see each other's rows and need no
cleanup; row-level security keeps it that way. What tests import lives in tests/support/, never here. The
tests of tests/unit/ use none of these fixtures: sockets are disabled there (tests/unit/conftest.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from crm_core.db.engine import get_engine
from crm_core.db.migrate import upgrade
from crm_core.settings import reset_settings
from crm_dev.aws_resources import LocalResources, provision
from crm_dev.step_functions import StateMachineRunner
from tests.support.handlers import invoke_action
from tests.support.local_aws import start_harness, use_local_aws_environment
from tests.support.tenants import Tenant, make_tenant

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "crm-tests")


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the environment afresh (a Lambda container reads it once; tests change it)."""
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit("DATABASE_URL is not set: run the tests with scripts/test.sh (it starts PostgreSQL)", 2)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    upgrade(database_url)
    engine = get_engine(database_url)
    with engine.connect() as connection:
        role = connection.execute(
            text("select rolsuper, rolbypassrls from pg_roles where rolname = current_user")
        ).one()
    if role.rolsuper or role.rolbypassrls:
        pytest.exit("DATABASE_URL must name a role without SUPERUSER and BYPASSRLS (row-level security)", 2)
    return engine


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    """moto for every AWS service, with the idempotency table, bus (+ tap queue), bucket and sender created."""
    from moto import mock_aws

    use_local_aws_environment(monkeypatch)
    with mock_aws():
        yield provision()


@pytest.fixture(scope="session")
def can_create_databases(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text("select rolcreatedb from pg_roles where rolname = current_user")).scalar())


@pytest.fixture
def createdb(can_create_databases: bool) -> None:
    """Skips the test when the DATABASE_URL role may not create databases (the private PostgreSQL's may)."""
    if not can_create_databases:
        pytest.skip("needs a DATABASE_URL role with CREATEDB (for a throwaway database)")


@pytest.fixture
def scratch_database(
    database_url: str, engine: Engine, createdb: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """A freshly migrated database of its own, for tests that change global (non-tenant) data."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"crm_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"create database {name}"))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    scratch = get_engine(url)
    try:
        yield scratch
    finally:
        scratch.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"drop database if exists {name} with (force)"))


@pytest.fixture
def tenant(engine: Engine) -> Tenant:
    return make_tenant(engine)


@pytest.fixture
def other_tenant(engine: Engine) -> Tenant:
    return make_tenant(engine)


Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def invoke(engine: Engine, aws: LocalResources, tenant: Tenant) -> Invoke:
    """``invoke_action`` in the test's tenant as its Admin: ``invoke("crm.x", {...input}, actor=..., dry_run=...)``."""

    def _invoke(
        action_id: str,
        action_input: dict[str, Any],
        *,
        as_tenant: Tenant | None = None,
        actor: uuid.UUID | None = None,
        **envelope: Any,
    ) -> dict[str, Any]:
        target = as_tenant or tenant
        return invoke_action(action_id, target.id, actor or target.actor, action_input, **envelope)

    return _invoke


@pytest.fixture
def harness(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateMachineRunner]:
    """Step Functions in moto, whose Lambda tasks run the real handlers in this process."""
    yield from start_harness(monkeypatch)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it talks to: ``-m "not postgres"`` runs the ones that need no database."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"engine", "tenant", "other_tenant", "invoke", "scratch_database", "database_url"}:
            item.add_marker(pytest.mark.postgres)
        if fixtures & {"aws", "invoke"}:
            item.add_marker(pytest.mark.aws)
