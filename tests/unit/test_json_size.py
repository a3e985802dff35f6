"""crm_core.jsonable.json_size: the bytes a model takes as the Lambda runtime's JSON (json.dumps, ASCII only),
computed from pydantic's own JSON: exact for ASCII and for two- and four-byte characters, never below."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from crm_core.jsonable import json_size


class Sample(BaseModel):
    id: uuid.UUID
    at: datetime
    text: str
    count: int | None
    tags: list[str]


def runtime_bytes(model: BaseModel) -> int:
    return len(json.dumps(model.model_dump(mode="json"), separators=(",", ":")).encode())


def sample(text: str) -> Sample:
    return Sample(id=uuid.uuid4(), at=datetime(2026, 11, 26, 20, 5, tzinfo=UTC), text=text, count=None, tags=[text])


@pytest.mark.parametrize(
    "text",
    ["plain", 'quotes " and \\ back', "line\nbreak\ttab\x01control", "café über", "emoji 😀 and 𝄞", ""],
)
def test_exact_for_ascii_and_for_two_and_four_byte_characters(text: str) -> None:
    model = sample(text)
    assert json_size(model) == runtime_bytes(model)


def test_never_below_for_three_byte_characters() -> None:
    model = sample("€ ✓ 中文")  # four characters of three UTF-8 bytes, twice (text and tag)
    assert json_size(model) == runtime_bytes(model) + 3 * 8
