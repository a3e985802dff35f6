"""The container engine: one connection in pooler mode, and a ping only for a connection that sat idle."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from crm_core.db import engine as engine_module
from crm_core.db.engine import engine_pool_arguments, get_engine
from crm_core.runtime import warmup
from crm_dev.sql_count import count_statements


def test_pooler_mode_holds_one_connection_and_never_grows() -> None:
    assert engine_pool_arguments("pooler")["pool_size"] == 1
    assert engine_pool_arguments("pooler")["max_overflow"] == 0


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("select pg_backend_pid()")).scalar_one())


def test_a_busy_connection_is_not_pinged_and_an_idle_dropped_one_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_CONNECTION_MODE", "pooler")
    url = database_url + ("&" if "?" in database_url else "?") + "application_name=pool-test"
    engine = get_engine(url)
    try:
        first = _backend_pid(engine)
        with count_statements() as log:
            assert _backend_pid(engine) == first  # reused at once: no ping
        assert "select 1" not in log.texts
        killer = create_engine(database_url, poolclass=NullPool)
        with killer.connect() as connection:
            connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": first})
        killer.dispose()
        monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
        assert _backend_pid(engine) != first  # the ping found it dead; the pool opened a new one
    finally:
        engine_module._engines.pop(url, None)
        engine.dispose()


def test_snapstart_hooks_close_the_connection_before_the_snapshot_and_reopen_it_after_restore(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    engine = get_engine(database_url)
    warmup._open_connection()
    assert engine.pool.checkedin() == 1

    warmup.close_connections_before_snapshot()
    assert engine.pool.checkedin() == 0

    warmup.reconnect_after_restore()
    assert engine.pool.checkedin() == 1
