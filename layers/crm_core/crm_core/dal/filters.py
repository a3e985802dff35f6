"""The conditions both find queries build alike: the tenant, equality on each filter given and an inclusive
date range, every value a bind parameter named as its filter (so one statement serves every call that names the
same filters)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam


def bound_conditions(
    given: Iterable[str], equal: Mapping[str, Any], dated: Any, *always: ColumnElement[bool]
) -> list[ColumnElement[bool]]:
    """``always``, then for each filter name in ``given``: ``dated >= :date_from``, ``dated <= :date_to``, or
    ``equal[name] == :name`` (``equal`` maps a filter name to its column)."""
    conditions = list(always)
    for name in given:
        if name == "date_from":
            conditions.append(dated >= bindparam(name, type_=dated.type))
        elif name == "date_to":
            conditions.append(dated <= bindparam(name, type_=dated.type))
        else:
            column = equal[name]
            conditions.append(column == bindparam(name, type_=column.type))
    return conditions
