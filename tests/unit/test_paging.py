"""The keyset cursor shared by the find actions (crm_core.actions.paging), and crm.find_quotes' use of it."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel

from crm_core.actions import paging
from crm_core.actions.quotes.find_quotes import decode_cursor, encode_cursor, filters_fingerprint
from crm_core.dal.quote_search import QuoteFilters, QuotePosition, QuoteSort
from crm_core.errors import ValidationError
from tests.support.errors import broken_rule

ACTION = "crm.find_things"
FINGERPRINT = paging.fingerprint({"client_id": uuid.UUID(int=1), "date_from": None})
QUOTE_FILTERS = QuoteFilters(client_id=uuid.UUID(int=1), status="sent")
BY_DATE = QuoteSort("quote_date", True)


def read_pair(raw: Mapping[str, Any]) -> tuple[datetime, uuid.UUID]:
    return paging.aware_datetime(raw["d"]), paging.row_id(raw["i"])


def raw_cursor(**raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def decode(cursor: str, fingerprint: str = FINGERPRINT) -> tuple[datetime, uuid.UUID]:
    return paging.decode_cursor(cursor, filters_fingerprint=fingerprint, read_position=read_pair, action_id=ACTION)


# ---- the generic cursor ----


def test_a_cursor_round_trips_its_position() -> None:
    when = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    cursor = paging.encode_cursor({"d": when.isoformat(), "i": str(uuid.UUID(int=7))}, FINGERPRINT)

    assert decode(cursor) == (when, uuid.UUID(int=7))
    assert decode(cursor)[0].utcoffset() == timedelta(hours=1)


def test_a_cursor_is_url_safe_base64_json_with_version_position_and_fingerprint() -> None:
    cursor = paging.encode_cursor({"d": "2026-03-02T09:00:00+00:00", "i": str(uuid.UUID(int=7))}, FINGERPRINT)

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))) == {
        "v": 1,
        "d": "2026-03-02T09:00:00+00:00",
        "i": str(uuid.UUID(int=7)),
        "f": FINGERPRINT,
    }


def test_the_fingerprint_is_16_hex_digits_equal_for_equal_filters_whatever_their_order() -> None:
    a = paging.fingerprint({"x": 1, "y": uuid.UUID(int=2), "z": datetime(2026, 1, 1, tzinfo=UTC)})
    b = paging.fingerprint({"z": datetime(2026, 1, 1, tzinfo=UTC), "y": uuid.UUID(int=2), "x": 1})

    assert a == b
    assert len(a) == 16 and int(a, 16) >= 0
    assert paging.fingerprint({"x": 1, "y": uuid.UUID(int=3), "z": datetime(2026, 1, 1, tzinfo=UTC)}) != a
    assert paging.fingerprint({"x": 1, "y": uuid.UUID(int=2), "z": None}) != a


def test_a_cursor_of_other_filters_is_refused_with_both_fingerprints() -> None:
    cursor = paging.encode_cursor({"d": "2026-03-02T09:00:00+00:00", "i": str(uuid.UUID(int=7))}, FINGERPRINT)
    other = paging.fingerprint({"client_id": uuid.UUID(int=2)})

    with pytest.raises(ValidationError) as caught:
        decode(cursor, other)

    assert caught.value.message == (
        "cursor was issued for different filters; keep the filters of the first page when paging"
    )
    assert caught.value.details == broken_rule("cursor_matches_filters", "cursor", other, FINGERPRINT)


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor", id="not-base64-json"),
        pytest.param("!!!", id="not-base64"),
        pytest.param(raw_cursor(v=9), id="version"),
        pytest.param(raw_cursor(v=1, d="2026-03-02T09:00:00", i=str(uuid.UUID(int=1)), f="x"), id="naive-date"),
        pytest.param(raw_cursor(v=1, d="yesterday", i=str(uuid.UUID(int=1)), f="x"), id="bad-date"),
        pytest.param(raw_cursor(v=1, d=20260302, i=str(uuid.UUID(int=1)), f="x"), id="date-not-text"),
        pytest.param(raw_cursor(v=1, d="2026-03-02T09:00:00+00:00", i="12", f="x"), id="bad-id"),
        pytest.param(raw_cursor(v=1, d="2026-03-02T09:00:00+00:00", i=12, f="x"), id="id-not-text"),
        pytest.param(raw_cursor(v=1, d="2026-03-02T09:00:00+00:00", f="x"), id="no-id"),
        pytest.param(raw_cursor(v=1, d="2026-03-02T09:00:00+00:00", i=str(uuid.UUID(int=1))), id="no-fingerprint"),
        pytest.param(raw_cursor(v=1, d="2026-03-02T09:00:00+00:00", i=str(uuid.UUID(int=1)), f="x")[:-3], id="cut"),
        pytest.param(base64.urlsafe_b64encode(b"[1, 2]").decode(), id="json-list"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), id="not-utf8"),
    ],
)
def test_a_malformed_cursor_is_refused_naming_the_action(cursor: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode(cursor)

    assert caught.value.message == "cursor is not a next_cursor returned by crm.find_things"
    assert caught.value.details == broken_rule(
        "cursor_valid", "cursor", "the next_cursor of a previous page", cursor[:80]
    )


def test_a_refused_cursor_is_shown_cut_at_80_characters() -> None:
    with pytest.raises(ValidationError) as caught:
        decode("x" * 500)

    assert caught.value.details["actual"] == "x" * 80


# ---- fitting a page into the output budget ----


class Item(BaseModel):
    text: str


def render(value: str) -> Item:
    return Item(text=value)


def test_fit_page_takes_up_to_the_limit_and_says_whether_more_follow() -> None:
    assert paging.fit_page(["a", "b", "c"], 2, render) == ([Item(text="a"), Item(text="b")], True)
    assert paging.fit_page(["a", "b"], 2, render) == ([Item(text="a"), Item(text="b")], False)
    assert paging.fit_page([], 2, render) == ([], False)


def test_fit_page_stops_at_the_byte_budget_and_leaves_the_rest_for_the_next_page() -> None:
    rows = ["x" * 100] * 5  # each item is 111 bytes of JSON, plus one for the separator

    page, has_more = paging.fit_page(rows, 5, render, budget=300)

    assert len(page) == 2
    assert has_more is True


def test_fit_page_always_returns_at_least_one_item() -> None:
    page, has_more = paging.fit_page(["x" * 1000, "y"], 5, render, budget=10)

    assert page == [Item(text="x" * 1000)]
    assert has_more is True


# ---- crm.find_quotes' positions ----


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (QuoteSort("quote_date", True), datetime(2026, 3, 2, 9, tzinfo=UTC)),
        (QuoteSort("quote_date", False), None),
        (QuoteSort("total_amount", True), 125_00),
        (QuoteSort("total_amount", False), 0),
        (QuoteSort("status", True), "pending_approval"),
        (QuoteSort("status", False), None),
        (QuoteSort("created_at", False), datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=-5)))),
    ],
)
def test_a_quote_cursor_round_trips_each_kind_of_sort_value(sort: QuoteSort, value: Any) -> None:
    position = QuotePosition(value, uuid.UUID(int=42))

    assert decode_cursor(encode_cursor(QUOTE_FILTERS, sort, position), QUOTE_FILTERS, sort) == position


@pytest.mark.parametrize(
    "other",
    [
        (QuoteFilters(client_id=uuid.UUID(int=1), status="draft"), BY_DATE),
        (QuoteFilters(client_id=uuid.UUID(int=1), status="sent", is_template=True), BY_DATE),
        (QUOTE_FILTERS, QuoteSort("quote_date", False)),
        (QUOTE_FILTERS, QuoteSort("total_amount", True)),
    ],
)
def test_a_quote_cursor_only_continues_the_same_filters_and_order(other: tuple[QuoteFilters, QuoteSort]) -> None:
    cursor = encode_cursor(QUOTE_FILTERS, BY_DATE, QuotePosition(datetime(2026, 3, 2, tzinfo=UTC), uuid.UUID(int=1)))

    with pytest.raises(ValidationError) as caught:
        decode_cursor(cursor, *other)

    assert caught.value.details["rule"] == "cursor_matches_filters"
    assert caught.value.details["expected"] == filters_fingerprint(*other)


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (QuoteSort("total_amount", True), None),  # never null
        (QuoteSort("created_at", True), None),
        (QuoteSort("total_amount", True), "draft"),
        (QuoteSort("status", True), 100),
        (QuoteSort("quote_date", True), "draft"),
        (QuoteSort("total_amount", True), True),
        (QuoteSort("status", True), "opened"),
        (QuoteSort("quote_date", True), 1.5),
    ],
)
def test_a_quote_cursor_whose_value_does_not_fit_its_sort_key_is_refused(sort: QuoteSort, value: Any) -> None:
    cursor = paging.encode_cursor({"s": value, "i": str(uuid.UUID(int=1))}, filters_fingerprint(QUOTE_FILTERS, sort))

    with pytest.raises(ValidationError) as caught:
        decode_cursor(cursor, QUOTE_FILTERS, sort)

    assert caught.value.message == "cursor is not a next_cursor returned by crm.find_quotes"
    assert caught.value.details["rule"] == "cursor_valid"
