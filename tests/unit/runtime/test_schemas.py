"""The JSON Schemas of the designer catalog: self-contained (no ``$ref``, no ``$defs``), input and output views."""

from __future__ import annotations

import json
import uuid
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from crm_core.actions.fields import UtcDateTime
from crm_core.runtime.schemas import input_json_schema, output_json_schema


class Target(BaseModel):
    """The record."""

    type: Literal["client", "contact"]
    id: uuid.UUID


class Outer(BaseModel):
    target: Target = Field(description="What it is about.")
    others: list[Target] = []
    maybe: Target | None = None


class Stamped(BaseModel):
    at: UtcDateTime
    count: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def doubled(self) -> int:
        return self.count * 2


def test_nested_models_are_inlined_with_their_own_keys_and_the_fields_description() -> None:
    schema = input_json_schema(Outer)

    assert "$ref" not in json.dumps(schema)
    assert "$defs" not in schema
    target = schema["properties"]["target"]
    assert target["description"] == "What it is about."
    assert target["properties"]["type"]["enum"] == ["client", "contact"]
    assert target["properties"]["id"]["format"] == "uuid"
    assert schema["properties"]["others"]["items"]["required"] == ["type", "id"]
    assert {"type": "null"} in schema["properties"]["maybe"]["anyOf"]


def test_the_output_view_describes_what_is_returned() -> None:
    output, given = output_json_schema(Stamped), input_json_schema(Stamped)

    for schema in (output, given):
        assert (schema["properties"]["at"]["type"], schema["properties"]["at"]["format"]) == ("string", "date-time")
    assert "doubled" in output["properties"]
    assert "doubled" not in given["properties"]
