"""crm_core.db.shapes: the statement shapes each action's calls use are recorded in statement_shapes.json, and
the init phase builds and compiles them, so a first call compiles nothing its scenario uses."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from bench.shapes import MANIFEST_PATH, differences, record_shapes
from crm_core.db import prepared, shapes
from crm_core.db.models import Quote
from crm_core.runtime import all_specs


def test_the_manifest_is_current(aws, engine: Engine) -> None:
    """Fails after a change to what an action writes or reads: run `.venv/bin/python -m bench.shapes --write`."""
    recorded = json.loads(MANIFEST_PATH.read_text())
    found = differences(record_shapes(engine), recorded)
    assert found == [], "statement_shapes.json is not current (python -m bench.shapes --write):\n" + "\n".join(found)
    assert set(recorded) == {spec.id for spec in all_specs()}


@pytest.mark.parametrize("spec", all_specs(), ids=lambda spec: spec.id)
def test_every_recorded_shape_builds(spec) -> None:
    entries = shapes.manifest()[spec.id]
    assert entries, f"{spec.id} uses no shape of its own?"
    assert shapes.build_shapes(entries) == len(entries)


def test_the_init_phase_compiles_the_recorded_shapes_so_a_first_call_compiles_none(aws, engine: Engine) -> None:
    from crm_core.actions.quotes.convert_quote import SPEC
    from crm_core.runtime import build_handler
    from crm_core.runtime.warmup import warm_up

    for builder in shapes._builders.values():  # as in a new container: no shape built yet
        builder.cache_clear()  # type: ignore[attr-defined]
    warm_up(build_handler(SPEC))

    recorded = shapes.manifest()[SPEC.id]
    with shapes.recording_shapes() as used:
        shapes.build_shapes(recorded)
    built = [statement for statement in list(prepared._made) if engine.dialect.name in statement._plans]
    assert len(used) == len(recorded)
    for name, args, kwargs in used:  # each recorded shape's statement is made and compiled already
        statement = shapes._builders[name](*args, **dict(kwargs))
        assert statement in built, name


def test_an_entry_the_layer_cannot_build_is_skipped() -> None:
    stale = [
        ["crm_core.dal.gone.builder", [], {}],  # a builder that was renamed
        ["crm_core.db.prepared.insert_of", [{"table": "no_such_table"}, {"tuple": ["a"]}], {}],
        ["crm_core.db.prepared.insert_of", [{"table": Quote.name}, {"tuple": ["tenant", "quote_id"]}], {}],
    ]
    assert shapes.build_shapes(stale) == 1


def test_arguments_round_trip_through_the_manifest_encoding() -> None:
    from crm_core.dal.calls import _CloseShape
    from crm_core.dal.quote_search import QuoteSort

    for value in (
        ("a", "b"),
        Quote,
        _CloseShape((("insert", Quote, (), ("tenant", "quote_id")),), ("tenant",), (2, ("kind",)), True),
        QuoteSort("total_amount", False),
        None,
        7,
    ):
        assert shapes.decode(json.loads(json.dumps(shapes.encode(value)))) == value
    with pytest.raises(TypeError, match="cannot be written"):
        shapes.encode(object())
