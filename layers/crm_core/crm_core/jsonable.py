"""Conversion of values (uuids, datetimes, decimals, models) into plain JSON types."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

_HIGH_BYTES = bytes(range(128, 256))


def jsonable(value: Any) -> Any:
    """``value`` as JSON-compatible Python (uuid and datetime become ISO strings, models become dicts)."""
    return to_jsonable_python(value)


def canonical_json(value: Any) -> str:
    """A stable JSON text of ``value``: sorted keys, no spaces (the basis of input hashes)."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_size(model: BaseModel) -> int:
    """The bytes of ``model`` as compact JSON the way the Lambda runtime writes a result (``json.dumps``: every
    character beyond ASCII escaped), at most: pydantic's own JSON (written by pydantic-core, without a Python
    dict or ``json.dumps``) plus two bytes per byte beyond ASCII. That is exact for ASCII text and for characters
    of two and four UTF-8 bytes (``\\u00e9``: 6 for 2; a surrogate pair: 12 for 4), and three bytes over for each
    character of three."""
    encoded = model.__pydantic_serializer__.to_json(model)
    beyond_ascii = len(encoded) - len(encoded.translate(None, _HIGH_BYTES))
    return len(encoded) + 2 * beyond_ascii
