"""Reading back what a call left in the database, always inside the tenant (row-level security applies).

SQL given here may use ``:tenant``, which is bound to the tenant's id, and any other ``:named`` parameter.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, text

from crm_core.db.engine import tenant_transaction


def fetch_all(engine: Engine, tenant_id: uuid.UUID, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of ``sql`` as a dict."""
    with tenant_transaction(tenant_id, engine=engine) as session:
        return [dict(row) for row in session.execute(text(sql), {"tenant": tenant_id, **params}).mappings()]


def fetch_one(engine: Engine, tenant_id: uuid.UUID, sql: str, **params: Any) -> dict[str, Any]:
    """The one row of ``sql`` (an error when there are none or several)."""
    (row,) = fetch_all(engine, tenant_id, sql, **params)
    return row


def execute(engine: Engine, tenant_id: uuid.UUID, sql: str, **params: Any) -> None:
    """Run one statement in the tenant (for setting up unusual data)."""
    with tenant_transaction(tenant_id, engine=engine) as session:
        session.execute(text(sql), {"tenant": tenant_id, **params})


def count_rows(engine: Engine, tenant_id: uuid.UUID, table: str, where: str = "true", **params: Any) -> int:
    """Rows of ``table`` in ``tenant_id`` matching ``where`` (a SQL condition with :named parameters)."""
    sql = f"select count(*) as n from {table} where tenant = :tenant and ({where})"
    return int(fetch_one(engine, tenant_id, sql, **params)["n"])


def tenant_row_counts(engine: Engine, tenant_id: uuid.UUID) -> dict[str, int]:
    """Row counts of every tenant table: equal before and after a call that must change nothing."""
    from crm_core.db.base import tenant_tables

    with tenant_transaction(tenant_id, engine=engine) as session:
        return {t: int(session.execute(text(f"select count(*) from {t}")).scalar_one()) for t in tenant_tables()}


def audit_rows(engine: Engine, tenant_id: uuid.UUID, action_id: str) -> list[dict[str, Any]]:
    """The audit rows the calls of ``action_id`` wrote, oldest first."""
    sql = "select * from audit_logs where tenant = :tenant and operation = :op order by timestamp"
    return fetch_all(engine, tenant_id, sql, op=f"workflow_action:{action_id}")


def outbox_rows(engine: Engine, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """The tenant's outbox rows, oldest first."""
    sql = "select * from workflow_event_outbox where tenant = :tenant order by created_at, event_id"
    return fetch_all(engine, tenant_id, sql)


def activity_row(engine: Engine, tenant_id: uuid.UUID, activity_id: uuid.UUID | str) -> dict[str, Any]:
    """The ``interactions`` row of ``activity_id``."""
    sql = "select * from interactions where tenant = :tenant and interaction_id = :id"
    return fetch_one(engine, tenant_id, sql, id=uuid.UUID(str(activity_id)))


def activity_tags(engine: Engine, tenant_id: uuid.UUID, activity_id: uuid.UUID) -> list[str] | None:
    """The activity's own ``tags`` column (None when it has none)."""
    tags: list[str] | None = activity_row(engine, tenant_id, activity_id)["tags"]
    return tags


def tag_definitions(engine: Engine, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """The tenant's tag definitions, by text and then tagged type."""
    sql = "select * from tag_definitions where tenant = :tenant order by tag_text, tagged_type"
    return fetch_all(engine, tenant_id, sql)


def tag_mappings(engine: Engine, tenant_id: uuid.UUID, tagged_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The tag mappings of the tenant (or of one record), with their ``tag_text``, by text."""
    sql = (
        "select m.*, d.tag_text from tag_mappings m join tag_definitions d"
        " on d.tenant = m.tenant and d.tag_id = m.tag_id"
        " where m.tenant = :tenant and (cast(:tagged as uuid) is null or m.tagged_id = cast(:tagged as uuid))"
        " order by d.tag_text"
    )
    return fetch_all(engine, tenant_id, sql, tagged=str(tagged_id) if tagged_id else None)
