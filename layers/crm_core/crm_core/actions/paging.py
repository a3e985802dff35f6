"""Keyset paging shared by the find actions (crm.find_activities, crm.find_quotes).

A page is one SQL query that continues strictly after the last row of the previous page (its *position*: the
sort value(s) and the row id), never an offset, so rows inserted between pages never shift what comes next.

The position travels in an opaque cursor: URL-safe base64 (no padding) of a small JSON object
``{"v": 1, <position fields>..., "f": <fingerprint>}``. The fingerprint is a digest of the filters (and sort) of
the query the cursor came from: a cursor only continues that query. Decoding refuses, with a ValidationError:

- anything that is not such an object, of this version, whose position the action can read: rule ``cursor_valid``
  (``actual`` shows the cursor cut at 80 characters);
- a cursor of other filters: rule ``cursor_matches_filters`` (``expected`` and ``actual`` are the fingerprints).

A page also stays below :data:`PAGE_BYTES_BUDGET` bytes of JSON (:func:`fit_page`): what does not fit comes on
the next page, so an output is always under Lambda's 256 KiB.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from crm_core.actions.fields import iso_utc
from crm_core.errors import ValidationError, guard_failed
from crm_core.jsonable import canonical_json, json_size

CURSOR_VERSION = 1
# The items of one page stay below this many bytes of JSON, so the whole output is under 256 KiB.
PAGE_BYTES_BUDGET = 240 * 1024
_SHOWN_CHARS = 80

# What an empty result is: an empty list, or a NOT_FOUND error.
OnEmpty = Literal["return_empty", "error"]

Position = TypeVar("Position")
Row = TypeVar("Row")
Item = TypeVar("Item", bound=BaseModel)


def fingerprint(values: Mapping[str, Any]) -> str:
    """A short digest (16 hex digits) of the filters ``values``: a cursor only continues the query it came from."""
    return hashlib.sha256(canonical_json(dict(values)).encode()).hexdigest()[:16]


def encode_cursor(position: Mapping[str, Any], filters_fingerprint: str) -> str:
    """The opaque cursor of ``position`` (JSON-ready values) for the query of ``filters_fingerprint``."""
    raw = {"v": CURSOR_VERSION, **position, "f": filters_fingerprint}
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str,
    *,
    filters_fingerprint: str,
    read_position: Callable[[Mapping[str, Any]], Position],
    action_id: str,
) -> Position:
    """The position ``cursor`` encodes, read by ``read_position`` (which raises ValueError, KeyError or TypeError
    for a position it cannot read); ValidationError when the cursor is malformed or belongs to other filters."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, dict) or raw.get("v") != CURSOR_VERSION:
            raise ValueError("unknown cursor version")
        position = read_position(raw)
        found = raw["f"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor(cursor, action_id) from None
    if found != filters_fingerprint:
        raise guard_failed(
            "cursor_matches_filters",
            "cursor was issued for different filters; keep the filters of the first page when paging",
            field="cursor",
            expected=filters_fingerprint,
            actual=found,
        )
    return position


def invalid_cursor(cursor: str, action_id: str) -> ValidationError:
    """The ValidationError of a cursor that is not a next_cursor of ``action_id`` (rule ``cursor_valid``)."""
    return guard_failed(
        "cursor_valid",
        f"cursor is not a next_cursor returned by {action_id}",
        field="cursor",
        expected="the next_cursor of a previous page",
        actual=cursor[:_SHOWN_CHARS],
    )


def aware_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time with an offset from a cursor; ValueError otherwise (naive, not text, not a date)."""
    if not isinstance(value, str):
        raise TypeError("cursor date is not text")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("cursor date without offset")
    return parsed


def row_id(value: Any) -> uuid.UUID:
    """A row id (uuid text) from a cursor; ValueError or TypeError otherwise."""
    if not isinstance(value, str):
        raise TypeError("cursor id is not text")
    return uuid.UUID(value)


def fit_page(
    rows: Sequence[Row], limit: int, render: Callable[[Row], Item], *, budget: int = PAGE_BYTES_BUDGET
) -> tuple[list[Item], bool]:
    """The first ``limit`` of ``rows`` (a query asked for ``limit + 1``) rendered, as many as fit in ``budget``
    bytes of JSON (at least one), and whether more follow."""
    has_more = len(rows) > limit
    page: list[Item] = []
    used = 0
    for row in rows[:limit]:
        item = render(row)
        used += json_size(item) + 1
        if page and used > budget:
            return page, True  # the rest comes on the next page
        page.append(item)
    return page, has_more


def require_date_range_order(date_from: datetime | None, date_to: datetime | None) -> None:
    """ValidationError (rule ``date_range_order``) when both bounds of a search's date range are given and
    ``date_from`` comes after ``date_to``."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise guard_failed(
            "date_range_order",
            "date_from must not be after date_to",
            field="date_from",
            expected=f"<= date_to ({iso_utc(date_to)})",
            actual=iso_utc(date_from),
        )


def cursor_field(continues: str) -> Any:
    """The ``cursor`` input of a find action: the previous page's ``next_cursor``."""
    return Field(
        default=None,
        min_length=1,
        max_length=1024,
        description=f"next_cursor of the previous page, to continue with the same {continues}.",
    )


def include_total_field(items: str) -> Any:
    """The ``include_total`` input of a find action."""
    return Field(default=False, description=f"Also count every matching {items} (one more query).")


def on_empty_field() -> Any:
    """The ``on_empty`` input of a find action."""
    return Field(default="return_empty", description="What an empty result is: an empty list, or a NOT_FOUND error.")
