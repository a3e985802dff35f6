"""Fuzzing every action the registry lists with inputs drawn from its own JSON Schema (hypothesis-jsonschema),
half of them poisoned with hostile strings: SQL fragments, 1 MiB of text, NUL bytes, right-to-left marks,
emoji, lone surrogates.

Ids are drawn from the tenant's real records (and random uuids), so calls get past the lookups and reach the
rules and the SQL. Every outcome must be an output or one of the contract's error classes, never
InternalError; a refused call must leave no row in any table. 25 examples per action in CI, 200 with
``HARDENING_PROFILE=hardening`` (``make hardening``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sqlalchemy import Engine

from crm_core.errors import ActionFailure, InternalError, ValidationError
from crm_core.runtime import all_specs, get_spec
from crm_dev.aws_resources import LocalResources
from tests.support.handlers import invoke_action
from tests.support.hardening import Records, changed_tables, counts_of, input_schema, seed_records, string_paths
from tests.support.tenants import make_tenant

ONE_MIB = "x" * (1024 * 1024)
HOSTILE = [
    "'; drop table interactions; --",
    "' or '1'='1",
    "\\'; select pg_sleep(10); --",
    "%_\\%",
    "a\x00b",
    "\x00",
    ONE_MIB,
    "\u202eevil\u202c",
    "\u200f\u200e",
    "👩‍💻🎉🏳️‍🌈",
    "0\ud800",  # a lone surrogate: valid JSON, not UTF-8
    "\udfff\ud83d",
    "   ",
    "",
    "{{ x }} ${x} $(x)",
    "<script>alert(1)</script>",
]


def _with_record_ids(schema: Any, ids: list[str]) -> Any:
    """``schema`` with every uuid field drawn from ``ids`` or at random."""
    if isinstance(schema, dict):
        if schema.get("format") == "uuid":
            return {"anyOf": [{"enum": ids}, dict(schema)]}
        return {k: _with_record_ids(v, ids) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_with_record_ids(v, ids) for v in schema]
    return schema


@st.composite
def poisoned(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A schema-valid input with some of its strings replaced by, or suffixed with, hostile strings."""
    value = draw(base)
    paths = list(string_paths(value))
    if not paths:
        return value
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True)):
        hostile = draw(st.sampled_from(HOSTILE))
        node: Any = value
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = hostile if draw(st.booleans()) else node[path[-1]] + hostile
    return value


def _strategy(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Objects are built here, every other value by hypothesis-jsonschema: its object strategy uses a Hypothesis
    internal (``many.more``) that Hypothesis 6.170 no longer has."""
    variants = node.get("anyOf", [node])
    if any(v.get("type") == "object" for v in variants):
        return st.one_of(
            *(_object(v) if v.get("type") == "object" else from_schema(v) for v in variants),
        )
    return from_schema(node)


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    required = set(schema.get("required", []))
    properties: dict[str, Any] = schema.get("properties", {})
    return st.fixed_dictionaries(
        {name: _strategy(node) for name, node in properties.items() if name in required},
        optional={name: _strategy(node) for name, node in properties.items() if name not in required},
    )


def inputs_for(action_id: str, records: Records) -> st.SearchStrategy[dict[str, Any]]:
    schema = _with_record_ids(input_schema(get_spec(action_id)), records.all_ids())
    base = _object(schema)
    return st.one_of(base, poisoned(base))


@pytest.fixture(scope="module")
def records(engine: Engine) -> Records:
    return seed_records(make_tenant(engine))


@pytest.mark.parametrize("action_id", [s.id for s in all_specs()])
def test_any_input_is_an_output_or_a_contract_error(
    action_id: str, records: Records, owner_engine: Engine, shared_aws: LocalResources
) -> None:
    tenant = records.tenant

    @given(payload=inputs_for(action_id, records), dry_run=st.booleans())
    def check(payload: dict[str, Any], dry_run: bool) -> None:
        envelope = {"dry_run": True} if dry_run and get_spec(action_id).side_effectful else {}
        before = counts_of(owner_engine, tenant)
        try:
            invoke_action(action_id, tenant.id, tenant.actor, payload, **envelope)
        except InternalError as exc:
            raise AssertionError(f"InternalError for {_short(payload)}: {exc}") from exc
        except ActionFailure:
            assert changed_tables(before, counts_of(owner_engine, tenant)) == {}, (
                f"a refused call left rows: {_short(payload)}"
            )
        else:
            if envelope:
                assert changed_tables(before, counts_of(owner_engine, tenant)) == {}, "a dry run left rows"

    check()


def _short(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, default=str)
    return text if len(text) < 600 else text[:600] + f"... ({len(text)} characters)"


# ---------------------------------------------------------------------------------------------------------------
# What the fuzzing found, pinned down
# ---------------------------------------------------------------------------------------------------------------


def test_a_lone_surrogate_in_free_text_is_a_validation_error(records: Records, shared_aws: LocalResources) -> None:
    tenant = records.tenant
    payload = {"activity_id": str(records.ids["activity"]), "patch": {"title": "0\ud800"}}
    with pytest.raises(ValidationError):
        invoke_action("crm.update_activity", tenant.id, tenant.actor, payload)
