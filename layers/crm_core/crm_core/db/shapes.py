"""Prepared statements built per shape of call, and the manifest that lets the init phase build them first.

Some statements depend on the call: which columns an insert gives, which writes, audit row, events and ledger
completion a call closes with, which filters a find names. Their builders are cached per shape
(:func:`shape_cache`, an ``lru_cache``), so a container compiles each shape once, on its first call of that
shape: 5-25 ms of SQLAlchemy compilation that a first call would pay and a warm call does not.

The shapes an action's calls use are predictable (the code picks the columns, rarely the input), so they are
recorded from the benchmark scenarios (``python -m bench.shapes --write``, a test checks the file is current)
into ``statement_shapes.json``, action by action, and the init phase builds and compiles the action's shapes
(:func:`build_recorded_shapes`) before its first call. A shape missing from the manifest is only compiled
later, by the first call that uses it; an entry that no longer names a builder is skipped.

Arguments are written as JSON: strings, numbers, booleans and null as they are, a ``Table`` as
``{"table": name}``, a tuple as ``{"tuple": [...]}``, a registered dataclass (:func:`shape_type`) as
``{"shape": name, "fields": {...}}``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Table

from crm_core.db.base import metadata

Builder = TypeVar("Builder", bound=Callable[..., Any])
ShapeType = TypeVar("ShapeType", bound=type)
# One use of a builder: its name, its positional arguments, its keyword arguments (sorted).
Use = tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]

MANIFEST = "statement_shapes.json"

_builders: dict[str, Callable[..., Any]] = {}
_shape_types: dict[str, type] = {}
_recording: set[Use] | None = None


def shape_cache(maxsize: int) -> Callable[[Builder], Builder]:
    """``lru_cache(maxsize)`` for a builder of a prepared statement per shape of call, whose uses can be recorded
    (:func:`recording_shapes`) and built again from the record (:func:`build_shapes`). Its arguments must be
    hashable and encodable (see the module docstring)."""

    def decorate(builder: Builder) -> Builder:
        cached = functools.lru_cache(maxsize=maxsize)(builder)
        name = f"{builder.__module__}.{builder.__qualname__}"

        @functools.wraps(builder)
        def build(*args: Any, **kwargs: Any) -> Any:
            if _recording is not None:
                _recording.add((name, args, tuple(sorted(kwargs.items()))))
            return cached(*args, **kwargs)

        build.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        build.cache_info = cached.cache_info  # type: ignore[attr-defined]
        _builders[name] = build
        return build  # type: ignore[return-value]

    return decorate


def shape_type(cls: ShapeType) -> ShapeType:
    """Register a frozen dataclass that shape builders take as an argument, so the manifest can name it."""
    _shape_types[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


@contextmanager
def recording_shapes() -> Iterator[set[Use]]:
    """Record every use of a shape builder inside the block (this process, every thread)."""
    global _recording
    outer, _recording = _recording, set()
    try:
        yield _recording
    finally:
        recorded, _recording = _recording, outer
        if outer is not None:
            outer |= recorded


def encode(value: Any) -> Any:
    """``value`` (a builder's argument) as JSON-ready data."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Table):
        return {"table": value.name}
    if isinstance(value, tuple):
        return {"tuple": [encode(item) for item in value]}
    name = f"{type(value).__module__}.{type(value).__qualname__}"
    if name in _shape_types and dataclasses.is_dataclass(value):
        fields = {field.name: encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return {"shape": name, "fields": fields}
    raise TypeError(f"a shape builder's argument cannot be written to the manifest: {value!r}")


def decode(data: Any) -> Any:
    """The argument :func:`encode` wrote; KeyError for a table or shape type this layer does not have."""
    if not isinstance(data, dict):
        return data
    if "table" in data:
        if data["table"] not in metadata.tables:  # defined in a table module this function has not loaded yet
            from crm_core.db.models import load_all

            load_all()
        return metadata.tables[data["table"]]
    if "tuple" in data:
        return tuple(decode(item) for item in data["tuple"])
    return _shape_types[data["shape"]](**{name: decode(value) for name, value in data["fields"].items()})


def encode_uses(uses: set[Use]) -> list[list[Any]]:
    """Recorded uses as manifest entries (``[builder, [args...], {kwargs}]``), in a stable order."""
    entries = [
        [name, [encode(arg) for arg in args], {key: encode(value) for key, value in kwargs}]
        for name, args, kwargs in uses
    ]
    return sorted(entries, key=lambda entry: json.dumps(entry, sort_keys=True))


def build_shapes(entries: list[list[Any]]) -> int:
    """Call the builder of each manifest entry (its statement is then made and cached, ready to compile);
    entries naming a builder, table or shape type this layer does not have are skipped. Returns how many were
    built."""
    built = 0
    for name, args, kwargs in entries:
        builder = _builders.get(name)
        if builder is None:
            continue
        try:
            builder(*(decode(arg) for arg in args), **{key: decode(value) for key, value in kwargs.items()})
        except (KeyError, TypeError):  # a manifest older than the code: that shape waits for its first call
            continue
        built += 1
    return built


@functools.cache
def manifest() -> dict[str, list[list[Any]]]:
    """The recorded shapes of every action (``statement_shapes.json`` beside this package), or none."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), MANIFEST)
    try:
        with open(path, encoding="utf-8") as file:
            data: dict[str, list[list[Any]]] = json.load(file)
    except FileNotFoundError:
        return {}
    return data


def build_recorded_shapes(action_id: str) -> int:
    """Build the statements of the shapes recorded for ``action_id`` (the init phase; compiling them follows)."""
    return build_shapes(manifest().get(action_id, []))
