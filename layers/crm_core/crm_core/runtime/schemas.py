"""JSON Schemas of action inputs and outputs for the designer catalog: self-contained, no ``$ref``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return _inline_refs({**target, **siblings}, definitions)
        return {k: _inline_refs(v, definitions) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    return node


def _schema(model: type[BaseModel], mode: str) -> dict[str, Any]:
    raw = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
    inlined: dict[str, Any] = _inline_refs(raw, raw.get("$defs", {}))
    return inlined


def input_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The schema a caller's input is validated against."""
    return _schema(model, "validation")


def output_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The schema of what the action returns."""
    return _schema(model, "serialization")
