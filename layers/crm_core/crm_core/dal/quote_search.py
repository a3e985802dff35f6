"""SQL of crm.find_quotes: one keyset page of quotes, and the count of every match.

Order: the sort key (quote_date, total_amount, status or created_at) ascending or descending, NULLs greatest
(PostgreSQL's default: first when descending, last when ascending), then ``quote_id`` ascending in both orders.
Each order is read from an index (tenant, is_template, key [DESC], quote_id): ``ix_quotes_quote_date`` and the
indexes of migration 0003; with a client or status filter and the quote_date key, ``ix_quotes_client_date`` and
``ix_quotes_status_date`` ((tenant, filter column, quote_date DESC, quote_id)) serve it.

A page continues strictly after the last row of the previous page, its *position* (sort value, quote_id). As the
key and the tiebreak may run in opposite directions, "after" is not one row comparison but up to three
consecutive ranges of the index order, each one index range by itself:

- descending, after (v, i): ``key = v and quote_id > i``, then ``key < v``
  (after a NULL v: ``key is null and quote_id > i``, then ``key is not null``);
- ascending, after (v, i): ``key = v and quote_id > i``, then ``key > v``, then ``key is null`` (for the keys
  that may be NULL: quote_date, status); after a NULL v: ``key is null and quote_id > i``.

The page query is one statement: each range is a branch (``ORDER BY ... LIMIT n``: an index scan that stops
after n rows), the branches are joined with UNION ALL and the at most 3n rows ordered by (range, key, id) and cut
to n. The first page is a single branch without a position. ``items_count`` is a correlated count over
``ix_quote_items_quote`` for the rows returned, never a query per row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Select, func, literal, select, union_all

from crm_core.dal.filters import given_conditions
from crm_core.dal.quotes import QUOTE_COLUMNS, QuoteRecord, items_count_column
from crm_core.db.models import Quote

SortKey = Literal["quote_date", "total_amount", "status", "created_at"]
SORT_KEYS: tuple[SortKey, ...] = ("quote_date", "total_amount", "status", "created_at")
SortValue = datetime | int | str | None
# The keys a quote may lack (templates have no status and may have no date); the others are NOT NULL.
NULLABLE_KEYS: frozenset[SortKey] = frozenset({"quote_date", "status"})


@dataclass(frozen=True)
class QuoteFilters:
    """What find_quotes narrows by; ``None`` means "any". The date range (on quote_date) is inclusive."""

    quote_id: uuid.UUID | None = None
    quote_number: str | None = None
    client_id: uuid.UUID | None = None
    status: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    is_template: bool = False

    def given(self) -> list[str]:
        """Names of the narrowing filters that are set (``is_template`` always applies and is not one)."""
        return [f.name for f in fields(self) if f.name != "is_template" and getattr(self, f.name) is not None]


@dataclass(frozen=True)
class QuoteSort:
    """The sort key and its direction; the tiebreak is always quote_id ascending."""

    key: SortKey = "quote_date"
    descending: bool = True


@dataclass(frozen=True)
class QuotePosition:
    """The last row of the previous page: its sort value and id. The next page starts strictly after it."""

    value: SortValue
    quote_id: uuid.UUID


@dataclass(frozen=True)
class QuotePageRow:
    """A quote of a page and its sort value (the position a cursor after it carries)."""

    quote: QuoteRecord
    sort_value: SortValue


def _filter_conditions(tenant_id: uuid.UUID, filters: QuoteFilters) -> list[ColumnElement[bool]]:
    by_column = (
        (Quote.c.quote_id, filters.quote_id),
        (Quote.c.quote_number, filters.quote_number),
        (Quote.c.client_id, filters.client_id),
        (Quote.c.status, filters.status),
    )
    return [
        Quote.c.tenant == tenant_id,
        Quote.c.is_template == filters.is_template,
        *given_conditions(by_column, Quote.c.quote_date, filters.date_from, filters.date_to),
    ]


def _sort_column(sort: QuoteSort) -> Any:
    return Quote.c[sort.key]


def ranges_after(sort: QuoteSort, after: QuotePosition) -> list[ColumnElement[bool]]:
    """The consecutive ranges of the sort order that follow ``after``, each servable by one index range."""
    key = _sort_column(sort)
    value = None if after.value is None else literal(after.value, key.type)
    same_key_after = Quote.c.quote_id > after.quote_id
    if value is None:
        nulls_after: ColumnElement[bool] = key.is_(None) & same_key_after
        return [nulls_after, key.is_not(None)] if sort.descending else [nulls_after]
    same: ColumnElement[bool] = (key == value) & same_key_after
    if sort.descending:
        return [same, key < value]
    return [same, key > value, key.is_(None)] if sort.key in NULLABLE_KEYS else [same, key > value]


def _branch(
    conditions: list[ColumnElement[bool]], sort: QuoteSort, limit: int, *extra: Any
) -> Select[*tuple[Any, ...]]:
    key = _sort_column(sort)
    return (
        select(*QUOTE_COLUMNS, items_count_column(), key.label("sort_value"), *extra)
        .where(*conditions)
        .order_by(key.desc() if sort.descending else key.asc(), Quote.c.quote_id.asc())
        .limit(limit)
    )


def quote_page_query(
    tenant_id: uuid.UUID, filters: QuoteFilters, sort: QuoteSort, *, after: QuotePosition | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """The page query: quotes matching ``filters`` in ``sort`` order, strictly after ``after``, at most ``limit``."""
    conditions = _filter_conditions(tenant_id, filters)
    if after is None:
        return _branch(conditions, sort, limit)
    ranges = ranges_after(sort, after)
    if len(ranges) == 1:
        return _branch([*conditions, ranges[0]], sort, limit)
    branches = [
        _branch([*conditions, condition], sort, limit, literal(number).label("range_number"))
        for number, condition in enumerate(ranges)
    ]
    pages = union_all(*branches).subquery("pages")
    sort_value = pages.c.sort_value
    return (
        select(*[column for column in pages.c if column.name != "range_number"])
        .order_by(
            pages.c.range_number,
            sort_value.desc() if sort.descending else sort_value.asc(),
            pages.c.quote_id.asc(),
        )
        .limit(limit)
    )


def find_quote_page(
    connection: Connection,
    tenant_id: uuid.UUID,
    filters: QuoteFilters,
    sort: QuoteSort,
    *,
    after: QuotePosition | None,
    limit: int,
    with_total: bool = False,
) -> tuple[list[QuotePageRow], int | None]:
    """The rows of :func:`quote_page_query` (one statement), each with its sort value, and with ``with_total``
    how many quotes match in all, counted by the same statement (an uncorrelated scalar subquery, run once);
    only a page that comes back empty after a cursor needs a second query for it."""
    query = quote_page_query(tenant_id, filters, sort, after=after, limit=limit)
    if with_total:
        query = query.add_columns(_count_query(tenant_id, filters).scalar_subquery().label("total"))
    rows = connection.execute(query).all()
    result = []
    total = None
    for row in rows:
        values = row._asdict()
        sort_value = values.pop("sort_value")
        total = values.pop("total", None)
        result.append(QuotePageRow(QuoteRecord(**values), sort_value))
    if with_total and not rows:
        total = 0 if after is None else count_quotes(connection, tenant_id, filters)
    return result, None if total is None else int(total)


def _count_query(tenant_id: uuid.UUID, filters: QuoteFilters) -> Select[int]:
    return select(func.count()).select_from(Quote).where(*_filter_conditions(tenant_id, filters))


def count_quotes(connection: Connection, tenant_id: uuid.UUID, filters: QuoteFilters) -> int:
    """How many quotes match ``filters`` in all."""
    return int(connection.execute(_count_query(tenant_id, filters)).scalar_one())
