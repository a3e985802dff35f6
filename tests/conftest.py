"""Fixtures: the real PostgreSQL, AWS emulated by moto.

The database is used as in production, one login per role (README "Database roles"): migrations run as the
schema owner (MIGRATION_DATABASE_URL, default DATABASE_URL), the actions as DATABASE_URL (a member of
crm_actions), the relay as RELAY_DATABASE_URL (a member of crm_relay); scripts/database.sh sets all three.

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
# The test servers are local and have no TLS (production defaults to verify-full; tests/unit covers TLS).
os.environ.setdefault("DB_SSLMODE", "disable")


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the environment afresh (a Lambda container reads it once; tests change it)."""
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="session")
def database_url() -> str:
    """The actions' login (DATABASE_URL).

    A DATABASE_URL set alone (CI may give a superuser's) is taken as the schema owner's, and the two other logins
    are derived from it as scripts/database.sh does (crm_dev.database_logins).
    """
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit("DATABASE_URL is not set: run the tests with scripts/test.sh (it starts PostgreSQL)", 2)
    if not os.environ.get("MIGRATION_DATABASE_URL") and not os.environ.get("RELAY_DATABASE_URL"):
        from crm_dev.database_logins import LoginSetupError, ensure_logins

        try:
            os.environ.update(ensure_logins(url))
        except LoginSetupError as exc:
            pytest.exit(str(exc), 2)
        url = os.environ["DATABASE_URL"]
    return url


@pytest.fixture(scope="session")
def migration_url(database_url: str) -> str:
    """The schema owner's login (MIGRATION_DATABASE_URL, default DATABASE_URL): migrations and test setup."""
    return os.environ.get("MIGRATION_DATABASE_URL") or database_url


@pytest.fixture(scope="session")
def relay_url() -> str:
    """The relay's login (RELAY_DATABASE_URL)."""
    url = os.environ.get("RELAY_DATABASE_URL")
    if not url:
        pytest.exit("RELAY_DATABASE_URL is not set: run the tests with scripts/test.sh (. scripts/database.sh)", 2)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str, migration_url: str) -> Engine:
    """The actions' engine, on a database the owner has migrated."""
    upgrade(migration_url)
    engine = get_engine(database_url)
    with engine.connect() as connection:
        role = connection.execute(
            text(
                "select rolsuper, rolbypassrls, pg_has_role(current_user, 'crm_actions', 'USAGE') as acts "
                "from pg_roles where rolname = current_user"
            )
        ).one()
    if role.rolsuper or role.rolbypassrls or not role.acts:
        pytest.exit("DATABASE_URL must name a member of crm_actions without SUPERUSER and BYPASSRLS", 2)
    return engine


@pytest.fixture(scope="session")
def owner_engine(engine: Engine, migration_url: str) -> Engine:
    """The schema owner's engine, for setup the actions may not do (global data, catalogs)."""
    return get_engine(migration_url)


@pytest.fixture(scope="session")
def relay_engine(engine: Engine, relay_url: str) -> Engine:
    """The relay's engine (every tenant's outbox rows, nothing else)."""
    return get_engine(relay_url)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    """moto for every AWS service, with the idempotency table, bus (+ tap queue), bucket and sender created."""
    from moto import mock_aws

    use_local_aws_environment(monkeypatch)
    with mock_aws():
        yield provision()


@pytest.fixture(scope="session")
def can_create_databases(owner_engine: Engine) -> bool:
    with owner_engine.connect() as connection:
        return bool(
            connection.execute(
                text("select rolcreatedb or rolsuper from pg_roles where rolname = current_user")
            ).scalar()
        )


@pytest.fixture
def createdb(can_create_databases: bool) -> None:
    """Skips the test when the owner's role may not create databases (the private PostgreSQL's may)."""
    if not can_create_databases:
        pytest.skip("needs a MIGRATION_DATABASE_URL role with CREATEDB (for a throwaway database)")


def url_of_database(url: str, name: str) -> str:
    """``url`` (same login, server and options) pointed at database ``name``."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def scratch_database(
    database_url: str,
    migration_url: str,
    relay_url: str,
    engine: Engine,
    createdb: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Engine]:
    """A freshly migrated database of its own, for tests that change global (non-tenant) data.

    Yields the schema owner's engine on it; DATABASE_URL, RELAY_DATABASE_URL and MIGRATION_DATABASE_URL point at
    it for the handlers, with their usual logins.
    """
    from sqlalchemy import create_engine

    name = f"crm_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(migration_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"create database {name}"))
    owner_url = url_of_database(migration_url, name)
    upgrade(owner_url)
    monkeypatch.setenv("DATABASE_URL", url_of_database(database_url, name))
    monkeypatch.setenv("RELAY_DATABASE_URL", url_of_database(relay_url, name))
    monkeypatch.setenv("MIGRATION_DATABASE_URL", owner_url)
    reset_settings()
    scratch = get_engine(owner_url)
    try:
        yield scratch
    finally:
        scratch.dispose()
        for login_url in (database_url, relay_url):
            get_engine(url_of_database(login_url, name)).dispose()
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
        if fixtures & {
            "engine",
            "tenant",
            "other_tenant",
            "invoke",
            "scratch_database",
            "database_url",
            "relay_engine",
        }:
            item.add_marker(pytest.mark.postgres)
        if fixtures & {"aws", "invoke"}:
            item.add_marker(pytest.mark.aws)
