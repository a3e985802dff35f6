"""Least privilege (migration 0004): what the actions' role and the relay's role may and may not do.

The actions run as a member of crm_actions (DATABASE_URL), the relay as a member of crm_relay
(RELAY_DATABASE_URL), the migrations as the schema owner (MIGRATION_DATABASE_URL): tests/conftest.py.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from crm_core.dal.effects import lock_due_effects
from crm_core.db.base import tenant_tables
from crm_core.db.engine import tenant_transaction
from crm_core.db.migrate import MIGRATIONS_DIR
from tests.support.tenants import Tenant

# SQLSTATE 42501: insufficient_privilege; 42P01 would mean the table is not even visible.
INSUFFICIENT_PRIVILEGE = "42501"


def sqlstate(error: DBAPIError) -> str:
    return str(error.orig.args[0]["C"])  # type: ignore[union-attr,index]


QueueEffect = Callable[[Tenant], uuid.UUID]


@pytest.fixture
def queue_effect(engine: Engine) -> Iterator[QueueEffect]:
    """Writes a PENDING, due outbox row of a tenant as the actions write them; the rows go when the test ends, so
    no other test's relay run finds them."""
    queued: list[tuple[Tenant, uuid.UUID]] = []

    def queue(tenant: Tenant) -> uuid.UUID:
        with tenant_transaction(tenant.id, engine=engine) as session:
            effect_id = session.execute(
                text(
                    "insert into workflow_event_outbox (tenant, kind, event_type, idempotency_key, payload, "
                    "available_at) values (:tenant, 'event', 'ROLE_TEST', :key, "
                    "jsonb_build_object('tenantId', cast(:tenant as text)), now() - interval '1 minute') "
                    "returning event_id"
                ),
                {"tenant": tenant.id, "key": f"role-test-{uuid.uuid4()}"},
            ).scalar_one()
        queued.append((tenant, effect_id))
        return effect_id

    yield queue
    for tenant, effect_id in queued:
        with tenant_transaction(tenant.id, engine=engine) as session:
            session.execute(text("delete from workflow_event_outbox where event_id = :id"), {"id": effect_id})


def refused(engine: Engine, sql: str, tenant: Tenant | None = None) -> str:
    """The SQLSTATE with which ``sql`` is refused (in ``tenant``'s transaction when given)."""
    with pytest.raises(DBAPIError) as caught:
        if tenant is None:
            with engine.begin() as connection:
                connection.execute(text(sql))
        else:
            with tenant_transaction(tenant.id, engine=engine) as session:
                session.execute(text(sql))
    return sqlstate(caught.value)


def test_the_logins_are_members_of_their_roles_and_own_nothing(engine: Engine, relay_engine: Engine) -> None:
    for login, role in ((engine, "crm_actions"), (relay_engine, "crm_relay")):
        with login.connect() as connection:
            row = connection.execute(
                text(
                    "select rolsuper, rolbypassrls, rolcreaterole, "
                    "pg_has_role(current_user, :role, 'USAGE') as member, "
                    "(select count(*) from pg_class where relowner = pg_roles.oid) as owned "
                    "from pg_roles where rolname = current_user"
                ),
                {"role": role},
            ).one()
        assert (row.rolsuper, row.rolbypassrls, row.rolcreaterole, row.member, row.owned) == (
            False,
            False,
            False,
            True,
            0,
        ), role


@pytest.mark.parametrize(
    "statement",
    [
        "alter table clients disable row level security",
        "alter table clients no force row level security",
        "alter table workflow_event_outbox disable row level security",
        "drop policy tenant_isolation on clients",
        "create policy everything on clients using (true)",
        "alter table clients add column sneaky text",
        "truncate clients",
    ],
)
def test_the_actions_role_cannot_change_the_schema_or_its_security(engine: Engine, statement: str) -> None:
    assert refused(engine, statement) == INSUFFICIENT_PRIVILEGE


def test_the_actions_role_cannot_touch_alembic_version(engine: Engine) -> None:
    for statement in (
        "select version_num from alembic_version",
        "update alembic_version set version_num = '0001'",
        "delete from alembic_version",
    ):
        assert refused(engine, statement) == INSUFFICIENT_PRIVILEGE, statement


def test_the_actions_role_cannot_create_tables(engine: Engine) -> None:
    assert refused(engine, f"create table role_test_{uuid.uuid4().hex[:8]} (x int)") == INSUFFICIENT_PRIVILEGE


def test_the_actions_role_reads_global_data_but_cannot_change_it(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from system_interaction_types")).scalar_one() >= 6
    assert refused(engine, "delete from system_interaction_types") == INSUFFICIENT_PRIVILEGE


def test_setting_the_old_relay_switch_shows_the_actions_no_other_tenant(
    engine: Engine, tenant: Tenant, other_tenant: Tenant, queue_effect: QueueEffect
) -> None:
    """``app.outbox_relay`` opened every tenant's outbox to any session until 0004; now it means nothing."""
    queue_effect(other_tenant)
    with tenant_transaction(tenant.id, engine=engine) as session:
        session.execute(text("select set_config('app.outbox_relay', 'on', true)"))
        outbox_tenants = set(session.execute(text("select distinct tenant from workflow_event_outbox")).scalars())
        clients = set(session.execute(text("select distinct tenant from clients")).scalars())
        due = lock_due_effects(session, datetime.now(UTC), ["event"], 1000)
    assert outbox_tenants <= {tenant.id}
    assert clients == {tenant.id}
    assert {row.tenant for row in due} <= {tenant.id}
    with engine.connect() as connection:
        policies = connection.execute(
            text("select policyname from pg_policies where tablename = 'workflow_event_outbox'")
        ).scalars()
        assert "outbox_relay" not in set(policies)


def test_the_actions_role_cannot_read_or_change_another_tenants_rows(
    engine: Engine, tenant: Tenant, other_tenant: Tenant
) -> None:
    with tenant_transaction(tenant.id, engine=engine) as session:
        seen = session.execute(
            text("select count(*) from clients where client_id = :id"), {"id": other_tenant.client}
        ).scalar_one()
        changed = session.execute(
            text("update clients set client_name = 'Hijacked' where client_id = :id"), {"id": other_tenant.client}
        ).rowcount
        deleted = session.execute(
            text("delete from contacts where contact_name_id = :id"), {"id": other_tenant.contact}
        ).rowcount
        # Switching tenant needs the tenant setting, which only the transaction's own set_config changes.
        session.execute(text("reset app.current_tenant"))
        seen_after_reset = session.execute(text("select count(*) from clients")).scalar_one()
    assert (seen, changed, deleted) == (0, 0, 0)
    assert seen_after_reset == 0
    with tenant_transaction(other_tenant.id, engine=engine) as session:
        name = session.execute(
            text("select client_name from clients where client_id = :id"), {"id": other_tenant.client}
        ).scalar_one()
    assert name == "Acme Corp"


def test_the_relay_reads_and_marks_every_tenants_outbox_rows(
    engine: Engine, relay_engine: Engine, tenant: Tenant, other_tenant: Tenant, queue_effect: QueueEffect
) -> None:
    mine, theirs = queue_effect(tenant), queue_effect(other_tenant)
    with relay_engine.begin() as connection:
        seen = set(
            connection.execute(
                text("select event_id from workflow_event_outbox where event_id in (:a, :b) for update skip locked"),
                {"a": mine, "b": theirs},
            ).scalars()
        )
        marked = connection.execute(
            text(
                "update workflow_event_outbox set status = 'DELIVERED', attempts = attempts + 1, "
                "delivered_at = now() where event_id in (:a, :b)"
            ),
            {"a": mine, "b": theirs},
        ).rowcount
    assert seen == {mine, theirs}
    assert marked == 2
    for owner, effect in ((tenant, mine), (other_tenant, theirs)):
        with tenant_transaction(owner.id, engine=engine) as session:
            status = session.execute(
                text("select status from workflow_event_outbox where event_id = :id"), {"id": effect}
            ).scalar_one()
        assert status == "DELIVERED"


def test_the_relay_finds_due_effects_of_every_tenant(
    relay_engine: Engine, tenant: Tenant, other_tenant: Tenant, queue_effect: QueueEffect
) -> None:
    mine, theirs = queue_effect(tenant), queue_effect(other_tenant)
    with tenant_transaction(tenant.id, engine=relay_engine) as session:
        session.execute(text("select set_config('app.current_tenant', '', true)"))  # no tenant: the relay's view
        due = {
            row.effect_id
            for row in lock_due_effects(session, datetime.now(UTC) + timedelta(hours=1), ["event"], 10_000)
        }
    assert {mine, theirs} <= due


@pytest.mark.parametrize(
    "statement",
    [
        "insert into workflow_event_outbox (tenant, idempotency_key, payload) "
        "values (gen_random_uuid(), 'forged', '{}'::jsonb)",
        "delete from workflow_event_outbox",
        "update workflow_event_outbox set payload = '{}'::jsonb",
        "update workflow_event_outbox set content = null",
        "alter table workflow_event_outbox disable row level security",
    ],
)
def test_the_relay_cannot_write_effects_only_mark_them(relay_engine: Engine, statement: str) -> None:
    assert refused(relay_engine, statement) == INSUFFICIENT_PRIVILEGE


def test_the_relay_reads_no_other_table(relay_engine: Engine, tenant: Tenant) -> None:
    recorder_tables = {"workflow_action_invocations", "quote_activities", "email_sending_logs"}
    for table in sorted({*tenant_tables(), "system_interaction_types", "alembic_version"} - recorder_tables):
        if table == "workflow_event_outbox":
            continue
        assert refused(relay_engine, f"select 1 from {table} limit 1", tenant) == INSUFFICIENT_PRIVILEGE, table


def test_the_relay_writes_what_recorders_write_only_in_the_effects_tenant(
    engine: Engine, relay_engine: Engine, tenant: Tenant, other_tenant: Tenant
) -> None:
    """The outcome recorders run in the relay's transaction, scoped to the effect's tenant (tenant_isolation)."""
    with relay_engine.connect() as connection:
        assert connection.execute(text("select count(*) from workflow_action_invocations")).scalar_one() == 0
    with tenant_transaction(tenant.id, engine=relay_engine) as session:
        other_rows = session.execute(
            text("update workflow_action_invocations set output_json = output_json where tenant = :t"),
            {"t": other_tenant.id},
        ).rowcount
    assert other_rows == 0
    for statement in (
        "delete from workflow_action_invocations",
        "insert into email_sending_logs (tenant) values (gen_random_uuid())",
        "update workflow_action_invocations set status = 'FAILED'",
        "update quote_activities set activity_type = 'x'",
    ):
        with (
            pytest.raises((ProgrammingError, DBAPIError)) as caught,
            tenant_transaction(tenant.id, engine=relay_engine) as session,
        ):
            session.execute(text(statement))
        assert sqlstate(caught.value) == INSUFFICIENT_PRIVILEGE, statement


def test_creating_the_roles_without_createrole_fails_with_a_clear_message(owner_engine: Engine) -> None:
    """Migration 0004's role step, for roles not there yet, run by a migrating user without CREATEROLE."""
    with owner_engine.connect() as connection:
        may = connection.execute(
            text("select rolcreaterole or rolsuper from pg_roles where rolname = current_user")
        ).scalar_one()
    if may:
        pytest.skip("the schema owner here has CREATEROLE (the private PostgreSQL's crm has not)")
    path = next(Path(MIGRATIONS_DIR, "versions").glob("0004_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    missing = f"crm_missing_{uuid.uuid4().hex[:8]}"
    statement = migration.CREATE_ROLES.replace("'crm_relay'", f"'{missing}'")

    with pytest.raises(DBAPIError) as caught, owner_engine.begin() as connection:
        connection.execute(text(statement))

    message = str(caught.value)
    assert f"must create the database roles {missing}" in message
    assert "lacks CREATEROLE" in message
