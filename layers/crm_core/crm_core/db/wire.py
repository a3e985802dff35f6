"""One round trip per statement on pg8000, where pg8000 itself waits three times.

pg8000's ``execute_unnamed`` sends a parameterised statement in three steps, each waiting for PostgreSQL's answer
before the next: Parse and Sync; Describe and Sync; Bind, Execute and Sync. It opens a transaction with a
``begin transaction`` query of its own (another wait), and ``commit()`` and ``rollback()`` are parameterless
statements sent through ``execute_unnamed`` (three more). Against RDS every wait is a network round trip.

:func:`execute_statement` sends what libpq's ``PQexecParams`` sends, in one write: Parse, Bind, Describe (the
portal: its row description tells pg8000 how to read the rows), Execute and Sync, preceded, when the statement
opens the transaction, by the unnamed Parse, Bind and Execute of ``begin transaction``. PostgreSQL answers all of
it before the one Sync, and pg8000 reads the answers as it reads its own (its ``handle_messages``, with a
``Context``): the same parameter encoding (text, types inferred by the server), the same row parsing, the same
errors. After an error PostgreSQL skips to the Sync, so a failed statement leaves the transaction open and
failed, as with pg8000's own steps. :func:`install_simple_ends` makes a connection's ``commit()`` and
``rollback()`` one simple query each, and :func:`install_iso_dates` reads dates and times with
``fromisoformat`` instead of ``strptime``.

Unnamed statements only: nothing outlives the statement on the server, so it works behind PgBouncer in
transaction mode and RDS Proxy without pinning. Written against pg8000 1.31 (the version the layer pins;
``tests/integration/test_wire.py`` exercises it).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import date, datetime, time
from types import MethodType
from typing import Any

from pg8000 import converters
from pg8000.converters import make_params
from pg8000.core import Context, InterfaceError

_LENGTH = struct.Struct("!i")
_COUNT = struct.Struct("!h")

_SYNC = b"S\x00\x00\x00\x04"
_EXECUTE_ALL = b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00"  # the unnamed portal, no row limit
_DESCRIBE_PORTAL = b"D\x00\x00\x00\x06P\x00"  # the unnamed portal
_BIND_NOTHING = b"B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00"  # unnamed portal and statement, no values


def _message(code: bytes, body: bytes | bytearray) -> bytes:
    return code + _LENGTH.pack(len(body) + 4) + body


def _parse(sql: bytes) -> bytes:
    return _message(b"P", b"\x00" + sql + b"\x00" + _COUNT.pack(0))  # no parameter types: PostgreSQL infers them


_BEGIN = _parse(b"begin transaction") + _BIND_NOTHING + _EXECUTE_ALL


def _bind(params: tuple[str | None, ...], encoding: str) -> bytes:
    body = bytearray(b"\x00\x00")  # the unnamed portal, the unnamed statement
    body += _COUNT.pack(0)  # every value in text format
    body += _COUNT.pack(len(params))
    for value in params:
        if value is None:
            body += _LENGTH.pack(-1)
        else:
            encoded = value.encode(encoding)
            body += _LENGTH.pack(len(encoded))
            body += encoded
    body += _COUNT.pack(0)  # every result column in text format
    return _message(b"B", body)


def execute_statement(driver: Any, sql: str, values: tuple[Any, ...] = (), *, begin: bool = False) -> Any:
    """Run ``sql`` (``$n`` placeholders) with ``values`` on the pg8000 connection ``driver`` in one round trip,
    opening the transaction first when ``begin``; returns pg8000's ``Context`` (``rows``, ``columns``,
    ``row_count``). Raises what pg8000 raises (``DatabaseError`` for an error of the statement,
    ``InterfaceError`` for a closed connection or a network error)."""
    sock = driver._sock
    if sock is None:
        raise InterfaceError("connection is closed")
    encoding = driver._client_encoding
    message = b"".join(
        (
            _BEGIN if begin else b"",
            _parse(sql.encode(encoding)),
            _bind(make_params(driver.py_types, values), encoding),
            _DESCRIBE_PORTAL,
            _EXECUTE_ALL,
            _SYNC,
        )
    )
    try:
        sock.write(message)
        sock.flush()
    except (OSError, ValueError) as error:  # ValueError: the buffered socket was closed
        raise InterfaceError("network error") from error
    context = Context(sql)
    driver.handle_messages(context)
    return context


def _commit(driver: Any) -> None:
    driver.execute_simple("commit")


def _rollback(driver: Any) -> None:
    if driver._in_transaction:
        driver.execute_simple("rollback")


def install_simple_ends(driver: Any) -> None:
    """Make the pg8000 connection ``driver``'s ``commit()`` and ``rollback()`` one simple query each (pg8000
    sends them as parameterless extended-protocol statements: three round trips). SQLAlchemy ends every
    transaction through them; ``rollback()`` still does nothing outside a transaction."""
    driver.commit = MethodType(_commit, driver)
    driver.rollback = MethodType(_rollback, driver)


# PostgreSQL's type oids of the date and time types pg8000 reads with ``strptime``, and pg8000's readers.
_TIMESTAMPTZ, _TIMESTAMP, _DATE, _TIME = 1184, 1114, 1082, 1083
_PG8000_READERS: dict[int, Callable[[str], Any]] = {
    _TIMESTAMPTZ: converters.timestamptz_in,
    _TIMESTAMP: converters.timestamp_in,
    _DATE: converters.date_in,
    _TIME: converters.time_in,
}


def _iso_reader(parse: Callable[[str], Any], pg8000_reader: Callable[[str], Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:  # infinity, BC dates, years beyond 9999: pg8000's reader, as before
            return pg8000_reader(text)

    return read


_ISO_READERS = {
    _TIMESTAMPTZ: _iso_reader(datetime.fromisoformat, _PG8000_READERS[_TIMESTAMPTZ]),
    _TIMESTAMP: _iso_reader(datetime.fromisoformat, _PG8000_READERS[_TIMESTAMP]),
    _DATE: _iso_reader(date.fromisoformat, _PG8000_READERS[_DATE]),
    _TIME: _iso_reader(time.fromisoformat, _PG8000_READERS[_TIME]),
}


def install_iso_dates(driver: Any) -> None:
    """Make the pg8000 connection ``driver`` read ``timestamptz``, ``timestamp``, ``date`` and ``time`` values
    with ``fromisoformat`` (PostgreSQL's ISO output, which Python reads as it is, ``+00`` offsets included),
    where pg8000 uses ``strptime`` (22 us a value against 0.3 us on the benchmark machine: a page of ten
    activities has 33 of them). The same values come back; what ``fromisoformat`` does not read
    (``infinity``, BC dates, years beyond 9999) goes to pg8000's own reader."""
    for oid, reader in _ISO_READERS.items():
        driver.register_in_adapter(oid, reader)
