"""crm.find_quotes: find quotes by id, number, client, status or quote date, one keyset page at a time.

Filters (all optional, combined with AND): ``quote_id``, ``quote_number`` (exact), ``client_id``, ``status``,
``date_from`` / ``date_to`` (inclusive, on quote_date), and ``is_template`` (default false: quotes, not templates).

Order: ``sort_by`` (quote_date | total_amount | status | created_at, default quote_date) in ``sort_order``
(default desc), NULLs greatest (first when descending, last when ascending, as PostgreSQL and the reference's
listByTenant order them), then quote_id ascending. The reference's ``sortBy``, ``sortOrder`` and ``pageSize`` are
accepted as aliases of ``sort_by``, ``sort_order`` and ``limit``.

Paging is crm.find_activities' (``crm_core.actions.paging``): each page one SQL query that continues strictly
after the previous page (``cursor`` = that page's ``next_cursor``, which only continues the same filters and
order; ``limit`` may change between pages), ``has_more``, optional ``include_total``, ``matched_filters``. There
is no page number: an offset would re-read every skipped row.

Guards: date_from after date_to; a query without a filter (quote_id, quote_number, client_id, status) or a
bounded date range (both date_from and date_to) may ask for at most 25 quotes a page. As in find_activities, a
filter naming a record that is not in the tenant (another tenant's client or quote) is no error: it matches
nothing (``count: 0``), and an empty first page is NOT_FOUND only with ``on_empty='error'``. So a page is one SQL
query (plus the count with ``include_total``).

Read-only: quotes are shown as stored. A ``sent`` quote past its valid_until is expired by the next action that
loads it (``load_quote``), not by a search.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, Field

from crm_core.actions import paging
from crm_core.actions.fields import ActionInput, ActionOutput, OffsetDateTime, UtcDateTime, Uuid, picker
from crm_core.actions.quotes.detail import QuoteDetail, quote_detail
from crm_core.dal import quote_search
from crm_core.dal.quote_search import QuoteFilters, QuotePageRow, QuotePosition, QuoteSort, SortKey, SortValue
from crm_core.db.models.quotes import QUOTE_STATUSES, QuoteStatus
from crm_core.errors import NotFoundError, guard_failed
from crm_core.jsonable import jsonable
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

SPEC_ID = "crm.find_quotes"
FILTER_NAMES = ("quote_id", "quote_number", "client_id", "status", "date_from", "date_to", "is_template")
NARROWING_FILTERS = ("quote_id", "quote_number", "client_id", "status")
UNBOUNDED_PAGE_LIMIT = 25


class FindQuotesInput(ActionInput):
    """Filters, order and paging of a quote search."""

    quote_id: Uuid | None = Field(default=None, description="Only this quote.")
    quote_number: str | None = Field(
        default=None, min_length=1, max_length=255, description="Only the quote with this number (exact)."
    )
    client_id: Uuid | None = picker("client", "Only quotes of this client.", default=None)
    status: QuoteStatus | None = Field(default=None, description="Only quotes in this status.")
    date_from: OffsetDateTime | None = Field(
        default=None, description="Earliest quote_date, inclusive (ISO 8601 with offset)."
    )
    date_to: OffsetDateTime | None = Field(
        default=None, description="Latest quote_date, inclusive (ISO 8601 with offset)."
    )
    is_template: bool = Field(default=False, description="Search quote templates instead of quotes.")
    sort_by: SortKey = Field(
        default="quote_date",
        validation_alias=AliasChoices("sort_by", "sortBy"),
        description="Sort key (alias sortBy); ties are broken by quote_id ascending.",
    )
    sort_order: Literal["asc", "desc"] = Field(
        default="desc",
        validation_alias=AliasChoices("sort_order", "sortOrder"),
        description="desc (NULLs first) or asc (NULLs last) (alias sortOrder).",
    )
    limit: int = Field(
        default=25,
        ge=1,
        le=200,
        validation_alias=AliasChoices("limit", "pageSize", "page_size"),
        description="Most quotes per page (alias pageSize). Above 25 only with a filter or a bounded date range.",
    )
    cursor: str | None = paging.cursor_field("filters and order")
    include_total: bool = paging.include_total_field("quote")
    on_empty: paging.OnEmpty = paging.on_empty_field()


class MatchedQuoteFilters(ActionOutput):
    """The filters and order the page was found with."""

    quote_id: uuid.UUID | None
    quote_number: str | None
    client_id: uuid.UUID | None
    status: str | None
    date_from: UtcDateTime | None
    date_to: UtcDateTime | None
    is_template: bool
    sort_by: str
    sort_order: str
    limit: int


class FindQuotesOutput(ActionOutput):
    """One page of quotes in the requested order, with the cursor of the next page."""

    quotes: list[QuoteDetail]
    first_quote: QuoteDetail | None = Field(description="The first quote of this page, or null when it is empty.")
    count: int = Field(description="Quotes on this page.")
    has_more: bool = Field(description="Whether another page follows (ask for it with next_cursor).")
    next_cursor: str | None = Field(description="Opaque position to pass as cursor for the next page.")
    total: int | None = Field(description="Every matching quote (only with include_total; else null).")
    matched_filters: MatchedQuoteFilters


def filters_of(data: FindQuotesInput) -> QuoteFilters:
    """The search filters of ``data`` as the DAL takes them."""
    return QuoteFilters(**{name: getattr(data, name) for name in FILTER_NAMES})


def sort_of(data: FindQuotesInput) -> QuoteSort:
    return QuoteSort(key=data.sort_by, descending=data.sort_order == "desc")


def filters_fingerprint(filters: QuoteFilters, sort: QuoteSort) -> str:
    """A short digest of the filters and order: a cursor only continues the query it came from."""
    values: dict[str, Any] = {name: getattr(filters, name) for name in FILTER_NAMES}
    values["sort_by"] = sort.key
    values["sort_order"] = "desc" if sort.descending else "asc"
    return paging.fingerprint(values)


def _cursor_value(value: SortValue) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def encode_cursor(filters: QuoteFilters, sort: QuoteSort, position: QuotePosition) -> str:
    """The opaque cursor of the page that follows ``position`` (see ``crm_core.actions.paging``)."""
    return paging.encode_cursor(
        {"s": _cursor_value(position.value), "i": str(position.quote_id)}, filters_fingerprint(filters, sort)
    )


def _read_position(raw: Mapping[str, Any]) -> QuotePosition:
    """The position as the cursor carries it: a date-time, integer cents, a status or null (checked against the
    sort key once the fingerprint shows the cursor belongs to this query and order)."""
    value = raw["s"]
    quote_id = paging.row_id(raw["i"])
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return QuotePosition(value, quote_id)
    if not isinstance(value, str):
        raise TypeError("unknown sort value")
    if value in QUOTE_STATUSES:
        return QuotePosition(value, quote_id)
    return QuotePosition(paging.aware_datetime(value), quote_id)


def _fits(sort: QuoteSort, value: SortValue) -> bool:
    if value is None:
        return sort.key in quote_search.NULLABLE_KEYS
    if sort.key in ("quote_date", "created_at"):
        return isinstance(value, datetime)
    if sort.key == "total_amount":
        return isinstance(value, int)
    return isinstance(value, str)


def decode_cursor(cursor: str, filters: QuoteFilters, sort: QuoteSort) -> QuotePosition:
    """The position a cursor encodes; ValidationError when it is malformed or belongs to other filters or order."""
    position = paging.decode_cursor(
        cursor,
        filters_fingerprint=filters_fingerprint(filters, sort),
        read_position=_read_position,
        action_id=SPEC_ID,
    )
    if not _fits(sort, position.value):
        raise paging.invalid_cursor(cursor, SPEC_ID)
    return position


def _check_guards(data: FindQuotesInput, filters: QuoteFilters) -> None:
    paging.require_date_range_order(data.date_from, data.date_to)
    narrowed = any(getattr(filters, name) is not None for name in NARROWING_FILTERS)
    bounded_dates = filters.date_from is not None and filters.date_to is not None
    if not narrowed and not bounded_dates and data.limit > UNBOUNDED_PAGE_LIMIT:
        raise guard_failed(
            "bounded_query",
            "A page of more than 25 quotes needs a filter (quote_id, quote_number, client_id or status) "
            "or a bounded date range (date_from and date_to)",
            field="limit",
            expected=f"<= {UNBOUNDED_PAGE_LIMIT}, or a filter, or both date_from and date_to",
            actual=data.limit,
        )


def find_quotes(ctx: ActionContext, data: FindQuotesInput) -> FindQuotesOutput:
    """One page of matching quotes in one SQL query (keyset paging on the sort key and quote_id)."""
    filters = filters_of(data)
    sort = sort_of(data)
    _check_guards(data, filters)
    after = decode_cursor(data.cursor, filters, sort) if data.cursor is not None else None

    rows, total = quote_search.find_quote_page(
        ctx.connection, ctx.tenant_id, filters, sort, after=after, limit=data.limit + 1, with_total=data.include_total
    )

    def render(row: QuotePageRow) -> QuoteDetail:
        return quote_detail(row.quote)

    page, has_more = paging.fit_page(rows, data.limit, render)
    if not page and after is None and data.on_empty == "error":
        raise NotFoundError(
            "No quotes matched the filters",
            {
                "resource": "quote",
                "filters": jsonable({name: getattr(filters, name) for name in [*filters.given(), "is_template"]}),
            },
        )
    next_cursor = None
    if has_more and page:
        last = rows[len(page) - 1]
        next_cursor = encode_cursor(filters, sort, QuotePosition(last.sort_value, last.quote.quote_id))
    return FindQuotesOutput(
        quotes=page,
        first_quote=page[0] if page else None,
        count=len(page),
        has_more=has_more,
        next_cursor=next_cursor,
        total=total,
        matched_filters=MatchedQuoteFilters(
            **{name: getattr(filters, name) for name in FILTER_NAMES},
            sort_by=data.sort_by,
            sort_order=data.sort_order,
            limit=data.limit,
        ),
    )


SPEC = action_spec(
    find_quotes,
    label="Find Quotes",
    description=(
        "Find quotes by id, number, client, status or quote date, sorted by date, total, status or creation, "
        "one page at a time."
    ),
    permissions=requires("billing:read"),
    side_effectful=False,
    rehearsal_input={"client_id": REHEARSAL_ID, "sort_by": "quote_date", "sort_order": "desc", "limit": 10},
)
