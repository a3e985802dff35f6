"""What many table models declare alike: the tenant-scoped foreign key and the created/updated timestamps."""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint
from sqlalchemy.orm import Mapped

from crm_core.db.base import CreatedAt


def tenant_fk(
    column: str, table: str, parent_column: str | None = None, *, ondelete: str | None = None
) -> ForeignKeyConstraint:
    """The foreign key ``(tenant, column)`` -> ``table (tenant, parent_column)``: a tenant's row only refers to
    rows of the same tenant. ``parent_column`` defaults to ``column``.
    """
    referred = f"{table}.{parent_column or column}"
    return ForeignKeyConstraint(["tenant", column], [f"{table}.tenant", referred], ondelete=ondelete)


class Timestamps:
    """The ``created_at`` and ``updated_at`` columns, both defaulting to the time of the insert."""

    created_at: Mapped[CreatedAt]
    updated_at: Mapped[CreatedAt]
