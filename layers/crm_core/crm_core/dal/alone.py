"""One statement in its own implicit transaction: no BEGIN, no COMMIT, and one simple-protocol message.

pg8000 in autocommit mode sends a statement alone, and PostgreSQL runs it as a transaction of its own. The
driver's mode is switched on for the one statement only, on a connection between transactions (SQLAlchemy's
AUTOCOMMIT isolation level would cost two statements to restore the connection's isolation afterwards).
A statement sent this way must set what row-level security needs itself, as ``crm_open_call`` and
``crm_mark_effects`` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

# SQLSTATEs of a server that ended the connection: the connection is gone (pg_terminate_backend, shutdown).
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc``, raised by pg8000 below SQLAlchemy, means the connection is dead: a socket error, pg8000's
    InterfaceError ("connection is closed"), or a server that ended the connection (SQLSTATE 08xxx or 57P0x)."""
    import pg8000.exceptions

    if isinstance(exc, ConnectionError | pg8000.exceptions.InterfaceError):
        return True
    if isinstance(exc, pg8000.exceptions.DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        code = str(exc.args[0].get("C", ""))
        return code.startswith("08") or code in _SESSION_ENDED
    return False


def sql_literal(value: str | None) -> str:
    """``value`` as a standard SQL string literal (``NULL`` for None): quotes doubled, nothing else to escape
    with ``standard_conforming_strings`` on (the default since PostgreSQL 9.1). NUL cannot be in a PostgreSQL
    string at all, so it is refused here rather than by the server."""
    if value is None:
        return "NULL"
    if "\x00" in value:
        raise ValueError("a SQL literal cannot hold NUL")
    return "'" + value.replace("'", "''") + "'"


def execute_alone(connection: Connection, sql: str, parameters: Sequence[str | None]) -> list[tuple[Any, ...]]:
    """Run ``sql`` alone, in autocommit mode, with ``parameters`` put in its ``%s`` places as literals; its rows
    (empty when it has none).

    The values go in as literals, so the statement is one simple-protocol message: a statement with parameters
    is two exchanges in pg8000 (Parse/Sync, then Bind/Execute/Sync), and outside a transaction PgBouncer in
    transaction mode (or RDS Proxy) may send the second to another server connection
    (bench/pgbouncer_autocommit_probe.py). A dead connection is invalidated, so the pool never hands it out again
    (SQLAlchemy does this for the statements it sends; this one goes around it), and the error is raised as
    pg8000 raised it.
    """
    pieces = sql.split("%s")
    if len(pieces) != len(parameters) + 1:
        raise ValueError(f"{len(pieces) - 1} placeholders for {len(parameters)} parameters")
    text = pieces[0] + "".join(sql_literal(value) + piece for value, piece in zip(parameters, pieces[1:], strict=True))
    dbapi_connection: Any = connection.connection.dbapi_connection
    try:
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(text)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        finally:
            cursor.close()
    except Exception as exc:
        if connection_lost(exc):
            connection.invalidate(exc)
        raise
    finally:
        if not connection.invalidated:
            dbapi_connection.autocommit = False
