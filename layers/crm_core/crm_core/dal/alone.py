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


def execute_alone(connection: Connection, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (pg8000's ``%s`` placeholders) alone, in autocommit mode; its rows (empty when it has none)."""
    dbapi_connection: Any = connection.connection.dbapi_connection
    dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql, tuple(parameters))
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        finally:
            cursor.close()
    finally:
        dbapi_connection.autocommit = False
