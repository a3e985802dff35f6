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

from sqlalchemy import Boolean, ColumnElement, Connection, Integer, Select, bindparam, func, literal, select, union_all

from crm_core.dal.filters import bound_conditions
from crm_core.dal.quote_records import QUOTE_COLUMNS, QuoteRecord, items_count_column
from crm_core.db.models import Quote
from crm_core.db.prepared import Prepared
from crm_core.db.shapes import shape_cache, shape_type

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


@shape_type
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


# The filters of QuoteFilters that compare a column for equality, and the column each compares.
_EQUAL_FILTERS = {name: Quote.c[name] for name in ("quote_id", "quote_number", "client_id", "status")}


def _filter_conditions(given: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The conditions of the filters named in ``given`` (and the tenant's, and ``is_template``'s), each value a
    bind parameter named as its filter."""
    tenant = Quote.c.tenant == bindparam("tenant")
    template = Quote.c.is_template == bindparam("is_template", type_=Boolean)
    return bound_conditions(given, _EQUAL_FILTERS, Quote.c.quote_date, tenant, template)


def _filter_parameters(tenant_id: uuid.UUID, filters: QuoteFilters, given: tuple[str, ...]) -> dict[str, Any]:
    parameters: dict[str, Any] = {name: getattr(filters, name) for name in given}
    parameters.update(tenant=tenant_id, is_template=filters.is_template)
    return parameters


def _sort_column(sort: QuoteSort) -> Any:
    return Quote.c[sort.key]


# Where a page continues: from the start, after a row whose sort value is NULL, or after one that has a value.
After = Literal["start", "null", "value"]


def _after_kind(after: QuotePosition | None) -> After:
    return "start" if after is None else "null" if after.value is None else "value"


def ranges_after(sort: QuoteSort, after: After) -> list[ColumnElement[bool]]:
    """The consecutive ranges of the sort order that follow a position (its values: the bind parameters
    ``after_value`` and ``after_id``), each servable by one index range."""
    key = _sort_column(sort)
    same_key_after = Quote.c.quote_id > bindparam("after_id", type_=Quote.c.quote_id.type)
    if after == "null":
        nulls_after: ColumnElement[bool] = key.is_(None) & same_key_after
        return [nulls_after, key.is_not(None)] if sort.descending else [nulls_after]
    value = bindparam("after_value", type_=key.type)
    same: ColumnElement[bool] = (key == value) & same_key_after
    if sort.descending:
        return [same, key < value]
    return [same, key > value, key.is_(None)] if sort.key in NULLABLE_KEYS else [same, key > value]


def _branch(conditions: list[ColumnElement[bool]], sort: QuoteSort, *extra: Any) -> Select[*tuple[Any, ...]]:
    key = _sort_column(sort)
    return (
        select(*QUOTE_COLUMNS, items_count_column(), key.label("sort_value"), *extra)
        .where(*conditions)
        .order_by(key.desc() if sort.descending else key.asc(), Quote.c.quote_id.asc())
        .limit(bindparam("limit", type_=Integer))
    )


def _page_select(given: tuple[str, ...], sort: QuoteSort, after: After) -> Select[*tuple[Any, ...]]:
    conditions = _filter_conditions(given)
    if after == "start":
        return _branch(conditions, sort)
    ranges = ranges_after(sort, after)
    if len(ranges) == 1:
        return _branch([*conditions, ranges[0]], sort)
    branches = [
        _branch([*conditions, condition], sort, literal(number).label("range_number"))
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
        .limit(bindparam("limit", type_=Integer))
    )


@shape_cache(maxsize=512)
def _page_statement(given: tuple[str, ...], sort: QuoteSort, after: After, *, with_total: bool) -> Prepared:
    """The page statement of one shape of call (which filters, which order, where it continues)."""
    query = _page_select(given, sort, after)
    if with_total:
        query = query.add_columns(_count_select(given).scalar_subquery().label("total"))
    return Prepared(query)


def _page_parameters(
    tenant_id: uuid.UUID, filters: QuoteFilters, given: tuple[str, ...], after: QuotePosition | None, limit: int
) -> dict[str, Any]:
    parameters = _filter_parameters(tenant_id, filters, given)
    parameters["limit"] = limit
    if after is not None:
        parameters.update(after_value=after.value, after_id=after.quote_id)
    return parameters


def quote_page_query(
    tenant_id: uuid.UUID, filters: QuoteFilters, sort: QuoteSort, *, after: QuotePosition | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """The page query: quotes matching ``filters`` in ``sort`` order, strictly after ``after``, at most ``limit``
    (with its values bound: for EXPLAIN; calls run the prepared statement of the same shape)."""
    given = tuple(filters.given())
    return _page_select(given, sort, _after_kind(after)).params(
        _page_parameters(tenant_id, filters, given, after, limit)
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
    given = tuple(filters.given())
    statement = _page_statement(given, sort, _after_kind(after), with_total=with_total)
    rows = statement.all(connection, _page_parameters(tenant_id, filters, given, after, limit))
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


def _count_select(given: tuple[str, ...]) -> Select[int]:
    return select(func.count()).select_from(Quote).where(*_filter_conditions(given))


@shape_cache(maxsize=64)
def _count_statement(given: tuple[str, ...]) -> Prepared:
    return Prepared(_count_select(given))


def count_quotes(connection: Connection, tenant_id: uuid.UUID, filters: QuoteFilters) -> int:
    """How many quotes match ``filters`` in all."""
    given = tuple(filters.given())
    return int(_count_statement(given).scalar(connection, _filter_parameters(tenant_id, filters, given)))
