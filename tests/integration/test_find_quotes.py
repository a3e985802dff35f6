"""crm.find_quotes end to end: real PostgreSQL, moto, the real Lambda handler."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.errors import broken_rule
from tests.support.quotes import add_quote
from tests.support.rows import count_rows
from tests.support.searches import (
    assert_120_matches_in_pages_of_25,
    assert_records_nothing,
    assert_total_counts_every_match,
)
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.find_quotes"
BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SORT_KEYS = ("quote_date", "total_amount", "status", "created_at")
NULLABLE = {"quote_date", "status"}


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class World:
    """A tenant with quotes of two clients (ties in every sort key, one quote without a date) and templates."""

    tenant: Tenant
    globex: uuid.UUID
    quotes: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **values: Any) -> uuid.UUID:
        values.setdefault("client_id", self.tenant.client)
        values.setdefault("status", "draft")
        values.setdefault("is_template", False)
        values.setdefault("quote_number", f"QUO-{len(self.quotes) + 1:04d}")
        quote_id = add_quote(self.tenant, lines=1, **values)
        self.quotes.append({"id": quote_id, **values})
        return quote_id

    def expected(self, key: str = "quote_date", descending: bool = True, **conditions: Any) -> list[str]:
        """Ids matching ``conditions`` in the action's order: ``key`` (NULLs greatest), then quote_id ascending."""
        conditions.setdefault("is_template", False)
        rows = [q for q in self.quotes if all(q.get(k) == v for k, v in conditions.items())]
        rows.sort(key=lambda q: q["id"])
        nulls = [q for q in rows if q.get(key) is None]
        values = sorted((q for q in rows if q.get(key) is not None), key=lambda q: q[key], reverse=descending)
        ordered = [*nulls, *values] if descending else [*values, *nulls]
        return [str(q["id"]) for q in ordered]


@pytest.fixture
def world(tenant: Tenant) -> World:
    w = World(tenant=tenant, globex=tenant.seed.client("Globex", timezone="Europe/Berlin"))
    rows = [
        # quote_date, total_amount, status, created_at, client
        (day(0), 100_00, "draft", day(0), None),
        (day(1), 250_00, "sent", day(1), None),
        (day(1), 100_00, "accepted", day(1), None),
        (day(1), 50_00, "draft", day(2), "globex"),
        (day(2), 250_00, "sent", day(2), None),
        (day(3), 0, "draft", day(2), "globex"),
        (day(3), 75_00, "rejected", day(3), None),
        (day(4), 100_00, "pending_approval", day(4), "globex"),
        (day(5), 999_00, "converted", day(5), None),
        (None, 0, "draft", day(6), None),
    ]
    for quote_date, total, status, created_at, client in rows:
        w.add(
            quote_date=quote_date,
            total_amount=total,
            subtotal=total,
            status=status,
            created_at=created_at,
            client_id=w.globex if client else tenant.client,
        )
    w.add(is_template=True, status=None, quote_number=None, quote_date=None, created_at=day(0), title="Template A")
    w.add(is_template=True, status=None, quote_number=None, quote_date=day(2), created_at=day(1), title="Template B")
    return w


def ids(*pages: dict[str, Any]) -> list[str]:
    return [q["quote_id"] for page in pages for q in page["quotes"]]


def all_pages(invoke, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of ``request``, each asked for with the previous page's next_cursor."""
    pages = [invoke(ACTION, request)]
    while pages[-1]["next_cursor"]:
        pages.append(invoke(ACTION, {**request, "cursor": pages[-1]["next_cursor"]}))
    return pages


# ---- filters ----


def test_default_lists_quotes_newest_first_without_templates(invoke, world: World) -> None:
    out = invoke(ACTION, {})

    assert ids(out) == world.expected()
    assert out["count"] == 10
    assert (out["has_more"], out["next_cursor"], out["total"]) == (False, None, None)
    assert out["first_quote"] == out["quotes"][0]
    assert out["matched_filters"] == {
        "quote_id": None,
        "quote_number": None,
        "client_id": None,
        "status": None,
        "date_from": None,
        "date_to": None,
        "is_template": False,
        "sort_by": "quote_date",
        "sort_order": "desc",
        "limit": 25,
    }


def test_quote_id_filter(invoke, world: World) -> None:
    wanted = world.quotes[4]["id"]

    out = invoke(ACTION, {"quote_id": str(wanted)})

    assert ids(out) == [str(wanted)]
    assert out["matched_filters"]["quote_id"] == str(wanted)


def test_quote_number_filter_is_exact(invoke, world: World) -> None:
    out = invoke(ACTION, {"quote_number": "QUO-0003"})
    partial = invoke(ACTION, {"quote_number": "QUO-000"})
    other_case = invoke(ACTION, {"quote_number": "quo-0003"})

    assert ids(out) == [str(world.quotes[2]["id"])]
    assert partial["quotes"] == other_case["quotes"] == []


def test_client_filter(invoke, world: World) -> None:
    out = invoke(ACTION, {"client_id": str(world.globex)})

    assert ids(out) == world.expected(client_id=world.globex)
    assert len(ids(out)) == 3
    assert {q["client_id"] for q in out["quotes"]} == {str(world.globex)}


@pytest.mark.parametrize("status", ["draft", "sent", "pending_approval", "expired"])
def test_status_filter(invoke, world: World, status: str) -> None:
    out = invoke(ACTION, {"status": status})

    assert ids(out) == world.expected(status=status)
    assert {q["status"] for q in out["quotes"]} <= {status}


def test_date_range_is_inclusive_at_both_ends_on_quote_date(invoke, world: World) -> None:
    out = invoke(ACTION, {"date_from": iso(day(1)), "date_to": iso(day(3))})

    expected = [
        i
        for i in world.expected()
        if any(str(q["id"]) == i and q["quote_date"] in (day(1), day(2), day(3)) for q in world.quotes)
    ]
    assert ids(out) == expected
    assert len(expected) == 6


def test_open_ended_date_ranges(invoke, world: World) -> None:
    newest = invoke(ACTION, {"date_from": iso(day(4))})
    oldest = invoke(ACTION, {"date_to": iso(day(0)), "sort_order": "asc"})

    assert ids(newest) == [str(world.quotes[8]["id"]), str(world.quotes[7]["id"])]
    assert ids(oldest) == [str(world.quotes[0]["id"])]


def test_date_range_accepts_any_offset(invoke, world: World) -> None:
    # day(1) = 2026-03-02T09:00Z written as 10:00+01:00; day(2) as 04:00-05:00.
    out = invoke(ACTION, {"date_from": "2026-03-02T10:00:00+01:00", "date_to": "2026-03-03T04:00:00-05:00"})

    assert len(ids(out)) == 4
    assert out["matched_filters"]["date_from"] == iso(day(1))
    assert out["matched_filters"]["date_to"] == iso(day(2))


def test_is_template_lists_templates_only(invoke, world: World) -> None:
    out = invoke(ACTION, {"is_template": True})

    assert ids(out) == world.expected(is_template=True)
    assert [q["title"] for q in out["quotes"]] == ["Template A", "Template B"]  # no date sorts first when descending
    assert all(q["is_template"] and q["status"] is None and q["quote_number"] is None for q in out["quotes"])


def test_filters_combined(invoke, world: World) -> None:
    out = invoke(
        ACTION,
        {
            "client_id": str(world.tenant.client),
            "status": "sent",
            "date_from": iso(day(0)),
            "date_to": iso(day(1)),
        },
    )

    assert ids(out) == [str(world.quotes[1]["id"])]


def test_quote_detail_of_each_row(invoke, world: World) -> None:
    quote_id = world.quotes[1]["id"]

    out = invoke(ACTION, {"quote_id": str(quote_id)})

    assert out["first_quote"] == {
        "quote_id": str(quote_id),
        "quote_number": "QUO-0002",
        "status": "sent",
        "client_id": str(world.tenant.client),
        "contact_id": str(world.tenant.contact),
        "title": "Managed services",
        "quote_date": "2026-03-02T09:00:00Z",
        "valid_until": out["first_quote"]["valid_until"],
        "currency_code": "USD",
        "subtotal": 250_00,
        "discount_total": 0,
        "tax": 0,
        "total_amount": 250_00,
        "sent_at": None,
        "converted_contract_id": None,
        "converted_invoice_id": None,
        "is_template": False,
        "items_count": 1,
    }


# ---- order ----


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("key", SORT_KEYS)
def test_each_sort_key_in_both_orders_with_quote_id_tiebreak(invoke, world: World, key: str, order: str) -> None:
    expected = world.expected(key, order == "desc")

    whole = invoke(ACTION, {"sort_by": key, "sort_order": order})
    paged = all_pages(invoke, {"sort_by": key, "sort_order": order, "limit": 2})

    assert ids(whole) == expected
    assert ids(*paged) == expected
    assert [p["count"] for p in paged] == [2, 2, 2, 2, 2]
    assert whole["matched_filters"]["sort_by"] == key
    assert whole["matched_filters"]["sort_order"] == order


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("key", sorted(NULLABLE))
def test_nulls_sort_greatest_across_pages_of_one(invoke, world: World, key: str, order: str) -> None:
    for i in range(3):
        world.add(is_template=True, status=None, quote_number=None, quote_date=None, created_at=day(i))

    paged = all_pages(invoke, {"is_template": True, "sort_by": key, "sort_order": order, "limit": 1})

    assert ids(*paged) == world.expected(key, order == "desc", is_template=True)
    assert len(paged) == 5


def test_reference_names_are_aliases(invoke, world: World) -> None:
    out = invoke(ACTION, {"sortBy": "total_amount", "sortOrder": "asc", "pageSize": 3})

    assert ids(out) == world.expected("total_amount", False)[:3]
    assert out["matched_filters"]["limit"] == 3


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"limit": 0}, "input.limit"),
        ({"limit": 201}, "input.limit"),
        ({"page": 2}, "input.page"),
        ({"sort_by": "title"}, "input.sort_by"),
        ({"sort_order": "up"}, "input.sort_order"),
        ({"status": "open"}, "input.status"),
        ({"date_from": "2026-03-01T10:00:00"}, "input.date_from"),
        ({"on_empty": "explode"}, "input.on_empty"),
        ({"client_id": "acme"}, "input.client_id"),
        ({"quote_number": ""}, "input.quote_number"),
    ],
)
def test_bad_input_is_validation_error(invoke, world: World, extra: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, extra)

    assert caught.value.details["rule"] == "schema"
    assert caught.value.details["errors"][0]["field"] == field


# ---- paging ----


def test_cursor_pages_through_120_quotes_in_pages_of_25_each_exactly_once_in_order(invoke, tenant: Tenant) -> None:
    made = [add_quote(tenant, lines=0, quote_date=day(i // 4), quote_number=f"P-{i:03d}") for i in range(120)]
    request = {"client_id": str(tenant.client), "limit": 25, "include_total": True}

    pages = all_pages(invoke, request)
    seen = ids(*pages)

    assert_120_matches_in_pages_of_25(pages, seen)
    by_day: dict[int, list[uuid.UUID]] = {}
    for i, quote_id in enumerate(made):
        by_day.setdefault(i // 4, []).append(quote_id)
    expected = [str(q) for d in sorted(by_day, reverse=True) for q in sorted(by_day[d])]
    assert seen == expected


def test_paging_is_stable_under_inserts_between_pages(invoke, tenant: Tenant) -> None:
    for i in range(30):
        add_quote(tenant, lines=0, quote_date=day(10 + i))
    request = {"client_id": str(tenant.client), "limit": 10}
    first = invoke(ACTION, request)
    newer = add_quote(tenant, lines=0, quote_date=day(100))
    older = add_quote(tenant, lines=0, quote_date=day(0))

    rest = []
    cursor = first["next_cursor"]
    while cursor:
        rest.append(invoke(ACTION, {**request, "cursor": cursor}))
        cursor = rest[-1]["next_cursor"]
    seen = ids(first, *rest)

    assert len(seen) == len(set(seen)) == 31
    assert str(newer) not in seen
    assert seen[-1] == str(older)


def test_limit_may_change_between_pages(invoke, world: World) -> None:
    first = invoke(ACTION, {"limit": 3})
    second = invoke(ACTION, {"limit": 5, "cursor": first["next_cursor"]})

    assert ids(first, second) == world.expected()[:8]


@pytest.mark.parametrize(
    "other",
    [
        {"client_id": "GLOBEX"},
        {"status": "draft"},
        {"sort_by": "total_amount"},
        {"sort_order": "asc"},
        {"is_template": True},
        {"date_to": iso(day(9))},
    ],
)
def test_cursor_of_other_filters_or_order_is_refused(invoke, world: World, other: dict[str, Any]) -> None:
    first = invoke(ACTION, {"limit": 2})
    if other.get("client_id") == "GLOBEX":
        other = {"client_id": str(world.globex)}

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"limit": 2, **other, "cursor": first["next_cursor"]})

    assert caught.value.message == (
        "cursor was issued for different filters; keep the filters of the first page when paging"
    )
    assert caught.value.details["rule"] == "cursor_matches_filters"
    assert caught.value.details["field"] == "cursor"
    assert caught.value.details["expected"] != caught.value.details["actual"]


def test_malformed_cursor_is_refused(invoke, world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"cursor": "not-a-cursor"})

    assert caught.value.message == "cursor is not a next_cursor returned by crm.find_quotes"
    assert caught.value.details == broken_rule(
        "cursor_valid", "cursor", "the next_cursor of a previous page", "not-a-cursor"
    )


def test_cursor_of_find_activities_is_refused(invoke, world: World) -> None:
    from crm_core.actions.activities.find_activities import encode_cursor
    from crm_core.dal.activities import ActivityFilters, Keyset

    cursor = encode_cursor(ActivityFilters(), Keyset(day(1), uuid.uuid4()))

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"cursor": cursor})

    assert caught.value.details["rule"] == "cursor_valid"


def test_include_total_counts_every_match(invoke, world: World) -> None:
    matches = world.expected(client_id=world.tenant.client)
    assert len(matches) == 7

    assert_total_counts_every_match(invoke, ACTION, {"client_id": str(world.tenant.client)}, len(matches))


# ---- guards and empty results ----


def test_date_from_after_date_to_is_refused(invoke, world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"date_from": iso(day(5)), "date_to": iso(day(4))})

    assert caught.value.message == "date_from must not be after date_to"
    assert caught.value.details == broken_rule(
        "date_range_order", "date_from", "<= date_to (2026-03-05T09:00:00Z)", "2026-03-06T09:00:00Z"
    )


@pytest.mark.parametrize(
    "request_input",
    [
        pytest.param({"limit": 26}, id="no-filter"),
        pytest.param({"limit": 200, "date_from": "2026-03-01T00:00:00Z"}, id="open-date-range"),
        pytest.param({"limit": 50, "is_template": True}, id="templates"),
    ],
)
def test_unbounded_query_is_refused_above_25_a_page(invoke, world: World, request_input: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, request_input)

    assert caught.value.message == (
        "A page of more than 25 quotes needs a filter (quote_id, quote_number, client_id or status) "
        "or a bounded date range (date_from and date_to)"
    )
    assert caught.value.details == broken_rule(
        "bounded_query", "limit", "<= 25, or a filter, or both date_from and date_to", request_input["limit"]
    )


@pytest.mark.parametrize(
    "request_input",
    [
        pytest.param({"limit": 25}, id="25-without-filter"),
        pytest.param({"limit": 200, "client_id": "CLIENT"}, id="client"),
        pytest.param({"limit": 200, "status": "draft"}, id="status"),
        pytest.param({"limit": 200, "quote_number": "QUO-0001"}, id="number"),
        pytest.param({"limit": 200, "date_from": iso(day(0)), "date_to": iso(day(9))}, id="bounded-dates"),
    ],
)
def test_bounded_queries_may_ask_for_more(invoke, world: World, request_input: dict[str, Any]) -> None:
    if request_input.get("client_id") == "CLIENT":
        request_input = {**request_input, "client_id": str(world.tenant.client)}

    out = invoke(ACTION, request_input)

    assert out["count"] > 0


def test_no_match_returns_empty_by_default(invoke, world: World) -> None:
    out = invoke(ACTION, {"status": "expired"})

    assert (out["quotes"], out["first_quote"], out["count"]) == ([], None, 0)
    assert (out["has_more"], out["next_cursor"]) == (False, None)


def test_no_match_with_on_empty_error_is_not_found(invoke, world: World) -> None:
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {"status": "expired", "date_from": iso(day(1)), "on_empty": "error"})

    assert caught.value.code == "NOT_FOUND"
    assert caught.value.message == "No quotes matched the filters"
    assert caught.value.details == {
        "resource": "quote",
        "filters": {"status": "expired", "date_from": iso(day(1)), "is_template": False},
    }


def test_on_empty_error_with_matches_returns_them(invoke, world: World) -> None:
    out = invoke(ACTION, {"client_id": str(world.globex), "on_empty": "error"})

    assert ids(out) == world.expected(client_id=world.globex)


# ---- tenants and permissions ----


def test_quotes_of_another_tenant_never_appear(invoke, world: World, other_tenant: Tenant) -> None:
    foreign = add_quote(other_tenant, quote_date=day(1), quote_number="QUO-0001")
    add_quote(other_tenant, quote_date=day(2))

    listed = invoke(ACTION, {"include_total": True})
    by_id = invoke(ACTION, {"quote_id": str(foreign)})
    by_number = invoke(ACTION, {"quote_number": "QUO-0001"})

    assert ids(listed) == world.expected()
    assert listed["total"] == 10
    assert by_id["quotes"] == []
    assert ids(by_number) == [str(world.quotes[0]["id"])]


def test_client_of_another_tenant_matches_nothing(invoke, world: World, other_tenant: Tenant) -> None:
    add_quote(other_tenant)

    out = invoke(ACTION, {"client_id": str(other_tenant.client), "include_total": True})
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {"client_id": str(other_tenant.client), "on_empty": "error"})

    assert (out["quotes"], out["count"], out["total"]) == ([], 0, 0)
    assert caught.value.message == "No quotes matched the filters"
    assert caught.value.details == {
        "resource": "quote",
        "filters": {"client_id": str(other_tenant.client), "is_template": False},
    }


def test_needs_billing_read(invoke, world: World) -> None:
    actor = actor_with(world.tenant, ("billing", "create"), ("billing", "update"), ("client", "read"))

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {}, actor=actor)

    assert caught.value.message == "Permission denied: billing:read"
    assert caught.value.details["resource"] == "billing"
    assert caught.value.details["action"] == "read"


def test_technician_has_no_billing_read(invoke, world: World) -> None:
    technician = world.tenant.seed.user(roles=["Technician"], first_name="Tom", last_name="Tech")

    with pytest.raises(PermissionDeniedError):
        invoke(ACTION, {"client_id": str(world.tenant.client)}, actor=technician)


def test_billing_read_alone_serves_every_filter(invoke, world: World) -> None:
    actor = actor_with(world.tenant, ("billing", "read"))

    out = invoke(ACTION, {"client_id": str(world.globex), "status": "draft"}, actor=actor)

    assert ids(out) == world.expected(client_id=world.globex, status="draft")


def test_read_only_records_nothing(invoke, world: World, engine, aws) -> None:
    assert_records_nothing(invoke, engine, aws, world.tenant.id, ACTION, {"client_id": str(world.tenant.client)})


def test_a_stale_sent_quote_is_shown_as_stored(invoke, tenant: Tenant, engine) -> None:
    """A search does not write: expiry on access belongs to the actions that load a quote."""
    stale = add_quote(tenant, status="sent", quote_date=day(-40), valid_until=day(-10))

    out = invoke(ACTION, {"quote_id": str(stale)})

    assert out["first_quote"]["status"] == "sent"
    assert count_rows(engine, tenant.id, "quote_activities") == 0


def test_each_page_is_one_query_of_quotes(invoke, world: World) -> None:
    from crm_dev.sql_count import count_statements

    with count_statements() as first_log:
        first = invoke(ACTION, {"sort_by": "status", "sort_order": "asc", "limit": 3})
    with count_statements() as next_log:
        invoke(ACTION, {"sort_by": "status", "sort_order": "asc", "limit": 3, "cursor": first["next_cursor"]})
    on_quotes_first = [s for s in first_log.texts if "FROM quotes" in s]
    on_quotes_next = [s for s in next_log.texts if "FROM quotes" in s]

    assert len(on_quotes_first) == 1
    assert len(on_quotes_next) == 1
    assert on_quotes_next[0].count("UNION ALL") == 2
    assert not any("FROM quote_items" in s and "FROM quotes" not in s for s in first_log.texts + next_log.texts)


# ---- the page query's plan ----


def explain(engine, tenant: Tenant, query) -> str:
    from sqlalchemy import text

    from crm_core.db.engine import tenant_transaction

    compiled = query.compile(dialect=engine.dialect)
    positional = tuple(compiled.params[name] for name in compiled.positiontup or ())
    with tenant_transaction(tenant.id, engine=engine) as connection:
        # A test table is tiny: a sequential scan would be cheaper. Show the plan PostgreSQL has for a large one.
        connection.execute(text("set local enable_seqscan = off"))
        connection.execute(text("set local enable_bitmapscan = off"))
        lines = connection.exec_driver_sql("explain " + compiled.string, positional).scalars().all()
    return "\n".join(lines)


EXPECTED_INDEX = {
    ("quote_date", True): "ix_quotes_quote_date",
    ("quote_date", False): "ix_quotes_quote_date_asc",
    ("total_amount", True): "ix_quotes_total_desc",
    ("total_amount", False): "ix_quotes_total_asc",
    ("status", True): "ix_quotes_status_desc",
    ("status", False): "ix_quotes_status_asc",
    ("created_at", True): "ix_quotes_created_desc",
    ("created_at", False): "ix_quotes_created_asc",
}


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("key", SORT_KEYS)
def test_each_order_is_an_index_scan_that_stops_at_the_page(engine, world: World, key: str, descending: bool) -> None:
    from crm_core.dal.quote_search import QuoteFilters, QuotePosition, QuoteSort, quote_page_query

    sort = QuoteSort(key, descending)  # type: ignore[arg-type]
    value = {"quote_date": day(1), "total_amount": 100_00, "status": "draft", "created_at": day(2)}[key]
    first = explain(engine, world.tenant, quote_page_query(world.tenant.id, QuoteFilters(), sort, after=None, limit=26))
    after = QuotePosition(value, uuid.UUID(int=0))
    later = explain(
        engine, world.tenant, quote_page_query(world.tenant.id, QuoteFilters(), sort, after=after, limit=26)
    )

    index = EXPECTED_INDEX[(key, descending)]
    assert first.splitlines()[0].startswith("Limit")
    assert f"Index Scan using {index} on quotes" in first
    assert "Sort" not in first
    # each range of the cursor page: Limit over an index scan; one sort of the at most 3 x 26 rows on top
    scans = re.findall(r"(\S+ Scan)(?: Backward)? using (\S+) on quotes", later)
    assert len(scans) == later.count("->  Limit") >= 2, later
    # Every range is an index scan under its Limit. On a test-sized table the planner may take the primary key
    # (tenant, quote_id) for the "same key, later id" range; at scale it takes the sort index (bench/find_quotes.py
    # prints those plans, and BENCHMARKS.md has them).
    assert all(kind == "Index Scan" and name.startswith(("ix_quotes_", "pk_quotes")) for kind, name in scans), later
    assert any(name == index for _, name in scans), later
    assert later.count("Sort Key") == 1
    assert "Seq Scan" not in first + later


def test_filter_with_date_order_uses_its_index(engine, world: World) -> None:
    from crm_core.dal.quote_search import QuoteFilters, QuoteSort, quote_page_query

    by_client = QuoteFilters(client_id=world.globex)
    by_status = QuoteFilters(status="sent")

    client_plan = explain(
        engine, world.tenant, quote_page_query(world.tenant.id, by_client, QuoteSort(), after=None, limit=26)
    )
    status_plan = explain(
        engine, world.tenant, quote_page_query(world.tenant.id, by_status, QuoteSort(), after=None, limit=26)
    )

    assert "Index Scan using ix_quotes_client_date on quotes" in client_plan
    assert "Index Scan using ix_quotes_status_date on quotes" in status_plan
    assert "Sort" not in client_plan + status_plan
