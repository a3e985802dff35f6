"""Statements built once, compiled once, and run straight on the driver: the hot path of every call.

SQLAlchemy Core executes a statement in about 0.15-0.3 ms of Python on top of the driver on a 2-core machine:
building the statement (coercing every operand), generating its cache key, looking the compilation up, setting
up an execution context and the result's metadata. A Lambda call sends 3 to 8 statements whose shapes never
change, so a :class:`Prepared` statement does that work once:

    _ACTIVITY = Prepared(select(Interaction.c.title).where(Interaction.c.tenant == bindparam("tenant"), ...))
    row = _ACTIVITY.first(connection, tenant=tenant_id, ...)

The statement is compiled for the connection's dialect on its first run (the SQL text with PostgreSQL's ``$n``
placeholders, the order of its bind parameters, the bind and result processors of their types); every run after
that puts the values in order and sends the text and the values in one round trip on pg8000's connection
(``crm_core.db.wire``: the messages SQLAlchemy and pg8000 would have sent in three, and the transaction's
``begin`` with the first; so the engine must be PostgreSQL through pg8000, as every engine of the layer is).
Rows come back as named tuples (``row.title``, ``row[0]``, ``row._asdict()``).

It runs inside the SQLAlchemy ``Connection``'s transaction (it begins one, as SQLAlchemy's autobegin does, when
none is open), and a driver error is raised as the exception SQLAlchemy would have raised (pg8000's
``DatabaseError`` as ``sqlalchemy.exc.DatabaseError`` with ``.orig``, and so on), with a dead connection
invalidated. Going around SQLAlchemy's execution, it fires none of its execution events and ``echo`` does not
log it: count and read statements at pg8000's level (``crm_dev.sql_count``).

What it does not do, and refuses at compile time: expanding ``IN`` parameters and ``literal_execute`` values
(their SQL depends on the values: use ``= any(:array)``), and columns whose defaults SQLAlchemy computes in Python
(give every value). ``executemany`` is not offered: send rows as arrays and ``unnest`` them.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import ARRAY, Connection, Insert, Table, Update, bindparam, exc, func, insert, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from crm_core.db import wire
from crm_core.db.shapes import shape_cache

Processor = Callable[[Any], Any]

_REQUIRED = object()
_named_tuple: Any = namedtuple  # the row's fields are known only once the statement has run


class _Plan:
    """What running a statement on one dialect needs: its text, its parameters in order, its processors."""

    __slots__ = ("binds", "result_processors", "row_type", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        from pg8000.dbapi import convert_paramstyle

        if dialect.driver != "pg8000":
            raise TypeError(f"prepared statements run on pg8000, not on {dialect.name}+{dialect.driver}")
        compiled: Any = statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise TypeError("a prepared statement cannot have expanding or literal_execute parameters")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise TypeError("a prepared statement cannot rely on Python-side column defaults: give every value")
        self.sql: str = convert_paramstyle(dialect.paramstyle, compiled.string, ())[0]
        binds: list[tuple[str, Any, Processor | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            default = _REQUIRED if bind.required else bind.effective_value
            binds.append((bind.key, default, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        self.binds = tuple(binds)
        processors: list[Processor | None] = []
        for column in getattr(compiled, "_result_columns", ()) or ():
            processors.append(column[3].dialect_impl(dialect).result_processor(dialect, None))
        self.result_processors: tuple[Processor | None, ...] | None = tuple(processors) if any(processors) else None
        self.row_type: Any = None  # the named tuple of the result's columns, made from its first description

    def values(self, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for key, default, process in self.binds:
            value = parameters.get(key, default)
            if value is _REQUIRED:
                raise exc.ArgumentError(f"no value for the bind parameter {key!r}")
            values.append(value if process is None or value is None else process(value))
        return tuple(values)

    def rows(self, context: Any) -> list[Any]:
        raw = context.rows
        if raw is None:
            return []
        if self.row_type is None:
            names = [column["name"] for column in context.columns]
            self.row_type = _named_tuple("Row", names, rename=True)
        make = self.row_type._make
        processors = self.result_processors
        if processors is None:
            return [make(row) for row in raw]
        return [
            make([value if p is None or value is None else p(value) for p, value in zip(processors, row, strict=True)])
            for row in raw
        ]


class Prepared:
    """A statement whose shape never changes, with a bind parameter for every value of a call."""

    __slots__ = ("__weakref__", "_plans", "statement")

    def __init__(self, statement: ClauseElement | str) -> None:
        from sqlalchemy import text

        self.statement: ClauseElement = text(statement) if isinstance(statement, str) else statement
        self._plans: dict[str, _Plan] = {}
        _made.add(self)

    def compile_for(self, dialect: Dialect) -> None:
        """Compile now (the init phase does, so the first call does not)."""
        self._plan(dialect)

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.statement, dialect)
        return plan

    def all(self, connection: Connection, parameters: Mapping[str, Any] | None = None, /, **values: Any) -> list[Any]:
        """Every row, as named tuples (an empty list for a statement without rows)."""
        if parameters is not None:
            values = {**parameters, **values} if values else dict(parameters)
        plan = self._plan(connection.dialect)
        return plan.rows(_run(connection, plan.sql, plan.values(values)))

    def first(self, connection: Connection, parameters: Mapping[str, Any] | None = None, /, **values: Any) -> Any:
        """The first row, or None."""
        rows = self.all(connection, parameters, **values)
        return rows[0] if rows else None

    def one(self, connection: Connection, parameters: Mapping[str, Any] | None = None, /, **values: Any) -> Any:
        """The only row; ``NoResultFound`` / ``MultipleResultsFound`` as SQLAlchemy's ``Result.one``."""
        rows = self.all(connection, parameters, **values)
        if len(rows) != 1:
            if not rows:
                raise exc.NoResultFound("No row was found when one was required")
            raise exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return rows[0]

    def scalar(self, connection: Connection, parameters: Mapping[str, Any] | None = None, /, **values: Any) -> Any:
        """The first column of the first row, or None."""
        row = self.first(connection, parameters, **values)
        return None if row is None else row[0]


# Every prepared statement of this process (module constants, and the shapes built so far), for compile_all.
_made: weakref.WeakSet[Prepared] = weakref.WeakSet()


def compile_all(dialect: Dialect) -> int:
    """Compile every prepared statement made so far that is not yet compiled for ``dialect``: the module-level
    statements of the modules this process imported (the init phase does this, so that a first call compiles
    at most the statements built for its own shape). Returns how many were compiled."""
    pending = [statement for statement in list(_made) if dialect.name not in statement._plans]
    for statement in pending:
        statement.compile_for(dialect)
    return len(pending)


def _run(connection: Connection, sql: str, values: tuple[Any, ...]) -> Any:
    """Send ``sql`` with ``values`` in the connection's transaction (begun here when none is, in the same round
    trip: ``crm_core.db.wire``); pg8000's context."""
    if not connection.in_transaction():
        connection.begin()
    driver: Any = connection.connection.driver_connection
    try:
        begin = not driver._in_transaction and not driver.autocommit
        return wire.execute_statement(driver, sql, values, begin=begin)
    except Exception as error:
        translated = _translated(connection, error, sql, values)
        if translated is error:
            raise
        raise translated from error


def _translated(connection: Connection, error: Exception, sql: str, values: tuple[Any, ...]) -> BaseException:
    """The exception SQLAlchemy raises for a driver error (the connection invalidated when it is dead)."""
    from crm_core.dal.alone import connection_lost

    dialect = connection.dialect
    dbapi: Any = dialect.loaded_dbapi
    lost = connection_lost(error)
    if lost and not connection.invalidated:
        connection.invalidate(error)
    if not isinstance(error, dbapi.Error):
        return error
    wrapped: BaseException = exc.DBAPIError.instance(
        sql,
        values,
        error,
        dbapi.Error,
        hide_parameters=connection.engine.hide_parameters,
        dialect=dialect,
        connection_invalidated=lost,
    )
    return wrapped


def bound_values(table: Table, columns: Iterable[str], prefix: str = "") -> dict[str, Any]:
    """``column -> bind parameter`` for each of ``columns``, named ``prefix`` + the column, of the column's type."""
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in columns}


def bound_insert(table: Table, columns: Iterable[str], prefix: str = "") -> Insert:
    """``INSERT INTO table (columns) VALUES (...)``, the values :func:`bound_values` (the columns left out take
    their server defaults)."""
    return insert(table).values(bound_values(table, columns, prefix))


def bound_update(table: Table, keys: Iterable[str], columns: Iterable[str], prefix: str = "") -> Update:
    """``UPDATE table SET columns WHERE keys``: the new values :func:`bound_values`, the keys' values bind
    parameters named ``prefix`` + ``key_<column>``."""
    matching = (table.c[key] == bindparam(f"{prefix}key_{key}", type_=table.c[key].type) for key in keys)
    return update(table).where(*matching).values(bound_values(table, columns, prefix))


def unnest_insert(table: Table, per_row: tuple[str, ...], shared: tuple[str, ...] = ()) -> PgInsert:
    """``INSERT INTO table (per_row, shared) SELECT ... FROM unnest(...)``: any number of rows in one statement,
    the same for every count. Each ``per_row`` column's values are one array parameter named as the column,
    which ``unnest`` pairs up in order; each ``shared`` column takes one value for every row (a parameter named
    as the column). For columns of scalar types (an array column would be flattened)."""
    arrays = [bindparam(name, type_=ARRAY(table.c[name].type)) for name in per_row]
    new_rows = func.unnest(*arrays).table_valued(*per_row).render_derived(name="new_rows")
    values = [*(new_rows.c[name] for name in per_row), *bound_values(table, shared).values()]
    return pg_insert(table).from_select([*per_row, *shared], select(*values))


@shape_cache(maxsize=512)
def insert_of(table: Table, columns: tuple[str, ...]) -> Prepared:
    """:func:`bound_insert` prepared, one per table and set of columns."""
    return Prepared(bound_insert(table, columns))


@shape_cache(maxsize=512)
def update_of(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Prepared:
    """:func:`bound_update` prepared, one per table, keys and set of columns."""
    return Prepared(bound_update(table, keys, columns))


@shape_cache(maxsize=64)
def insert_many_of(table: Table, columns: tuple[str, ...]) -> Prepared:
    """:func:`unnest_insert` of ``columns``, every one given per row, prepared."""
    return Prepared(unnest_insert(table, columns))


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of the same columns) into ``table`` with one statement (none for no rows)."""
    if not rows:
        return
    columns = tuple(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError(f"rows for {table.name} must all have the same columns")
    insert_many_of(table, columns).all(connection, {name: [row[name] for row in rows] for name in columns})
