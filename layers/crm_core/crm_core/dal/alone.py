"""One statement in its own implicit transaction: no BEGIN, no COMMIT, one round trip less each.

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

# SQLSTATEs of a server that ended the session: the connection is gone (pg_terminate_backend, shutdown).
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc``, raised by pg8000 below SQLAlchemy, means the connection is dead: a socket error, pg8000's
    InterfaceError ("connection is closed"), or a server that ended the session (SQLSTATE 08xxx or 57P0x)."""
    import pg8000.exceptions

    if isinstance(exc, ConnectionError | pg8000.exceptions.InterfaceError):
        return True
    if isinstance(exc, pg8000.exceptions.DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        code = str(exc.args[0].get("C", ""))
        return code.startswith("08") or code in _SESSION_ENDED
    return False


def execute_alone(connection: Connection, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (pg8000's ``%s`` placeholders) alone, in autocommit mode; its rows (empty when it has none).

    A dead connection is invalidated, so the pool never hands it out again (SQLAlchemy does this for the
    statements it sends; this one goes around it), and the error is raised as pg8000 raised it.
    """
    dbapi_connection: Any = connection.connection.dbapi_connection
    try:
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql, tuple(parameters))
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
