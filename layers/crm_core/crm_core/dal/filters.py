"""The conditions both find queries build alike: equality on each filter given and an inclusive date range."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement


def given_conditions(
    equal: Iterable[tuple[Any, Any]], dated: Any, date_from: datetime | None, date_to: datetime | None
) -> list[ColumnElement[bool]]:
    """``column == value`` for each ``(column, value)`` of ``equal`` whose value is given, then
    ``dated >= date_from`` and ``dated <= date_to`` for the bounds given: a ``None`` filter means "any"."""
    conditions: list[ColumnElement[bool]] = [column == value for column, value in equal if value is not None]
    if date_from is not None:
        conditions.append(dated >= date_from)
    if date_to is not None:
        conditions.append(dated <= date_to)
    return conditions
