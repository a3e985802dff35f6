"""Row-level security and the mapping of database failures to the contract's error classes."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_core.db.base import tenant_tables
from crm_core.db.engine import get_engine, set_tenant, tenant_transaction
from crm_core.errors import ConflictError, TransientError, ValidationError
from crm_core.runtime.error_mapping import to_action_failure
from crm_core.settings import reset_settings
from tests.support.tenants import Tenant


def test_query_without_tenant_filter_sees_only_the_current_tenant(tenant: Tenant, other_tenant: Tenant, engine) -> None:
    with tenant_transaction(tenant.id, engine=engine) as session:
        tenants_seen = set(session.execute(text("select distinct tenant from clients")).scalars())
        users_seen = set(session.execute(text("select distinct tenant from users")).scalars())
        names = set(session.execute(text("select client_name from clients")).scalars())

    assert tenants_seen == {tenant.id}
    assert users_seen == {tenant.id}
    assert names == {"Acme Corp"}


def test_no_tenant_set_sees_no_rows(tenant: Tenant, engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from clients")).scalar_one() == 0
        assert connection.execute(text("select count(*) from users")).scalar_one() == 0


def test_writing_a_row_for_another_tenant_is_refused(tenant: Tenant, other_tenant: Tenant, engine) -> None:
    with pytest.raises(Exception) as caught, tenant_transaction(tenant.id, engine=engine) as session:
        session.execute(
            text("insert into clients (tenant, client_name) values (:other, 'Sneaky')"), {"other": other_tenant.id}
        )

    assert "row-level security" in str(caught.value)


def test_every_tenant_table_has_forced_row_level_security(engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "select relname, relrowsecurity, relforcerowsecurity from pg_class "
                "where relkind = 'r' and relname = any(:names)"
            ),
            {"names": tenant_tables()},
        ).all()
        policies = set(
            connection.execute(
                text("select tablename from pg_policies where policyname = 'tenant_isolation'")
            ).scalars()
        )

    assert {r.relname for r in rows} == set(tenant_tables())
    assert all(r.relrowsecurity and r.relforcerowsecurity for r in rows)
    assert policies >= set(tenant_tables())


def test_tenant_tables_have_composite_keys_starting_with_tenant(engine) -> None:
    with engine.connect() as connection:
        first_columns = dict(
            connection.execute(
                text(
                    "select c.relname, a.attname from pg_index i join pg_class c on c.oid = i.indrelid "
                    "join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0] "
                    "where i.indisprimary and c.relname = any(:names)"
                ),
                {"names": tenant_tables()},
            ).all()
        )

    assert set(first_columns.values()) == {"tenant"}
    assert set(first_columns) == set(tenant_tables())


def test_the_action_role_is_subject_to_row_level_security(engine) -> None:
    with engine.connect() as connection:
        role = connection.execute(
            text("select rolsuper, rolbypassrls from pg_roles where rolname = current_user")
        ).one()
    assert (role.rolsuper, role.rolbypassrls) == (False, False)


def assert_transient(exc: BaseException, sqlstate: str) -> None:
    """``exc`` is a TransientError to the caller, naming PostgreSQL's ``sqlstate``: a retry may succeed."""
    failure = to_action_failure(exc)
    assert isinstance(failure, TransientError)
    assert failure.details["sqlstate"] == sqlstate


def test_lock_timeout_is_transient(tenant: Tenant, engine) -> None:
    holder = Session(engine)
    holder.begin()
    set_tenant(holder, tenant.id)
    holder.execute(text("select 1 from clients where client_id = :c for update"), {"c": tenant.client})
    try:
        with pytest.raises(Exception) as caught, tenant_transaction(tenant.id, engine=engine) as session:
            session.execute(text("set local lock_timeout = '50ms'"))
            session.execute(text("update clients set url = 'x' where client_id = :c"), {"c": tenant.client})
    finally:
        holder.rollback()
        holder.close()

    assert_transient(caught.value, "55P03")


def test_deadlock_is_transient(tenant: Tenant, engine) -> None:
    second_client = tenant.seed.client("Second Co")
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def lock(first: uuid.UUID, then: uuid.UUID) -> None:
        try:
            with tenant_transaction(tenant.id, engine=engine) as session:
                session.execute(text("update clients set url = 'a' where client_id = :c"), {"c": first})
                barrier.wait()
                session.execute(text("update clients set url = 'b' where client_id = :c"), {"c": then})
        except Exception as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=lock, args=(tenant.client, second_client)),
        threading.Thread(target=lock, args=(second_client, tenant.client)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(errors) == 1
    assert_transient(errors[0], "40P01")


def test_serialization_failure_is_transient(tenant: Tenant, engine) -> None:
    first, second = Session(engine), Session(engine)
    try:
        for session in (first, second):
            session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
            set_tenant(session, tenant.id)
            session.execute(text("select url from clients where client_id = :c"), {"c": tenant.client})
        first.execute(text("update clients set url = 'first' where client_id = :c"), {"c": tenant.client})
        first.commit()
        with pytest.raises(Exception) as caught:
            second.execute(text("update clients set url = 'second' where client_id = :c"), {"c": tenant.client})
    finally:
        second.rollback()
        first.close()
        second.close()

    assert_transient(caught.value, "40001")


def test_unique_violation_is_conflict(tenant: Tenant, engine) -> None:
    with pytest.raises(Exception) as caught, tenant_transaction(tenant.id, engine=engine) as session:
        session.execute(text("insert into clients (tenant, client_name) values (:t, 'Acme Corp')"), {"t": tenant.id})

    failure = to_action_failure(caught.value)
    assert isinstance(failure, ConflictError)
    assert failure.details["constraint"] == "uq_clients_tenant_client_name"


def test_check_violation_is_validation_error(tenant: Tenant, engine) -> None:
    with pytest.raises(Exception) as caught, tenant_transaction(tenant.id, engine=engine) as session:
        session.execute(text("update clients set billing_cycle = 'hourly' where client_id = :c"), {"c": tenant.client})

    assert isinstance(to_action_failure(caught.value), ValidationError)


def test_unreachable_database_is_transient(aws, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, invoke) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://crm:crm@127.0.0.1:1/crm")
    reset_settings()

    with pytest.raises(TransientError) as caught:
        invoke("crm.create_activity_note", {"target": {"type": "client", "id": str(tenant.client)}, "body": "x"})

    assert caught.value.code == "TRANSIENT_FAILURE"
    get_engine("postgresql+pg8000://crm:crm@127.0.0.1:1/crm").dispose()


def test_missing_database_setting_is_named(aws, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, invoke) -> None:
    monkeypatch.delenv("DATABASE_URL")
    reset_settings()

    with pytest.raises(Exception) as caught:
        invoke("crm.create_activity_note", {"target": {"type": "client", "id": str(tenant.client)}, "body": "x"})

    assert type(caught.value).__name__ == "InternalError"
    assert caught.value.details == {"setting": "DATABASE_URL"}


def test_missing_idempotency_table_setting_is_named(aws, tenant: Tenant, monkeypatch, invoke) -> None:
    monkeypatch.delenv("IDEMPOTENCY_TABLE")
    reset_settings()

    with pytest.raises(Exception) as caught:
        invoke("crm.create_activity_note", {"target": {"type": "client", "id": str(tenant.client)}, "body": "x"})

    assert type(caught.value).__name__ == "InternalError"
    assert "IDEMPOTENCY_TABLE" in caught.value.message


def test_database_url_from_a_secrets_manager_secret(aws, tenant: Tenant, monkeypatch, invoke, database_url) -> None:
    import boto3
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    secret = {
        "username": url.username,
        "password": url.password,
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "engine": "postgres",
    }
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="crm/db", SecretString=json.dumps(secret)
    )["ARN"]
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DB_SECRET_ARN", arn)
    monkeypatch.setenv("DB_SSLMODE", "disable")  # the local server has no TLS; RDS gets "verify-full" by default
    reset_settings()

    out = invoke("crm.create_activity_note", {"target": {"type": "client", "id": str(tenant.client)}, "body": "x"})

    assert out["target_summary"]["client_name"] == "Acme Corp"


def test_secret_without_the_rds_keys_is_named(aws, tenant: Tenant, monkeypatch, invoke) -> None:
    import boto3

    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="crm/broken", SecretString='{"username": "crm"}'
    )["ARN"]
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DB_SECRET_ARN", arn)
    reset_settings()

    with pytest.raises(Exception) as caught:
        invoke("crm.create_activity_note", {"target": {"type": "client", "id": str(tenant.client)}, "body": "x"})

    assert type(caught.value).__name__ == "InternalError"
    assert caught.value.details["missing_key"] == "password"
