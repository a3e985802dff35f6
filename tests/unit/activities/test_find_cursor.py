"""crm.find_activities' cursor: an opaque, URL-safe position that only continues the query it came from."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crm_core.actions.activities.find_activities import decode_cursor, encode_cursor, filters_fingerprint
from crm_core.dal.activities import ActivityFilters, Keyset
from crm_core.errors import ValidationError
from tests.support.errors import broken_rule

CLIENT = uuid.UUID(int=1)
OTHER_CLIENT = uuid.UUID(int=2)
POSITION = Keyset(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), uuid.UUID(int=0xABC))
FILTERS = ActivityFilters(client_id=CLIENT, date_from=datetime(2026, 3, 1, tzinfo=UTC))


def raw_cursor(**raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def test_a_cursor_decodes_to_the_position_it_encodes() -> None:
    assert decode_cursor(encode_cursor(FILTERS, POSITION), FILTERS) == POSITION


def test_a_cursor_keeps_the_offset_of_the_position() -> None:
    position = Keyset(datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1))), uuid.UUID(int=7))

    decoded = decode_cursor(encode_cursor(FILTERS, position), FILTERS)

    assert decoded == position
    assert decoded.interaction_date.utcoffset() == timedelta(hours=1)


def test_a_cursor_is_url_safe_base64_without_padding() -> None:
    cursor = encode_cursor(FILTERS, POSITION)

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["v"] == 1


def test_the_fingerprint_is_equal_for_equal_filters_and_differs_for_any_other_filter() -> None:
    same = ActivityFilters(client_id=CLIENT, date_from=datetime(2026, 3, 1, tzinfo=UTC))
    others = [
        ActivityFilters(client_id=OTHER_CLIENT, date_from=FILTERS.date_from),
        ActivityFilters(client_id=CLIENT),
        ActivityFilters(client_id=CLIENT, date_from=FILTERS.date_from, user_id=uuid.UUID(int=3)),
    ]

    assert filters_fingerprint(same) == filters_fingerprint(FILTERS)
    assert len(filters_fingerprint(FILTERS)) == 16
    assert len({filters_fingerprint(f) for f in [FILTERS, *others]}) == 4


def test_a_cursor_of_other_filters_is_refused() -> None:
    cursor = encode_cursor(FILTERS, POSITION)
    other = ActivityFilters(client_id=OTHER_CLIENT)

    with pytest.raises(ValidationError) as caught:
        decode_cursor(cursor, other)

    assert caught.value.details == broken_rule(
        "cursor_matches_filters", "cursor", filters_fingerprint(other), filters_fingerprint(FILTERS)
    )


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJ2IjogOX0", "!!!"])
def test_malformed_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor(cursor, FILTERS)

    assert caught.value.details == broken_rule("cursor_valid", "cursor", "the next_cursor of a previous page", cursor)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({"v": 2, "d": "2026-03-02T09:00:00+00:00", "i": str(uuid.UUID(int=1)), "f": "x"}, id="version"),
        pytest.param({"v": 1, "d": "2026-03-02T09:00:00", "i": str(uuid.UUID(int=1)), "f": "x"}, id="naive-date"),
        pytest.param({"v": 1, "d": "2026-03-02T09:00:00+00:00", "i": "12", "f": "x"}, id="bad-id"),
        pytest.param({"v": 1, "d": "2026-03-02T09:00:00+00:00", "f": "x"}, id="no-id"),
        pytest.param({"v": 1, "d": "yesterday", "i": str(uuid.UUID(int=1)), "f": "x"}, id="bad-date"),
    ],
)
def test_cursor_that_is_json_but_not_a_position_is_refused(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor(raw_cursor(**raw), FILTERS)

    assert caught.value.details["rule"] == "cursor_valid"


def test_a_refused_cursor_is_shown_cut_at_80_characters() -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor("x" * 500, FILTERS)

    assert caught.value.details["actual"] == "x" * 80
