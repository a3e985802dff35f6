"""The call functions of migrations 0005-0007 (crm_open_call, crm_mark_effects): one plan per statement for the
session, and an opening as the nil actor (the init rehearsal's) that reaches the permission lookup."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text

from crm_core.dal.calls import open_call
from crm_core.runtime.spec import REHEARSAL_ID
from tests.support.tenants import Tenant

NIL = uuid.UUID(REHEARSAL_ID)
PERMISSION_TABLES = ("user_roles", "roles", "role_permissions", "permissions")


def test_both_functions_keep_a_generic_plan_per_statement(engine: Engine) -> None:
    with engine.connect() as connection:
        settings = dict(
            connection.execute(
                text("select proname, proconfig from pg_proc where proname in ('crm_open_call', 'crm_mark_effects')")
            ).all()
        )
    assert settings == {
        "crm_open_call": ["plan_cache_mode=force_generic_plan"],
        "crm_mark_effects": ["plan_cache_mode=force_generic_plan"],
    }


def test_the_tenant_setting_made_inside_the_function_lasts_to_the_end_of_the_transaction(
    engine: Engine, tenant: Tenant
) -> None:
    """The function's own SET clause ends with the function; the set_config(..., true) calls inside it do not."""
    read = text("select current_setting('app.current_tenant', true), current_setting('plan_cache_mode')")
    with engine.connect() as connection:
        opened = open_call(connection, tenant.id, tenant.actor, None)
        inside = tuple(connection.execute(read).one())
        connection.commit()
        after = tuple(connection.execute(read).one())
    assert opened.actor.found and opened.held
    assert inside == (str(tenant.id), "auto")
    assert after[0] in (None, "")


def test_an_unknown_actor_holds_nothing(engine: Engine, tenant: Tenant) -> None:
    with engine.connect() as connection:
        opened = open_call(connection, tenant.id, uuid.uuid4(), None)
        connection.rollback()
    assert not opened.actor.found
    assert opened.held == frozenset()


def test_opening_as_the_nil_actor_runs_the_permission_lookup(engine: Engine) -> None:
    """The init rehearsal opens its call as the nil actor of the nil tenant: the permission join must run (and so
    be planned, its tables' catalog entries loaded) then, not in the container's first real call."""
    scans = text(  # this backend's scans of the tables, not yet reported to the statistics
        "select sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)) from pg_stat_xact_user_tables "
        "where relname = any(:tables) and schemaname = 'public'"
    )
    with engine.connect() as connection:
        before = connection.execute(scans, {"tables": list(PERMISSION_TABLES)}).scalar_one()
        opened = open_call(connection, NIL, NIL, None)
        after = connection.execute(scans, {"tables": list(PERMISSION_TABLES)}).scalar_one()
        connection.rollback()
    assert not opened.actor.found and opened.held == frozenset()
    assert after > before
