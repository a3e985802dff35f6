"""Several single-row lookups answered by one statement.

An action that needs a contact, a client, a type and a status sends one query for all of them instead of one
each: every lookup is a subquery of at most one row, LEFT JOINed ``ON true`` to a one-row anchor, so the single
result row carries each lookup's columns, all NULL where the record is not there.

    contact = Lookup(contact_query(tenant, bindparam("contact_id")), ContactRecord)
    client = Lookup(client_query(tenant, bindparam("client_id")), ClientRecord)
    batch = LookupBatch(contact, client)  # built once, kept (an lru_cache per shape of call)
    found = batch.fetch(connection, {"contact_id": ..., "client_id": ...})
    found[contact]  # ContactRecord | None

A lookup's first column must be its record's key (never NULL in a found row): it tells found from missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, literal, select, true

from crm_core.db.prepared import Prepared

T = TypeVar("T")

# What a lookup query compares an id with: a value, or a bind parameter of a batch built once (LookupBatch).
IdValue = uuid.UUID | ColumnElement[Any]


class Lookup(Generic[T]):
    """One single-row query and how to build its record from the row's values."""

    def __init__(self, query: Select[*tuple[Any, ...]], build: Callable[..., T]):
        self.query = query
        self.build = build


class LookupResults:
    """The records :func:`fetch_lookups` found, by lookup."""

    def __init__(self, found: dict[int, Any]):
        self._found = found

    def __getitem__(self, lookup: Lookup[T]) -> T | None:
        result: T | None = self._found[id(lookup)]
        return result


class LookupBatch:
    """Lookups whose one statement is built once and run many times.

    Build the lookups' queries with ``bindparam`` placeholders instead of values and keep the batch (for example
    in an ``lru_cache`` keyed by which lookups a call needs); :meth:`fetch` then only binds the values. Building
    a statement of several subqueries costs more Python time than running it, so a hot path builds it once.
    """

    def __init__(self, *lookups: Lookup[Any]):
        anchor = select(literal(1).label("one")).subquery("anchor")
        joined: Any = anchor
        columns: list[Any] = []
        self._spans: list[tuple[Lookup[Any], int, int]] = []
        for number, lookup in enumerate(lookups):
            subquery = lookup.query.limit(1).subquery(f"lookup_{number}")
            joined = joined.outerjoin(subquery, true())
            start = len(columns)
            columns += [column.label(f"l{number}_{index}") for index, column in enumerate(subquery.c)]
            self._spans.append((lookup, start, len(columns)))
        self.statement = select(*columns).select_from(joined)
        self._prepared = Prepared(self.statement)

    def fetch(self, connection: Connection, parameters: dict[str, Any] | None = None) -> LookupResults:
        """Run the batch with ``parameters`` (the values of its bind parameters); each record, or None."""
        row: Sequence[Any] = self._prepared.one(connection, parameters or {})
        found: dict[int, Any] = {}
        for lookup, start, end in self._spans:
            values = row[start:end]
            found[id(lookup)] = None if values[0] is None else lookup.build(*values)
        return LookupResults(found)
