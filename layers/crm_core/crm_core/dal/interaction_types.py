"""Interaction (activity) types: the global system types (Call, Email, Meeting, Note, ...) and each tenant's own.

An activity's ``type_id`` names either a tenant type or a system type; a tenant type may refine a system one
and is looked up first. Tenant types are created under a per-tenant advisory lock, so that two concurrent
creations cannot both pass the duplicate-name check or take the same display order.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, Text, bindparam, func, literal, select, union_all

from crm_core.dal.batch import IdValue
from crm_core.dal.records import get_record
from crm_core.db.models import InteractionType, SystemInteractionType
from crm_core.db.prepared import Prepared, bound_insert
from crm_core.db.shapes import shape_cache


class InteractionTypeRecord(NamedTuple):
    """A tenant or system type; ``source`` is ``"tenant"`` or ``"system"``."""

    type_id: uuid.UUID
    type_name: str
    source: str


class TenantInteractionType(NamedTuple):
    """A tenant's own interaction type, with the columns crm.create_interaction_type returns."""

    type_id: uuid.UUID
    type_name: str
    icon: str | None
    display_order: int | None
    created_by: uuid.UUID | None


def system_type_id(connection: Connection, type_name: str) -> uuid.UUID | None:
    """The id of the global interaction type named ``type_name`` (e.g. ``Note``), if seeded."""
    type_id: uuid.UUID | None = _SYSTEM_TYPE_ID.scalar(connection, type_name=type_name)
    return type_id


_SYSTEM_TYPE_ID = Prepared(
    select(SystemInteractionType.c.type_id).where(SystemInteractionType.c.type_name == bindparam("type_name"))
)


def interaction_type_query(tenant_id: IdValue, type_id: IdValue) -> Select[*tuple[Any, ...]]:
    """The tenant type or, failing that, the system type with ``type_id`` (``source`` says which): one query."""
    tenant_type = select(
        InteractionType.c.type_id, InteractionType.c.type_name, literal("tenant").label("source")
    ).where(InteractionType.c.tenant == tenant_id, InteractionType.c.type_id == type_id)
    system_type = select(
        SystemInteractionType.c.type_id, SystemInteractionType.c.type_name, literal("system").label("source")
    ).where(SystemInteractionType.c.type_id == type_id)
    both = union_all(tenant_type, system_type).subquery("interaction_type")
    return select(both.c.type_id, both.c.type_name, both.c.source).order_by(both.c.source.desc()).limit(1)


def get_interaction_type(
    connection: Connection, tenant_id: uuid.UUID, type_id: uuid.UUID
) -> InteractionTypeRecord | None:
    """The type of :func:`interaction_type_query`, or None."""
    return get_record(connection, interaction_type_query, InteractionTypeRecord, tenant_id, type_id)


def lock_interaction_types(connection: Connection, tenant_id: uuid.UUID) -> None:
    """Serialise the creation of the tenant's interaction types until the transaction ends.

    Two concurrent creations would otherwise both pass the duplicate-name check or pick the same display order.
    """
    _LOCK_TYPES.all(connection, lock_name=f"crm.interaction_types:{tenant_id}")


_LOCK_TYPES = Prepared("select pg_advisory_xact_lock(hashtextextended(:lock_name, 0))")


def _tenant_type_columns() -> Select[uuid.UUID, str, str | None, int | None, uuid.UUID | None]:
    return select(
        InteractionType.c.type_id,
        InteractionType.c.type_name,
        InteractionType.c.icon,
        InteractionType.c.display_order,
        InteractionType.c.created_by,
    )


def find_tenant_type_by_name(
    connection: Connection, tenant_id: uuid.UUID, normalized_name: str
) -> TenantInteractionType | None:
    """The tenant's type whose name, trimmed, with runs of space collapsed and lowercased, is ``normalized_name``."""
    row = _TYPE_BY_NAME.first(connection, tenant=tenant_id, name=normalized_name)
    return None if row is None else TenantInteractionType(*row)


def tenant_type_at_display_order(
    connection: Connection, tenant_id: uuid.UUID, display_order: int
) -> TenantInteractionType | None:
    """The tenant interaction type holding ``display_order``, if any."""
    row = _TYPE_AT_DISPLAY_ORDER.first(connection, tenant=tenant_id, display_order=display_order)
    return None if row is None else TenantInteractionType(*row)


def next_display_order(connection: Connection, tenant_id: uuid.UUID) -> int:
    """One more than the tenant's highest type display order; 0 for the first type."""
    highest = _HIGHEST_DISPLAY_ORDER.scalar(connection, tenant=tenant_id)
    return 0 if highest is None else int(highest) + 1


def insert_interaction_type(
    connection: Connection, tenant_id: uuid.UUID, values: dict[str, Any]
) -> TenantInteractionType:
    """Insert one tenant interaction type; returns the stored row."""
    type_id: uuid.UUID = values.get("type_id") or uuid.uuid4()
    row = {**values, "tenant": tenant_id, "type_id": type_id}
    stored = _insert_type(tuple(row)).one(connection, row)
    return TenantInteractionType(*stored)


@shape_cache(maxsize=8)
def _insert_type(columns: tuple[str, ...]) -> Prepared:
    """The insert of a tenant type with ``columns``, returning the stored row (no read back)."""
    return Prepared(bound_insert(InteractionType, columns).returning(*_tenant_type_columns().selected_columns))


_TYPE_BY_NAME = Prepared(
    _tenant_type_columns()
    .where(
        InteractionType.c.tenant == bindparam("tenant"),
        func.lower(func.regexp_replace(func.btrim(InteractionType.c.type_name), r"\s+", " ", "g"))
        == bindparam("name", type_=Text),
    )
    .order_by(InteractionType.c.display_order.nulls_last(), InteractionType.c.type_id)
    .limit(1)
)
_TYPE_AT_DISPLAY_ORDER = Prepared(
    _tenant_type_columns().where(
        InteractionType.c.tenant == bindparam("tenant"), InteractionType.c.display_order == bindparam("display_order")
    )
)
_HIGHEST_DISPLAY_ORDER = Prepared(
    select(func.max(InteractionType.c.display_order)).where(InteractionType.c.tenant == bindparam("tenant"))
)
