"""Writes an action does not read back, sent with the call's closing statement instead of one by one.

DAL write functions take a :class:`StatementSink`: a ``Connection`` runs each statement at once; a
:class:`DeferredWrites` (``ActionContext.writes``) keeps it, and ``close_call`` sends every kept write as a
data-modifying CTE of the one statement that also writes the audit row, the outbox rows and the ledger's
output. All of them see the transaction as it was before that statement, and foreign keys are checked at its
end, so a row and a row that refers to it can be written together; two writes of the same row cannot.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection, Delete, Executable, Insert, Table, Update, update

from crm_core.db.prepared import update_of


class StatementSink(Protocol):
    """Where a DAL write goes: a ``Connection`` (now) or :class:`DeferredWrites` (with the closing statement)."""

    def execute(self, statement: Any, /) -> Any: ...


class DeferredWrites:
    """Insert, update and delete statements kept for the call's closing statement."""

    def __init__(self) -> None:
        self.statements: list[Insert | Update | Delete] = []

    def execute(self, statement: Executable, /) -> None:
        """Keep ``statement`` (an INSERT, UPDATE or DELETE) for the closing statement."""
        if not isinstance(statement, Insert | Update | Delete):
            raise TypeError(f"only INSERT, UPDATE and DELETE can be deferred, not {type(statement).__name__}")
        self.statements.append(statement)

    def __bool__(self) -> bool:
        return bool(self.statements)


def update_row(sink: StatementSink, table: Table, keys: dict[str, Any], values: dict[str, Any]) -> None:
    """Set ``values`` (column -> value) on the row of ``table`` whose ``keys`` (column -> value) match: at once on
    a ``Connection`` (a prepared statement per set of columns), or kept by :class:`DeferredWrites`."""
    if isinstance(sink, Connection):
        update_of(table, tuple(keys), tuple(values)).all(sink, values, **{f"key_{k}": v for k, v in keys.items()})
        return
    sink.execute(update(table).where(*(table.c[k] == v for k, v in keys.items())).values(**values))
