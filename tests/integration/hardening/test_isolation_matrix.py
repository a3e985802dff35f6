"""Tenant isolation, as a matrix built from the registry: every action x every id field of its input (and the
envelope's actor), given the record of another tenant.

Each case first calls the action with the caller's own records (a dry run for side-effectful actions; a search
must match at least one row), which proves the input is valid and the field really reaches a record; then the
same input with only that field pointing at the other tenant's record. The answer must be NOT_FOUND (a
ValidationError for an activity type, an interaction status or a quote item, per issue 10, conformance 1), or,
for a search, a match of nothing; and no table of either tenant (nor any global table) may gain or lose a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, text

from crm_core.errors import ActionFailure, NotFoundError, PermissionDeniedError, ValidationError
from crm_core.runtime import all_specs, get_spec
from crm_dev.aws_resources import LocalResources
from tests.support.handlers import invoke_action
from tests.support.hardening import (
    IdField,
    Records,
    build_input,
    changed_tables,
    counts_of,
    id_fields,
    input_schema,
    is_search,
    replace_at,
    schema_tables,
    seed_records,
)
from tests.support.tenants import make_tenant

# Kinds whose foreign id is refused as invalid input rather than as missing (issue 10, conformance 1; a quote
# item must be an item of the same quote).
VALIDATION_KINDS = {"interaction_type": ValidationError, "status": ValidationError, "quote_item": ValidationError}


@dataclass(frozen=True)
class Case:
    action_id: str
    field: IdField | None  # None: the envelope's actor_user_id
    target_type: str | None = None

    @property
    def label(self) -> str:
        where = "actor_user_id" if self.field is None else self.field.dotted
        return f"{self.action_id.removeprefix('crm.')}:{where}" + (f"={self.target_type}" if self.target_type else "")


def _cases() -> list[Case]:
    cases: list[Case] = []
    for spec in all_specs():
        cases.append(Case(spec.id, None))
        for field in id_fields(input_schema(spec)):
            if field.target_types:
                cases.extend(Case(spec.id, field, t) for t in field.target_types)
                continue
            try:
                kind = field.kind()
            except KeyError:
                kind = "?"  # fails in the test, naming the field
            if kind is not None:
                cases.append(Case(spec.id, field))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def world(engine: Engine) -> tuple[Records, Records]:
    """Two tenants, each with a record of every kind; cases only read them (dry runs and refused calls)."""
    return seed_records(make_tenant(engine)), seed_records(make_tenant(engine))


def _call(action_id: str, records: Records, payload: dict[str, Any], *, actor: Any = None, dry: bool = False) -> Any:
    envelope = {"dry_run": True} if dry else {}
    tenant = records.tenant
    return invoke_action(action_id, tenant.id, actor or tenant.actor, payload, **envelope)


def _matched_nothing(output: dict[str, Any]) -> bool:
    lists = [v for v in output.values() if isinstance(v, list)]
    return output.get("count") == 0 and all(not v for v in lists)


def test_the_matrix_covers_every_registered_action() -> None:
    assert {c.action_id for c in CASES} == {s.id for s in all_specs()}
    # Every action that names a record is tried with a foreign one, not only with a foreign actor.
    named = {c.action_id for c in CASES if c.field is not None}
    assert named == {s.id for s in all_specs() if any(f.target_types or f.kind() for f in id_fields(input_schema(s)))}


def test_every_tenant_table_is_under_forced_row_level_security(owner_engine: Engine) -> None:
    tables = schema_tables(owner_engine)
    with owner_engine.connect() as connection:
        flags = dict(
            connection.execute(
                text(
                    "select c.relname, c.relrowsecurity and c.relforcerowsecurity from pg_class c"
                    " join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema()"
                )
            ).all()
        )
    unprotected = [name for name, scoped in tables if scoped and not flags[name]]
    assert unprotected == []
    assert sum(1 for _, scoped in tables if scoped) >= 20


# Known deviations, each described in HARDENING.md; strict, so a fix makes the case fail until removed here.
KNOWN_BUGS: dict[str, str] = {}


def _param(case: Case) -> Any:
    reason = KNOWN_BUGS.get(case.label)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.label, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_another_tenants_record_is_not_found_and_changes_nothing(
    case: Case, world: tuple[Records, Records], owner_engine: Engine, shared_aws: LocalResources
) -> None:
    own, foreign = world
    spec = get_spec(case.action_id)
    if case.field is not None and case.target_type is None and case.field.kind() == "?":
        pytest.fail(f"{spec.id}: id field {case.field.dotted} names no known record kind (tests/support/hardening.py)")
    payload = build_input(spec, own, only=case.field, target_type=case.target_type)

    control = _call(spec.id, own, payload, dry=spec.side_effectful)
    if is_search(spec) and case.field is not None:
        assert control["count"] >= 1, f"the own {case.field.dotted} should match the seeded record"

    if case.field is None:
        foreign_payload, actor, expected = payload, foreign.tenant.actor, PermissionDeniedError
    else:
        kind = case.field.kind(case.target_type)
        assert kind is not None
        foreign_id = str(foreign.id_of(kind, spec.id))
        foreign_payload, actor = replace_at(payload, case.field.path, foreign_id), None
        expected = VALIDATION_KINDS.get(kind, NotFoundError)

    before = counts_of(owner_engine, own.tenant, foreign.tenant)
    outcome: dict[str, Any] | ActionFailure
    try:
        outcome = _call(spec.id, own, foreign_payload, actor=actor)
    except ActionFailure as exc:
        outcome = exc
    after = counts_of(owner_engine, own.tenant, foreign.tenant)

    if is_search(spec) and case.field is not None:
        assert isinstance(outcome, dict) and _matched_nothing(outcome), outcome
    else:
        assert isinstance(outcome, expected), f"expected {expected.__name__}, got {outcome!r}"
    assert changed_tables(before, after) == {}
