"""What a refused call's error carries, written once: the details of a broken rule and of a record not found."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from crm_core.errors import NotFoundError


def broken_rule(rule: str, field: str, expected: Any, actual: Any, **more: Any) -> dict[str, Any]:
    """The details of a ValidationError for ``rule``: the input ``field``, what it expected, what it got, and any
    ``more`` the rule adds (the other field it compared with, the source of a value)."""
    return {"rule": rule, "field": field, "expected": expected, "actual": actual, **more}


def not_found(resource: str, record_id: uuid.UUID | str, field: str) -> dict[str, Any]:
    """The details of a NotFoundError: which ``resource``, the id asked for, and the input ``field`` that named it."""
    return {"resource": resource, "id": str(record_id), "field": field}


def assert_each_not_found(
    call: Callable[[uuid.UUID], object], record_ids: Iterable[uuid.UUID], resource: str, field: str
) -> None:
    """``call`` with each of ``record_ids`` (one that does not exist, one of another tenant) raises a NotFoundError
    naming ``resource``, that id and the input ``field``."""
    for record_id in record_ids:
        with pytest.raises(NotFoundError) as caught:
            call(record_id)
        assert caught.value.details == not_found(resource, record_id, field)
