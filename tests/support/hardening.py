"""What the hardening suites (tests/integration/hardening/) share: every table's rows counted per tenant, the id
fields of an action's input found in its JSON Schema, the records those ids name, and a valid input built from
the schema alone.

Nothing here lists the actions: the suites read the registry, so a new action is covered as soon as it registers.
A new *kind* of id field (a name ``record_kind`` does not know) fails the suites loudly instead of being skipped.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text

from crm_core.db.engine import tenant_transaction
from crm_core.runtime.schemas import input_json_schema
from crm_core.runtime.spec import ActionSpec
from tests.support.activities import add_activity
from tests.support.quotes import NOW, add_quote
from tests.support.tenants import Tenant

# ---------------------------------------------------------------------------------------------------------------
# Counting every table
# ---------------------------------------------------------------------------------------------------------------

_TABLES_SQL = """
select c.relname as name,
       exists (select 1 from pg_attribute a
               where a.attrelid = c.oid and a.attname = 'tenant' and not a.attisdropped) as has_tenant
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
order by c.relname
"""


def schema_tables(engine: Engine) -> list[tuple[str, bool]]:
    """Every table of the schema, read from the catalog (not from the models, so a table a migration adds
    without a model is counted too), with whether it has a ``tenant`` column."""
    with engine.connect() as connection:
        return [(row.name, bool(row.has_tenant)) for row in connection.execute(text(_TABLES_SQL))]


def row_counts(engine: Engine, tenant_id: uuid.UUID) -> dict[str, int]:
    """Rows per table as ``tenant_id`` sees them, in one statement: tenant tables are counted by their ``tenant``
    column (and row-level security), global tables (no ``tenant`` column) in full. Pass the schema owner's
    engine: the actions' role may not read every table (alembic_version, for one)."""
    with tenant_transaction(tenant_id, engine=engine) as session:
        tables = [(r.name, bool(r.has_tenant)) for r in session.execute(text(_TABLES_SQL))]
        parts = [
            f"select '{name}' as name, count(*) as n from \"{name}\"" + (" where tenant = :tenant" if scoped else "")
            for name, scoped in tables
        ]
        rows = session.execute(text(" union all ".join(parts)), {"tenant": tenant_id}).all()
    return {row.name: int(row.n) for row in rows}


def counts_of(engine: Engine, *tenants: Tenant) -> dict[str, dict[str, int]]:
    """Row counts of every table for each tenant, keyed by tenant id."""
    return {str(t.id): row_counts(engine, t.id) for t in tenants}


def changed_tables(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The (tenant, table) counts that differ, as ``{tenant: {table: (before, after)}}``; empty when none."""
    diff: dict[str, Any] = {}
    for tenant_id, tables in after.items():
        changed = {t: (before[tenant_id].get(t), n) for t, n in tables.items() if before[tenant_id].get(t) != n}
        if changed:
            diff[tenant_id] = changed
    return diff


# ---------------------------------------------------------------------------------------------------------------
# Id fields of an input schema
# ---------------------------------------------------------------------------------------------------------------

# Ids of things this schema holds no table for (catalog services, client locations): nothing to look up, so
# nothing another tenant could reach through them. Listed, so that any other uuid field must have a kind.
FREE_REFERENCES = frozenset({"service_id", "applies_to_service_id", "location_id"})

_KIND_BY_FIELD = {
    "client_id": "client",
    "contact_id": "contact",
    "ticket_id": "ticket",
    "project_id": "project",
    "user_id": "user",
    "activity_id": "activity",
    "quote_id": "quote",
    "template_id": "template",
    "type_id": "interaction_type",
    "status_id": "status",
    "applies_to_item_id": "quote_item",
}
# ``target: {type, id}`` objects: the type names the record kind of ``id``.
_KIND_BY_TARGET_TYPE = {"interaction": "activity"}


@dataclass(frozen=True)
class IdField:
    """One uuid field of an input: its path, and the record kind it names (per target type for ``target.id``)."""

    path: tuple[str, ...]
    required: bool
    target_types: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    def kind(self, target_type: str | None = None) -> str | None:
        """The record kind the field names, None for a free reference; KeyError for an unknown field."""
        if target_type is not None:
            return _KIND_BY_TARGET_TYPE.get(target_type, target_type)
        if self.name in FREE_REFERENCES:
            return None
        if self.name.endswith("_user_id"):  # assigned_user_id, owner_user_id, ...
            return "user"
        return _KIND_BY_FIELD[self.name]


def _variants(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in node.get("anyOf", [node]) if isinstance(v, dict)]


def _is_uuid(node: dict[str, Any]) -> bool:
    return any(v.get("format") == "uuid" for v in _variants(node))


def _object_of(node: dict[str, Any]) -> dict[str, Any] | None:
    for v in _variants(node):
        if v.get("type") == "object" and "properties" in v:
            return v
    return None


def id_fields(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[IdField]:
    """Every uuid field of ``schema``, nested objects included (``target.id``, ``patch.status_id``)."""
    found: list[IdField] = []
    required = set(schema.get("required", []))
    properties: dict[str, Any] = schema.get("properties", {})
    for name, node in properties.items():
        if _is_uuid(node):
            types: tuple[str, ...] = ()
            if name == "id" and "type" in properties:
                types = tuple(properties["type"].get("enum", ()))
            found.append(IdField((*prefix, name), name in required, types))
            continue
        nested = _object_of(node)
        if nested is not None:
            found.extend(id_fields(nested, (*prefix, name)))
    return found


def input_schema(spec: ActionSpec[Any, Any]) -> dict[str, Any]:
    return input_json_schema(spec.input_model)


def is_search(spec: ActionSpec[Any, Any]) -> bool:
    """A read-only action: its ids are filters, and a foreign id matches nothing."""
    return not spec.side_effectful


# ---------------------------------------------------------------------------------------------------------------
# Records of every kind in a tenant
# ---------------------------------------------------------------------------------------------------------------

# The quote status an action needs to get past its guards (default: draft).
QUOTE_STATUS_FOR = {"crm.approve_quote": "pending_approval", "crm.convert_quote": "accepted"}


@dataclass
class Records:
    """A tenant with one record of every kind an input can name, all tied together (the activity has the
    tenant's client, contact, ticket, actor, own type and status), so each id alone finds something."""

    tenant: Tenant
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    quotes: dict[str, uuid.UUID] = field(default_factory=dict)

    def id_of(self, kind: str, action_id: str) -> uuid.UUID:
        if kind == "quote":
            return self.quotes[QUOTE_STATUS_FOR.get(action_id, "draft")]
        return self.ids[kind]

    def all_ids(self) -> list[str]:
        return [str(v) for v in (*self.ids.values(), *self.quotes.values())]


def seed_records(tenant: Tenant) -> Records:
    """Records of every kind in ``tenant``."""
    seed = tenant.seed
    own_type = seed.interaction_type(f"Site visit {uuid.uuid4().hex[:6]}")
    status = seed.status_ids["Planned"]
    activity = add_activity(
        tenant, contact_name_id=tenant.contact, ticket_id=tenant.ticket, type_id=own_type, status_id=status
    )
    quotes = {state: add_quote(tenant, status=state) for state in ("draft", "pending_approval")}
    recurring = {"is_recurring": True, "billing_frequency": "monthly", "billing_method": "per_unit"}
    quotes["accepted"] = add_quote(
        tenant,
        status="accepted",
        items=[{"description": "Managed endpoints", "quantity": 4, "unit_price": 1200, **recurring}],
    )
    template = seed.quote(
        client_id=None,
        title="Template",
        is_template=True,
        quote_date=NOW,
        valid_until=NOW + timedelta(days=30),
        items=[{"description": "Managed endpoint", "quantity": 1, "unit_price": 1000}],
    )
    with tenant_transaction(tenant.id, engine=seed.engine) as session:
        item = session.execute(
            text("select quote_item_id from quote_items where quote_id = :q limit 1"), {"q": quotes["draft"]}
        ).scalar_one()
    ids = {
        "client": tenant.client,
        "contact": tenant.contact,
        "ticket": tenant.ticket,
        "project": tenant.project,
        "user": tenant.actor,
        "activity": activity,
        "interaction_type": own_type,
        "status": status,
        "template": template,
        "quote_item": item,
    }
    return Records(tenant, ids, quotes)


# ---------------------------------------------------------------------------------------------------------------
# A valid input from the schema
# ---------------------------------------------------------------------------------------------------------------

SAMPLE_INSTANT = "2027-03-02T15:00:00Z"


def _sample(node: dict[str, Any], name: str) -> Any:
    """A plain valid value for a non-id field of the schema (the first enum value, the minimum, ...)."""
    variant = next((v for v in _variants(node) if v.get("type") != "null"), node)
    if "enum" in variant:
        return variant["enum"][0]
    kind = variant.get("type")
    if kind is None and "anyOf" in variant:  # nested anyOf (date-time or date)
        return _sample(variant["anyOf"][0], name)
    if kind == "string":
        if variant.get("format") in ("date-time", "date"):
            return SAMPLE_INSTANT if variant.get("format") == "date-time" else SAMPLE_INSTANT[:10]
        pattern = variant.get("pattern")
        for candidate in ("hardening", SAMPLE_INSTANT, SAMPLE_INSTANT[:10], "USD"):
            if pattern is None or re.search(pattern, candidate):
                return candidate
        raise AssertionError(f"no sample for field {name!r} matches {pattern!r}")
    if kind == "integer":
        return max(int(variant.get("minimum", 1)), int(variant.get("exclusiveMinimum", 0)) + 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return ["hardening"]
    raise AssertionError(f"no sample for field {name!r}: {variant}")


def build_input(
    spec: ActionSpec[Any, Any],
    records: Records,
    *,
    only: IdField | None = None,
    target_type: str | None = None,
) -> dict[str, Any]:
    """A valid input naming ``records``: the required fields, and every id field (a search takes only ``only``)."""

    if only is None and is_search(spec):  # a search needs a filter: the first id field
        only = id_fields(input_schema(spec))[0]

    def fill(schema: dict[str, Any], prefix: tuple[str, ...]) -> dict[str, Any]:
        value: dict[str, Any] = {}
        required = set(schema.get("required", []))
        properties: dict[str, Any] = schema.get("properties", {})
        for name, node in properties.items():
            path = (*prefix, name)
            if _is_uuid(node):
                # Every id (so that each field is checked beside the others), except the optional ones of the
                # tested field's kind: aliases (owner_user_id beside assigned_user_id) would hide it.
                wanted = name in required or (
                    not is_search(spec) and name not in FREE_REFERENCES and not _same_kind(only, path, name)
                )
                if only is not None and path == only.path:
                    wanted = True
                if not wanted:
                    continue
                if name == "id" and "type" in properties:
                    chosen = target_type or properties["type"]["enum"][0]
                    value["type"] = chosen
                    value["id"] = str(records.id_of(_KIND_BY_TARGET_TYPE.get(chosen, chosen), spec.id))
                else:
                    value[name] = str(records.id_of(IdField(path, name in required).kind() or "", spec.id))
                continue
            nested = _object_of(node)
            if nested is not None and (name in required or (not is_search(spec) and id_fields(nested, path))):
                value[name] = fill(nested, path)
                continue
            if name in required and name not in value:
                value[name] = _sample(node, name)
        return value

    return fill(input_schema(spec), ())


def _same_kind(only: IdField | None, path: tuple[str, ...], name: str) -> bool:
    if only is None or only.target_types or name == "id" or path == only.path:
        return False
    return only.kind() == IdField(path, False).kind()


def replace_at(payload: dict[str, Any], path: tuple[str, ...], new: Any) -> dict[str, Any]:
    """A copy of ``payload`` with the value at ``path`` replaced."""
    changed = copy.deepcopy(payload)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return changed


def string_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths (keys and list indexes) of every string leaf of a JSON value."""
    if isinstance(value, str):
        yield prefix
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_paths(item, (*prefix, index))
