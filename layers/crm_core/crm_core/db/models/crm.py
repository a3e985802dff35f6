"""CRM records: clients, contacts, tickets, projects, interactions (activities), their types and statuses, tags."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from crm_core.db.base import created_at, id_pk, metadata, tenant_pk, timestamps
from crm_core.db.models.columns import tenant_fk

BILLING_CYCLES = "'weekly', 'bi-weekly', 'monthly', 'quarterly', 'semi-annually', 'annually'"


Client = Table(
    "clients",
    metadata,
    tenant_pk(),
    id_pk("client_id"),
    Column("client_name", Text, nullable=False),
    Column("url", Text),
    Column("billing_email", String(255)),
    Column("billing_cycle", Text, server_default=text("'monthly'"), nullable=False),
    Column("timezone", Text),
    Column("default_currency_code", String(3)),
    Column("region_code", Text),
    Column("is_tax_exempt", Boolean, server_default=text("false"), nullable=False),
    Column("is_inactive", Boolean, server_default=text("false"), nullable=False),
    Column("account_manager_id", UUID),
    Column("billing_contact_id", UUID),
    *timestamps(),
    UniqueConstraint("tenant", "client_name"),
    CheckConstraint(f"billing_cycle in ({BILLING_CYCLES})", name="billing_cycle"),
)


Contact = Table(
    "contacts",
    metadata,
    tenant_pk(),
    id_pk("contact_name_id"),
    Column("full_name", Text, nullable=False),
    Column("client_id", UUID),
    Column("email", Text),
    Column("role", Text),
    Column("notes", Text),
    Column("is_inactive", Boolean, server_default=text("false"), nullable=False),
    *timestamps(),
    tenant_fk("client_id", "clients"),
    Index("ix_contacts_client", "tenant", "client_id"),
)


Ticket = Table(
    "tickets",
    metadata,
    tenant_pk(),
    id_pk("ticket_id"),
    Column("ticket_number", Text, nullable=False),
    Column("title", Text),
    Column("client_id", UUID),
    Column("contact_name_id", UUID),
    Column("status_id", UUID),
    Column("assigned_to", UUID),
    Column("is_closed", Boolean, server_default=text("false"), nullable=False),
    created_at("entered_at"),
    created_at("updated_at"),
    UniqueConstraint("tenant", "ticket_number"),
    tenant_fk("client_id", "clients"),
    tenant_fk("contact_name_id", "contacts"),
    Index("ix_tickets_client", "tenant", "client_id"),
)


Project = Table(
    "projects",
    metadata,
    tenant_pk(),
    id_pk("project_id"),
    Column("project_name", Text, nullable=False),
    Column("client_id", UUID),
    created_at("created_at"),
    tenant_fk("client_id", "clients"),
)


# Global interaction types (no tenant): Call, Email, Meeting, Note, General, Online Meeting.
SystemInteractionType = Table(
    "system_interaction_types",
    metadata,
    Column("type_id", UUID, primary_key=True),
    Column("type_name", Text, unique=True, nullable=False),
    Column("icon", Text),
    Column("display_order", Integer),
    *timestamps(),
)


InteractionType = Table(
    "interaction_types",
    metadata,
    tenant_pk(),
    id_pk("type_id"),
    Column("type_name", Text, nullable=False),
    Column("icon", Text),
    Column("system_type_id", UUID),
    Column("display_order", Integer),
    Column("color", Text),
    Column("is_request", Boolean, server_default=text("false"), nullable=False),
    Column("created_by", UUID),
    UniqueConstraint("tenant", "display_order"),
    ForeignKeyConstraint(["system_type_id"], ["system_interaction_types.type_id"], ondelete="SET NULL"),
)


Status = Table(
    "statuses",
    metadata,
    tenant_pk(),
    id_pk("status_id"),
    Column("name", Text, nullable=False),
    Column("status_type", Text),
    Column("item_type", Text),
    Column("order_number", Integer, nullable=False),
    Column("created_by", UUID),
    created_at("created_at"),
    Column("is_closed", Boolean, server_default=text("false"), nullable=False),
    Column("is_default", Boolean, server_default=text("false"), nullable=False),
    Column("color", String(7)),
    Column("icon", String(50)),
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


def _activity_index(name: str, *leading: str) -> Index:
    """An index serving one find_activities filter plus its keyset order (interaction_date desc, id desc)."""
    return Index(
        f"ix_interactions_{name}",
        "tenant",
        *leading,
        text("interaction_date DESC"),
        text("interaction_id DESC"),
    )


# A CRM activity. Summaries of every activity action are built from this row and its joins.
Interaction = Table(
    "interactions",
    metadata,
    tenant_pk(),
    id_pk("interaction_id"),
    Column("type_id", UUID, nullable=False),
    Column("contact_name_id", UUID),
    Column("client_id", UUID),
    Column("user_id", UUID, nullable=False),
    Column("ticket_id", UUID),
    Column("project_id", UUID),
    Column("title", Text),
    Column("notes", Text),
    created_at("interaction_date"),
    Column("start_time", DateTime(timezone=True)),
    Column("end_time", DateTime(timezone=True)),
    Column("duration", Integer),
    Column("status_id", UUID),
    Column("visibility", Text, server_default=text("'internal'"), nullable=False),
    Column("category", Text),
    Column("tags", ARRAY(Text)),
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


TagDefinition = Table(
    "tag_definitions",
    metadata,
    tenant_pk(),
    id_pk("tag_id"),
    Column("tag_text", Text, nullable=False),
    Column("tagged_type", Text, nullable=False),
    Column("board_id", UUID),
    Column("background_color", Text),
    Column("text_color", Text),
    created_at("created_at"),
    UniqueConstraint("tenant", "tag_text", "tagged_type"),
)


TagMapping = Table(
    "tag_mappings",
    metadata,
    tenant_pk(),
    id_pk("mapping_id"),
    Column("tag_id", UUID, nullable=False),
    Column("tagged_id", UUID, nullable=False),
    Column("tagged_type", Text, nullable=False),
    created_at("created_at"),
    Column("created_by", UUID),
    UniqueConstraint("tenant", "tag_id", "tagged_id"),
    tenant_fk("tag_id", "tag_definitions", ondelete="CASCADE"),
    Index("ix_tag_mappings_tagged", "tenant", "tagged_type", "tagged_id"),
)
