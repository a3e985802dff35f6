"""What many tables declare alike: the tenant-scoped foreign key."""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint


def tenant_fk(
    column: str, table: str, parent_column: str | None = None, *, ondelete: str | None = None
) -> ForeignKeyConstraint:
    """The foreign key ``(tenant, column)`` -> ``table (tenant, parent_column)``: a tenant's row only refers to
    rows of the same tenant. ``parent_column`` defaults to ``column``.
    """
    referred = f"{table}.{parent_column or column}"
    return ForeignKeyConstraint(["tenant", column], [f"{table}.tenant", referred], ondelete=ondelete)
