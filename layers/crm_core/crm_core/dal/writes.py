"""Writes an action does not read back, sent with the call's closing statement instead of one by one.

DAL write functions take a :class:`StatementSink`: a ``Connection`` runs each write at once; a
:class:`DeferredWrites` (``ActionContext.writes``) keeps it, and ``close_call`` sends every kept write as a
data-modifying CTE of the one statement that also writes the audit row, the outbox rows and the ledger's
output. All of them see the transaction as it was before that statement, and foreign keys are checked at its
end, so a row and a row that refers to it can be written together; two writes of the same row cannot.

Writes of one row go through :func:`insert_row` and :func:`update_row`, which keep them as a :class:`RowWrite`
(a shape and its values): the closing statement of a call whose writes are all row writes is then a prepared
statement, built once per shape of call. Any other INSERT, UPDATE or DELETE can be kept as a Core statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from sqlalchemy import Connection, Delete, Executable, Insert, Table, Update

from crm_core.db.prepared import bound_insert, bound_update, insert_of, update_of


@dataclass(frozen=True)
class RowWrite:
    """An INSERT of one row into ``table``, or an UPDATE of the row whose ``keys`` columns match: which columns
    (the shape), and their values (``values``: column -> value; an update's keys as ``key_<column>``)."""

    kind: Literal["insert", "update"]
    table: Table
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    values: dict[str, Any]

    @property
    def shape(self) -> tuple[str, Table, tuple[str, ...], tuple[str, ...]]:
        return (self.kind, self.table, self.keys, self.columns)

    def statement(self, prefix: str) -> Insert | Update:
        """The write with a bind parameter for each value, named ``prefix`` + the name in :attr:`values`."""
        return row_statement(self.shape, prefix)


def row_statement(shape: tuple[str, Table, tuple[str, ...], tuple[str, ...]], prefix: str) -> Insert | Update:
    """The statement of a :class:`RowWrite` of ``shape``, its values bind parameters named ``prefix`` + the
    names in :attr:`RowWrite.values`."""
    kind, table, keys, columns = shape
    return bound_insert(table, columns, prefix) if kind == "insert" else bound_update(table, keys, columns, prefix)


class DeferredWrites:
    """Writes kept for the call's closing statement: :class:`RowWrite` values, or Core INSERT, UPDATE and DELETE
    statements."""

    def __init__(self) -> None:
        self.statements: list[Insert | Update | Delete | RowWrite] = []

    def execute(self, statement: Executable, /) -> None:
        """Keep ``statement`` (an INSERT, UPDATE or DELETE) for the closing statement."""
        if not isinstance(statement, Insert | Update | Delete):
            raise TypeError(f"only INSERT, UPDATE and DELETE can be deferred, not {type(statement).__name__}")
        self.statements.append(statement)

    def keep(self, write: RowWrite) -> None:
        """Keep a row write for the closing statement."""
        self.statements.append(write)

    def __bool__(self) -> bool:
        return bool(self.statements)


# Where a DAL write goes: a ``Connection`` (now) or :class:`DeferredWrites` (with the closing statement).
StatementSink: TypeAlias = Connection | DeferredWrites


def insert_row(sink: StatementSink, table: Table, values: dict[str, Any]) -> None:
    """Insert one row of ``table`` with ``values`` (column -> value; the columns left out take their server
    defaults): at once on a ``Connection`` (a prepared statement per set of columns), or kept by
    :class:`DeferredWrites`."""
    columns = tuple(values)
    if isinstance(sink, DeferredWrites):
        sink.keep(RowWrite("insert", table, (), columns, values))
    else:
        insert_of(table, columns).all(sink, values)


def update_row(sink: StatementSink, table: Table, keys: dict[str, Any], values: dict[str, Any]) -> None:
    """Set ``values`` (column -> value) on the row of ``table`` whose ``keys`` (column -> value) match: at once on
    a ``Connection`` (a prepared statement per set of columns), or kept by :class:`DeferredWrites`."""
    parameters = {**values, **{f"key_{key}": value for key, value in keys.items()}}
    if isinstance(sink, DeferredWrites):
        sink.keep(RowWrite("update", table, tuple(keys), tuple(values), parameters))
    else:
        update_of(table, tuple(keys), tuple(values)).all(sink, parameters)
