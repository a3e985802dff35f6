"""CRM records: clients, contacts, tickets, projects, interactions (activities), their types and statuses, tags."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import Base, CreatedAt, IdPk, TenantPk
from crm_core.db.models.columns import Timestamps, tenant_fk

BILLING_CYCLES = "'weekly', 'bi-weekly', 'monthly', 'quarterly', 'semi-annually', 'annually'"


class Client(Timestamps, Base):
    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("tenant", "client_name"),
        CheckConstraint(f"billing_cycle in ({BILLING_CYCLES})", name="billing_cycle"),
    )

    tenant: Mapped[TenantPk]
    client_id: Mapped[IdPk]
    client_name: Mapped[str]
    url: Mapped[str | None]
    billing_email: Mapped[str | None] = mapped_column(String(255))
    billing_cycle: Mapped[str] = mapped_column(server_default=text("'monthly'"))
    timezone: Mapped[str | None]
    default_currency_code: Mapped[str | None] = mapped_column(String(3))
    region_code: Mapped[str | None]
    is_tax_exempt: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_inactive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    account_manager_id: Mapped[uuid.UUID | None]
    billing_contact_id: Mapped[uuid.UUID | None]


class Contact(Timestamps, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        tenant_fk("client_id", "clients"),
        Index("ix_contacts_client", "tenant", "client_id"),
    )

    tenant: Mapped[TenantPk]
    contact_name_id: Mapped[IdPk]
    full_name: Mapped[str]
    client_id: Mapped[uuid.UUID | None]
    email: Mapped[str | None]
    role: Mapped[str | None]
    notes: Mapped[str | None]
    is_inactive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant", "ticket_number"),
        tenant_fk("client_id", "clients"),
        tenant_fk("contact_name_id", "contacts"),
        Index("ix_tickets_client", "tenant", "client_id"),
    )

    tenant: Mapped[TenantPk]
    ticket_id: Mapped[IdPk]
    ticket_number: Mapped[str]
    title: Mapped[str | None]
    client_id: Mapped[uuid.UUID | None]
    contact_name_id: Mapped[uuid.UUID | None]
    status_id: Mapped[uuid.UUID | None]
    assigned_to: Mapped[uuid.UUID | None]
    is_closed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    entered_at: Mapped[CreatedAt]
    updated_at: Mapped[CreatedAt]


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (tenant_fk("client_id", "clients"),)

    tenant: Mapped[TenantPk]
    project_id: Mapped[IdPk]
    project_name: Mapped[str]
    client_id: Mapped[uuid.UUID | None]
    created_at: Mapped[CreatedAt]


class SystemInteractionType(Timestamps, Base):
    """Global interaction types (no tenant): Call, Email, Meeting, Note, General, Online Meeting."""

    __tablename__ = "system_interaction_types"

    type_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    type_name: Mapped[str] = mapped_column(unique=True)
    icon: Mapped[str | None]
    display_order: Mapped[int | None] = mapped_column(Integer)


class InteractionType(Base):
    __tablename__ = "interaction_types"
    __table_args__ = (
        UniqueConstraint("tenant", "display_order"),
        ForeignKeyConstraint(["system_type_id"], ["system_interaction_types.type_id"], ondelete="SET NULL"),
    )

    tenant: Mapped[TenantPk]
    type_id: Mapped[IdPk]
    type_name: Mapped[str]
    icon: Mapped[str | None]
    system_type_id: Mapped[uuid.UUID | None]
    display_order: Mapped[int | None] = mapped_column(Integer)
    color: Mapped[str | None]
    is_request: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[uuid.UUID | None]


class Status(Base):
    __tablename__ = "statuses"
    __table_args__ = (
        CheckConstraint("status_type in ('project', 'ticket', 'project_task', 'interaction')", name="status_type"),
        Index(
            "uq_statuses_type_name",
            "tenant",
            "status_type",
            "name",
            unique=True,
            postgresql_where=text("status_type <> 'ticket'"),
        ),
        Index(
            "uq_statuses_type_order",
            "tenant",
            "status_type",
            "order_number",
            unique=True,
            postgresql_where=text("status_type <> 'ticket'"),
        ),
    )

    tenant: Mapped[TenantPk]
    status_id: Mapped[IdPk]
    name: Mapped[str]
    status_type: Mapped[str | None]
    item_type: Mapped[str | None]
    order_number: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[CreatedAt]
    is_closed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    color: Mapped[str | None] = mapped_column(String(7))
    icon: Mapped[str | None] = mapped_column(String(50))


def _activity_index(name: str, *leading: str) -> Index:
    """An index serving one find_activities filter plus its keyset order (interaction_date desc, id desc)."""
    return Index(
        f"ix_interactions_{name}",
        "tenant",
        *leading,
        text("interaction_date DESC"),
        text("interaction_id DESC"),
    )


class Interaction(Base):
    """A CRM activity. Summaries of every activity action are built from this row and its joins."""

    __tablename__ = "interactions"
    __table_args__ = (
        CheckConstraint("visibility in ('internal', 'client_visible')", name="visibility"),
        CheckConstraint("duration is null or duration >= 0", name="duration"),
        tenant_fk("contact_name_id", "contacts"),
        tenant_fk("client_id", "clients"),
        tenant_fk("user_id", "users"),
        tenant_fk("ticket_id", "tickets"),
        tenant_fk("status_id", "statuses"),
        tenant_fk("project_id", "projects"),
        _activity_index("date"),
        _activity_index("client_date", "client_id"),
        _activity_index("contact_date", "contact_name_id"),
        _activity_index("ticket_date", "ticket_id"),
        _activity_index("user_date", "user_id"),
        _activity_index("type_date", "type_id"),
        _activity_index("status_date", "status_id"),
        Index("ix_interactions_project", "tenant", "project_id"),
        Index("ix_interactions_visibility", "tenant", "visibility"),
    )

    tenant: Mapped[TenantPk]
    interaction_id: Mapped[IdPk]
    type_id: Mapped[uuid.UUID]
    contact_name_id: Mapped[uuid.UUID | None]
    client_id: Mapped[uuid.UUID | None]
    user_id: Mapped[uuid.UUID]
    ticket_id: Mapped[uuid.UUID | None]
    project_id: Mapped[uuid.UUID | None]
    title: Mapped[str | None]
    notes: Mapped[str | None]
    interaction_date: Mapped[CreatedAt]
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    duration: Mapped[int | None] = mapped_column(Integer)
    status_id: Mapped[uuid.UUID | None]
    visibility: Mapped[str] = mapped_column(server_default=text("'internal'"))
    category: Mapped[str | None]
    tags: Mapped[list[str] | None] = mapped_column(ARRAY(Text))


class TagDefinition(Base):
    __tablename__ = "tag_definitions"
    __table_args__ = (UniqueConstraint("tenant", "tag_text", "tagged_type"),)

    tenant: Mapped[TenantPk]
    tag_id: Mapped[IdPk]
    tag_text: Mapped[str]
    tagged_type: Mapped[str]
    board_id: Mapped[uuid.UUID | None]
    background_color: Mapped[str | None]
    text_color: Mapped[str | None]
    created_at: Mapped[CreatedAt]


class TagMapping(Base):
    __tablename__ = "tag_mappings"
    __table_args__ = (
        UniqueConstraint("tenant", "tag_id", "tagged_id"),
        tenant_fk("tag_id", "tag_definitions", ondelete="CASCADE"),
        Index("ix_tag_mappings_tagged", "tenant", "tagged_type", "tagged_id"),
    )

    tenant: Mapped[TenantPk]
    mapping_id: Mapped[IdPk]
    tag_id: Mapped[uuid.UUID]
    tagged_id: Mapped[uuid.UUID]
    tagged_type: Mapped[str]
    created_at: Mapped[CreatedAt]
    created_by: Mapped[uuid.UUID | None]
