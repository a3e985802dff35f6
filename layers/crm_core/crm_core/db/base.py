"""The schema's ``MetaData`` and the column shapes many tables share.

Tables are SQLAlchemy Core ``Table`` objects (``crm_core.db.models``), not ORM classes: the actions read and
write with Core statements, so importing them costs neither ``sqlalchemy.orm`` nor mapper configuration at a
Lambda cold start, and a call runs Core's execution path only. Migrations are written by hand
(``crm_core.db.migrations``); ``tests/integration/test_schema_matches_tables.py`` checks the two agree.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, MetaData, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every table of the schema. Tables with a ``tenant`` column are tenant-scoped and protected by row-level security.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


def tenant_pk() -> Column[object]:
    """The ``tenant`` column: first column of every tenant table's primary key."""
    return Column("tenant", UUID, primary_key=True)


def id_pk(name: str) -> Column[object]:
    """A generated uuid primary-key column (the second column of a tenant table's composite key)."""
    return Column(name, UUID, primary_key=True, server_default=text("gen_random_uuid()"))


def created_at(name: str = "created_at", *, nullable: bool = False) -> Column[object]:
    """A ``timestamptz`` column defaulting to the time of the insert."""
    return Column(name, DateTime(timezone=True), server_default=func.now(), nullable=nullable)


def timestamps() -> tuple[Column[object], Column[object]]:
    """The ``created_at`` and ``updated_at`` columns, both defaulting to the time of the insert."""
    return created_at("created_at"), created_at("updated_at")


def cents(name: str) -> Column[object]:
    """A money column: integer cents (bigint), zero by default."""
    return Column(name, BigInteger, nullable=False, server_default=text("0"))


def empty_json(name: str) -> Column[object]:
    """A ``jsonb`` column defaulting to the empty object."""
    return Column(name, JSONB, nullable=False, server_default=text("'{}'::jsonb"))


def tenant_tables() -> list[str]:
    """Names of every table with a ``tenant`` column, in dependency order (the ones RLS protects)."""
    from crm_core.db.models import load_all

    load_all()  # every table registered on ``metadata``

    return [t.name for t in metadata.sorted_tables if "tenant" in t.c]
