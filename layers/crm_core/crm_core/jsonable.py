"""Conversion of values (uuids, datetimes, decimals, models) into plain JSON types."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_jsonable_python


def jsonable(value: Any) -> Any:
    """``value`` as JSON-compatible Python (uuid and datetime become ISO strings, models become dicts)."""
    return to_jsonable_python(value)


def canonical_json(value: Any) -> str:
    """A stable JSON text of ``value``: sorted keys, no spaces (the basis of input hashes)."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
