"""Declarative base and the column types every model shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import BigInteger, DateTime, MetaData, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of all models. Tables with a ``tenant`` column are tenant-scoped and protected by row-level security."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        str: Text,
    }


# The tenant column: first column of every tenant table's primary key.
TenantPk = Annotated[uuid.UUID, mapped_column(UUID(as_uuid=True), primary_key=True)]
# A generated uuid primary-key column (second column of the composite key).
IdPk = Annotated[
    uuid.UUID, mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
]
CreatedAt = Annotated[datetime, mapped_column(DateTime(timezone=True), server_default=func.now())]
Cents = Annotated[int, mapped_column(BigInteger, nullable=False, server_default=text("0"))]
EmptyJson = Annotated[dict[str, Any], mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))]


def tenant_tables() -> list[str]:
    """Names of every table with a ``tenant`` column, in dependency order (the ones RLS protects)."""
    return [t.name for t in Base.metadata.sorted_tables if "tenant" in t.c]
