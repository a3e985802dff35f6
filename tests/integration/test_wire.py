"""crm_core.db.wire: a statement (and the transaction's begin) in one round trip, with pg8000's own results and
errors; commit and rollback as one simple query each."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pg8000.dbapi
import pytest
from sqlalchemy import Engine, text

from bench.calls import raw_connection
from crm_core.db import wire
from crm_core.db.prepared import Prepared
from crm_dev.sql_count import count_statements, intercept_messages


class _CountingSocket:
    """pg8000's buffered socket, counting the flushes (each one is a write the server answers before the next)."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        self.sock.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@contextmanager
def counting_flushes(driver: Any) -> Iterator[_CountingSocket]:
    counting = _CountingSocket(driver._sock)
    driver._sock = counting
    try:
        yield counting
    finally:
        driver._sock = counting.sock


@pytest.fixture
def driver(migration_url: str) -> Iterator[Any]:
    """A plain pg8000 connection of the schema owner (no SQLAlchemy)."""
    connection = raw_connection(migration_url)
    yield connection
    if connection._usock is not None:  # not closed by the test
        connection.close()


SAMPLE = (
    "select $1::uuid as id, $2::timestamptz as at, $3::numeric as amount, $4::text as label, $5::int as missing,"
    " $6::text[] as tags, $7::jsonb as doc, $8::boolean as flag, $9::date as day"
)
VALUES = (
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    dt.datetime(2026, 11, 26, 12, 30, 15, 123456, tzinfo=dt.UTC),
    decimal.Decimal("1234.5600"),
    "naïve café ✓",
    None,
    ["a", "b,c", 'd"e'],
    '{"k": [1, 2]}',
    True,
    dt.date(2026, 2, 28),
)


def test_a_statement_and_the_begin_of_its_transaction_go_in_one_write(driver: Any) -> None:
    assert not driver._in_transaction
    with counting_flushes(driver) as sock:
        context = wire.execute_statement(driver, "select $1::int + 1 as n", (41,), begin=True)
    assert sock.flushes == 1
    assert context.rows == [[42]]
    assert driver._in_transaction  # the begin ran
    with counting_flushes(driver) as sock:
        wire.execute_statement(driver, "select 2")
    assert sock.flushes == 1
    driver.rollback()


def test_pg8000s_own_statement_takes_three_writes_and_its_begin_another(driver: Any) -> None:
    """What the layer avoids (if pg8000 ever sends fewer, this module can go)."""
    with counting_flushes(driver) as sock:
        driver.execute_simple("begin transaction")
        driver.execute_unnamed("select $1::int + 1 as n", vals=(41,))
    assert sock.flushes == 4
    driver.rollback()


def test_rows_and_types_are_what_pg8000_itself_returns(driver: Any) -> None:
    ours = wire.execute_statement(driver, SAMPLE, VALUES, begin=True)
    theirs = driver.execute_unnamed(SAMPLE, vals=VALUES)
    assert ours.rows == theirs.rows
    assert [c["name"] for c in ours.columns] == [c["name"] for c in theirs.columns]
    assert ours.rows[0][0] == VALUES[0] and ours.rows[0][3] == VALUES[3] and ours.rows[0][4] is None
    driver.rollback()


def test_a_write_without_rows_reports_its_row_count(driver: Any) -> None:
    wire.execute_statement(driver, "create temporary table wire_scratch (n int)", begin=True)
    context = wire.execute_statement(driver, "insert into wire_scratch select generate_series(1, $1::int)", (3,))
    assert context.rows is None and context.row_count == 3
    assert wire.execute_statement(driver, "select count(*) from wire_scratch").rows == [[3]]
    driver.rollback()


def test_an_error_leaves_the_transaction_failed_until_rolled_back_and_the_connection_usable(driver: Any) -> None:
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        wire.execute_statement(driver, "select 1 / $1::int", (0,), begin=True)
    assert raised.value.args[0]["C"] == "22012"  # division_by_zero
    assert driver._in_transaction  # begun, and failed: PostgreSQL skipped to the Sync
    with pytest.raises(pg8000.dbapi.DatabaseError) as aborted:
        wire.execute_statement(driver, "select 1")
    assert aborted.value.args[0]["C"] == "25P02"  # in_failed_sql_transaction
    driver.rollback()
    assert not driver._in_transaction
    assert wire.execute_statement(driver, "select $1::text", ("still here",), begin=True).rows == [["still here"]]
    driver.rollback()


def test_a_syntax_error_is_reported_and_nothing_is_left_unread(driver: Any) -> None:
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        wire.execute_statement(driver, "selec 1", begin=True)
    assert raised.value.args[0]["C"] == "42601"
    driver.rollback()
    assert wire.execute_statement(driver, "select 7").rows == [[7]]


def test_a_closed_connection_is_an_interface_error(driver: Any) -> None:
    driver.close()
    with pytest.raises(pg8000.dbapi.InterfaceError, match="connection is closed"):
        wire.execute_statement(driver, "select 1")


def test_the_engines_connections_commit_and_roll_back_with_one_simple_query(engine: Engine) -> None:
    sent: list[tuple[str, str]] = []
    record = intercept_messages(lambda _c, method, sql, *_: sent.append((method, sql)))
    with record, engine.connect() as connection:
        connection.execute(text("select 1"))
        connection.commit()
        Prepared("select 2").scalar(connection)
        connection.rollback()
    ends = [entry for entry in sent if entry[1] in ("commit", "rollback")]
    assert ends == [("execute_simple", "commit"), ("execute_simple", "rollback")]


def test_prepared_statements_count_one_round_trip_each_and_their_transaction_once(engine: Engine) -> None:
    with engine.connect() as connection, count_statements() as log:
        Prepared("select 1").scalar(connection)
        Prepared("select 2").scalar(connection)
        connection.rollback()
    assert (log.statements, log.transactions, log.round_trips) == (3, 1, 3)


DATE_AND_TIME_TEXTS = [
    ("timestamptz", "2026-11-26 12:30:15.123456+00"),
    ("timestamptz", "2026-11-26 12:30:15+00"),
    ("timestamptz", "2026-11-26 12:30:15.5+00"),
    ("timestamptz", "infinity"),
    ("timestamptz", "-infinity"),
    ("timestamp", "2026-11-26 12:30:15.000001"),
    ("timestamp", "2026-11-26 12:30:15"),
    ("timestamp", "0044-03-15 12:00:00 BC"),
    ("timestamp", "infinity"),
    ("date", "2026-02-28"),
    ("date", "0044-03-15 BC"),
    ("date", "infinity"),
    ("time", "12:30:15.25"),
    ("time", "23:59:59"),
]


def _offset(value: Any) -> Any:
    return value.utcoffset() if isinstance(value, dt.datetime | dt.time) else None


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_dates_and_times_read_with_fromisoformat_are_what_pg8000_reads(migration_url: str, zone: str) -> None:
    plain, tuned = raw_connection(migration_url), raw_connection(migration_url)
    wire.install_iso_dates(tuned)
    sql = ", ".join(f"$%d::text::{kind} as c{n}" % (n + 1) for n, (kind, _) in enumerate(DATE_AND_TIME_TEXTS))
    values = tuple(text_value for _, text_value in DATE_AND_TIME_TEXTS)
    try:
        rows = []
        for connection in (plain, tuned):
            connection.execute_simple(f"set timezone = '{zone}'")
            rows.append(wire.execute_statement(connection, "select " + sql, values).rows[0])
        assert rows[0] == rows[1]
        assert [type(value) for value in rows[0]] == [type(value) for value in rows[1]]
        # the same offsets (pg8000 gives dateutil's tzoffset for an offset with minutes, fromisoformat the
        # standard library's timezone)
        assert [_offset(v) for v in rows[0]] == [_offset(v) for v in rows[1]]
    finally:
        plain.close()
        tuned.close()


def test_the_engines_connections_read_dates_with_fromisoformat(engine: Engine) -> None:
    with engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        assert driver.pg_types[1184] is wire._ISO_READERS[1184]
        at = Prepared("select timestamptz '2026-11-26 12:30:15.5+00' as at").scalar(connection)
        connection.rollback()
    assert at == dt.datetime(2026, 11, 26, 12, 30, 15, 500000, tzinfo=dt.UTC)
