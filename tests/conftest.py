"""Fixtures: the real PostgreSQL at DATABASE_URL (run as the app role), AWS emulated by moto.

Every test works in tenants of its own (fresh uuids), so tests never see each other's rows and need no
cleanup; row-level security keeps it that way.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from crm_core.db.engine import get_engine
from crm_core.db.migrate import upgrade
from crm_core.runtime import build_handler, get_spec
from crm_core.settings import reset_settings
from crm_dev.aws_resources import FAKE_CREDENTIALS, LOCAL_DEFAULTS, LocalResources, provision
from crm_dev.lambda_context import LocalLambdaContext
from crm_dev.seed import TenantSeeder

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

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {**LOCAL_DEFAULTS, **FAKE_CREDENTIALS}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
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


@dataclass
class Tenant:
    """A seeded tenant: the seeder, an Admin actor, one client with a contact, a ticket and a project."""

    seed: TenantSeeder
    actor: uuid.UUID
    client: uuid.UUID
    contact: uuid.UUID
    ticket: uuid.UUID
    project: uuid.UUID

    @property
    def id(self) -> uuid.UUID:
        return self.seed.tenant_id


def make_tenant(engine: Engine) -> Tenant:
    seed = TenantSeeder(engine).create()
    actor = seed.user(roles=["Admin"], first_name="Ada", last_name="Admin")
    client = seed.client("Acme Corp", timezone="America/New_York", billing_email="billing@acme.example")
    contact = seed.contact(client, "Carol Contact", email="carol@acme.example")
    ticket = seed.ticket(client, contact, title="Printer offline", number="T-1001")
    project = seed.project(client, "Office move")
    return Tenant(seed, actor, client, contact, ticket, project)


@pytest.fixture
def tenant(engine: Engine) -> Tenant:
    return make_tenant(engine)


@pytest.fixture
def other_tenant(engine: Engine) -> Tenant:
    return make_tenant(engine)


Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def invoke(engine: Engine, aws: LocalResources, tenant: Tenant) -> Invoke:
    """Call an action through its real Lambda handler: ``invoke("crm.x", {...input}, actor=..., dry_run=...)``."""

    def _invoke(
        action_id: str,
        action_input: dict[str, Any],
        *,
        as_tenant: Tenant | None = None,
        actor: uuid.UUID | None = None,
        **envelope: Any,
    ) -> dict[str, Any]:
        target = as_tenant or tenant
        event = {
            "tenant_id": str(target.id),
            "actor_user_id": str(actor or target.actor),
            "input": json.loads(json.dumps(action_input, default=str)),
            **envelope,
        }
        handler = build_handler(get_spec(action_id))
        return handler(event, LocalLambdaContext(action_id.split(".", 1)[1]))

    return _invoke


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it talks to: ``-m "not postgres"`` runs the ones that need no database."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"engine", "tenant", "other_tenant", "invoke", "scratch_database", "database_url"}:
            item.add_marker(pytest.mark.postgres)
        if fixtures & {"aws", "invoke"}:
            item.add_marker(pytest.mark.aws)
