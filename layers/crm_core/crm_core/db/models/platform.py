"""Tenancy, users and access control, numbering, documents, the email log."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from crm_core.db.base import created_at, empty_json, id_pk, metadata, tenant_pk, timestamps
from crm_core.db.models.columns import tenant_fk

Tenant = Table(
    "tenants",
    metadata,
    tenant_pk(),
    Column("client_name", Text, nullable=False),
    Column("email", Text),
    created_at("created_at"),
)


TenantSettings = Table(
    "tenant_settings",
    metadata,
    tenant_pk(),
    empty_json("settings"),
    *timestamps(),
)


User = Table(
    "users",
    metadata,
    tenant_pk(),
    id_pk("user_id"),
    Column("username", Text, nullable=False),
    Column("hashed_password", Text),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("email", Text),
    Column("user_type", Text, server_default=text("'internal'"), nullable=False),
    Column("is_inactive", Boolean, server_default=text("false"), nullable=False),
    Column("contact_id", UUID),
    *timestamps(),
    CheckConstraint("user_type in ('internal', 'client')", name="user_type"),
)


Role = Table(
    "roles",
    metadata,
    tenant_pk(),
    id_pk("role_id"),
    Column("role_name", Text, nullable=False),
    Column("description", Text),
    Column("msp", Boolean, server_default=text("true"), nullable=False),
    Column("client", Boolean, server_default=text("false"), nullable=False),
)


Permission = Table(
    "permissions",
    metadata,
    tenant_pk(),
    id_pk("permission_id"),
    Column("resource", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("msp", Boolean, server_default=text("true"), nullable=False),
    Column("client", Boolean, server_default=text("false"), nullable=False),
    Column("description", Text),
    *timestamps(),
    Index("ix_permissions_resource_action", "tenant", "resource", "action"),
)


RolePermission = Table(
    "role_permissions",
    metadata,
    tenant_pk(),
    Column("role_id", UUID, primary_key=True),
    Column("permission_id", UUID, primary_key=True),
    tenant_fk("role_id", "roles", ondelete="CASCADE"),
    tenant_fk("permission_id", "permissions", ondelete="CASCADE"),
)


UserRole = Table(
    "user_roles",
    metadata,
    tenant_pk(),
    Column("user_id", UUID, primary_key=True),
    Column("role_id", UUID, primary_key=True),
    tenant_fk("user_id", "users", ondelete="CASCADE"),
    tenant_fk("role_id", "roles", ondelete="CASCADE"),
)


NextNumber = Table(
    "next_number",
    metadata,
    tenant_pk(),
    Column("entity_type", Text, primary_key=True),
    Column("last_number", Integer, server_default=text("0"), nullable=False),
    Column("initial_value", Integer, server_default=text("1"), nullable=False),
    Column("prefix", Text),
    Column("padding_length", Integer, server_default=text("4"), nullable=False),
)


Document = Table(
    "documents",
    metadata,
    tenant_pk(),
    id_pk("document_id"),
    Column("document_name", Text, nullable=False),
    Column("folder_path", Text),
    Column("mime_type", Text),
    Column("file_size", Integer),
    Column("storage_bucket", Text),
    Column("storage_key", Text),
    Column("is_client_visible", Boolean, server_default=text("false"), nullable=False),
    Column("created_by", UUID),
    created_at("created_at"),
)


DocumentAssociation = Table(
    "document_associations",
    metadata,
    tenant_pk(),
    id_pk("association_id"),
    Column("document_id", UUID, nullable=False),
    Column("entity_id", UUID, nullable=False),
    Column("entity_type", Text, nullable=False),
    created_at("created_at"),
    tenant_fk("document_id", "documents", ondelete="CASCADE"),
    Index("ix_document_associations_entity", "tenant", "entity_type", "entity_id"),
)


EmailSendingLog = Table(
    "email_sending_logs",
    metadata,
    tenant_pk(),
    id_pk("id"),
    Column("delivery_key", Text),
    Column("message_id", Text),
    Column("from_address", Text),
    Column("to_addresses", ARRAY(Text), server_default=text("'{}'"), nullable=False),
    Column("subject", Text),
    Column("status", Text, server_default=text("'pending'"), nullable=False),
    Column("error_message", Text),
    Column("entity_type", Text),
    Column("entity_id", UUID),
    Column("contact_id", UUID),
    Column("attempts", Integer, server_default=text("0"), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    created_at("created_at"),
    CheckConstraint("status in ('pending', 'sent', 'failed')", name="status"),
    UniqueConstraint("tenant", "delivery_key"),
    Index("ix_email_sending_logs_entity", "tenant", "entity_type", "entity_id"),
)
