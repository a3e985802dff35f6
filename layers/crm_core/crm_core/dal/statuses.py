"""Statuses (the ``statuses`` table): lookups by id, by name and the tenant's default interaction status.

A status has a ``status_type`` (interaction, ticket, project, project_task); activities use interaction
statuses only. Every lookup returns :class:`StatusRecord` values.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, Text, bindparam, func, select

from crm_core.dal.batch import IdValue
from crm_core.dal.records import get_record
from crm_core.db.models import Status
from crm_core.db.prepared import Prepared


class StatusRecord(NamedTuple):
    """A status as activities see it."""

    status_id: uuid.UUID
    name: str
    status_type: str | None
    is_closed: bool


def _status_columns() -> Select[*tuple[Any, ...]]:
    return select(Status.c.status_id, Status.c.name, Status.c.status_type, Status.c.is_closed)


def status_query(tenant_id: IdValue, status_id: IdValue) -> Select[*tuple[Any, ...]]:
    """A status of any type by id (the caller checks it is an interaction status)."""
    return _status_columns().where(Status.c.tenant == tenant_id, Status.c.status_id == status_id)


def default_interaction_status_query(tenant_id: IdValue) -> Select[*tuple[Any, ...]]:
    """The tenant's default interaction status (``is_default``; the first in display order)."""
    return (
        _status_columns()
        .where(Status.c.tenant == tenant_id, Status.c.status_type == "interaction", Status.c.is_default.is_(True))
        .order_by(Status.c.order_number)
        .limit(1)
    )


def get_status(connection: Connection, tenant_id: uuid.UUID, status_id: uuid.UUID) -> StatusRecord | None:
    """A status of any type (the caller checks it is an interaction status)."""
    return get_record(connection, status_query, StatusRecord, tenant_id, status_id)


_STATUSES_NAMED = Prepared(
    select(Status.c.status_id, Status.c.name, Status.c.status_type, Status.c.is_closed)
    .where(
        Status.c.tenant == bindparam("tenant"),
        Status.c.status_type == "interaction",
        func.lower(func.btrim(Status.c.name)) == bindparam("name", type_=Text),
    )
    .order_by(Status.c.order_number)
    .limit(2)
)


def interaction_statuses_named(connection: Connection, tenant_id: uuid.UUID, name: str) -> list[StatusRecord]:
    """Interaction statuses whose name matches ``name`` ignoring case and surrounding space (at most two)."""
    rows = _STATUSES_NAMED.all(connection, tenant=tenant_id, name=name.strip().lower())
    return [StatusRecord(*row) for row in rows]


def interaction_status_names(connection: Connection, tenant_id: uuid.UUID) -> list[str]:
    """The tenant's interaction status names, in their display order."""
    return list(
        connection.scalars(
            select(Status.c.name)
            .where(Status.c.tenant == tenant_id, Status.c.status_type == "interaction")
            .order_by(Status.c.order_number)
        ).all()
    )
