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
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Delete, Executable, Insert, Table, Update, bindparam, insert, update

from crm_core.db.prepared import insert_of, update_of


class StatementSink(Protocol):
    """Where a DAL write goes: a ``Connection`` (now) or :class:`DeferredWrites` (with the closing statement)."""

    def execute(self, statement: Any, /) -> Any: ...


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
        table = self.table
        assignments = {name: bindparam(prefix + name, type_=table.c[name].type) for name in self.columns}
        if self.kind == "insert":
            return insert(table).values(assignments)
        keys = (table.c[key] == bindparam(f"{prefix}key_{key}", type_=table.c[key].type) for key in self.keys)
        return update(table).where(*keys).values(assignments)

    def core(self) -> Insert | Update:
        """The write as a Core statement with its values in place."""
        table, values = self.table, self.values
        assignments = {name: values[name] for name in self.columns}
        if self.kind == "insert":
            return insert(table).values(assignments)
        return update(table).where(*(table.c[key] == values[f"key_{key}"] for key in self.keys)).values(assignments)


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


def insert_row(sink: StatementSink, table: Table, values: dict[str, Any]) -> None:
    """Insert one row of ``table`` with ``values`` (column -> value; the columns left out take their server
    defaults): at once on a ``Connection`` (a prepared statement per set of columns), or kept by
    :class:`DeferredWrites`."""
    write = RowWrite("insert", table, (), tuple(values), values)
    if isinstance(sink, Connection):
        insert_of(table, write.columns).all(sink, values)
    elif isinstance(sink, DeferredWrites):
        sink.keep(write)
    else:
        sink.execute(write.core())


def update_row(sink: StatementSink, table: Table, keys: dict[str, Any], values: dict[str, Any]) -> None:
    """Set ``values`` (column -> value) on the row of ``table`` whose ``keys`` (column -> value) match: at once on
    a ``Connection`` (a prepared statement per set of columns), or kept by :class:`DeferredWrites`."""
    parameters = {**values, **{f"key_{key}": value for key, value in keys.items()}}
    write = RowWrite("update", table, tuple(keys), tuple(values), parameters)
    if isinstance(sink, Connection):
        update_of(table, write.keys, write.columns).all(sink, parameters)
    elif isinstance(sink, DeferredWrites):
        sink.keep(write)
    else:
        sink.execute(write.core())
