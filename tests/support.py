"""Helpers for reading what a call left in the database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, text

from crm_core.db.engine import tenant_session


def count_rows(engine: Engine, tenant_id: uuid.UUID, table: str, where: str = "true", **params: Any) -> int:
    """Rows of ``table`` in ``tenant_id`` matching ``where`` (a SQL condition with :named parameters)."""
    with tenant_session(tenant_id, engine=engine) as session:
        return int(
            session.execute(
                text(f"select count(*) from {table} where tenant = :tenant and ({where})"),
                {"tenant": tenant_id, **params},
            ).scalar_one()
        )


def fetch_one(engine: Engine, tenant_id: uuid.UUID, sql: str, **params: Any) -> Any:
    with tenant_session(tenant_id, engine=engine) as session:
        return session.execute(text(sql), {"tenant": tenant_id, **params}).mappings().one()


def tenant_row_counts(engine: Engine, tenant_id: uuid.UUID) -> dict[str, int]:
    """Row counts of every tenant table: equal before and after a call that must change nothing."""
    from crm_core.db.base import tenant_tables

    with tenant_session(tenant_id, engine=engine) as session:
        return {t: int(session.execute(text(f"select count(*) from {t}")).scalar_one()) for t in tenant_tables()}
