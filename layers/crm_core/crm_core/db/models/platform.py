"""Tenancy, users and access control, audit, the idempotency ledger, the event outbox, documents, email log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import Base, CreatedAt, EmptyJson, IdPk, TenantPk
from crm_core.db.models.columns import Timestamps, tenant_fk


class Tenant(Base):
    __tablename__ = "tenants"

    tenant: Mapped[TenantPk]
    client_name: Mapped[str]
    email: Mapped[str | None]
    created_at: Mapped[CreatedAt]


class TenantSettings(Timestamps, Base):
    __tablename__ = "tenant_settings"

    tenant: Mapped[TenantPk]
    settings: Mapped[EmptyJson]


class User(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("user_type in ('internal', 'client')", name="user_type"),)

    tenant: Mapped[TenantPk]
    user_id: Mapped[IdPk]
    username: Mapped[str]
    hashed_password: Mapped[str | None]
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    email: Mapped[str | None]
    user_type: Mapped[str] = mapped_column(server_default=text("'internal'"))
    is_inactive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    contact_id: Mapped[uuid.UUID | None]


class Role(Base):
    __tablename__ = "roles"

    tenant: Mapped[TenantPk]
    role_id: Mapped[IdPk]
    role_name: Mapped[str]
    description: Mapped[str | None]
    msp: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    client: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Permission(Timestamps, Base):
    __tablename__ = "permissions"
    __table_args__ = (Index("ix_permissions_resource_action", "tenant", "resource", "action"),)

    tenant: Mapped[TenantPk]
    permission_id: Mapped[IdPk]
    resource: Mapped[str]
    action: Mapped[str]
    msp: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    client: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    description: Mapped[str | None]


class RolePermission(Base):
    __tablename__ = "role_permissions"
    __table_args__ = (
        tenant_fk("role_id", "roles", ondelete="CASCADE"),
        tenant_fk("permission_id", "permissions", ondelete="CASCADE"),
    )

    tenant: Mapped[TenantPk]
    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    permission_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        tenant_fk("role_id", "roles", ondelete="CASCADE"),
    )

    tenant: Mapped[TenantPk]
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_table_record", "tenant", "table_name", "record_id"),
        Index("ix_audit_logs_timestamp", "tenant", "timestamp"),
    )

    tenant: Mapped[TenantPk]
    audit_id: Mapped[IdPk]
    user_id: Mapped[str | None]
    operation: Mapped[str]
    table_name: Mapped[str]
    record_id: Mapped[str]
    changed_data: Mapped[EmptyJson]
    details: Mapped[EmptyJson]
    timestamp: Mapped[CreatedAt]


class WorkflowActionInvocation(Base):
    """The idempotency ledger: one row per effect, written in the effect's own transaction."""

    __tablename__ = "workflow_action_invocations"
    __table_args__ = (
        UniqueConstraint("tenant", "action_id", "action_version", "idempotency_key"),
        CheckConstraint("status in ('STARTED', 'SUCCEEDED', 'FAILED')", name="status"),
        Index("ix_workflow_action_invocations_run", "tenant", "run_id"),
    )

    tenant: Mapped[TenantPk]
    invocation_id: Mapped[IdPk]
    run_id: Mapped[str]
    step_path: Mapped[str]
    action_id: Mapped[str]
    action_version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str]
    input_hash: Mapped[str]
    status: Mapped[str] = mapped_column(server_default=text("'STARTED'"))
    attempt: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    input_json: Mapped[EmptyJson]
    output_json: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None]
    error_json: Mapped[dict[str, Any] | None]
    started_at: Mapped[CreatedAt]
    completed_at: Mapped[datetime | None]


class WorkflowEventOutbox(Base):
    """After-commit effects (events, emails, documents) written in the action's transaction, delivered after."""

    __tablename__ = "workflow_event_outbox"
    __table_args__ = (
        UniqueConstraint("tenant", "idempotency_key"),
        CheckConstraint("status in ('PENDING', 'DELIVERED', 'FAILED')", name="status"),
        CheckConstraint("kind in ('event', 'email', 'document')", name="kind"),
        CheckConstraint("kind <> 'event' or event_type is not null", name="event_type"),
        Index(
            "ix_workflow_event_outbox_pending",
            "available_at",
            postgresql_where=text("status = 'PENDING'"),
        ),
    )

    tenant: Mapped[TenantPk]
    event_id: Mapped[IdPk]
    kind: Mapped[str] = mapped_column(server_default=text("'event'"))
    event_type: Mapped[str | None]
    idempotency_key: Mapped[str]
    payload: Mapped[EmptyJson]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None]
    result: Mapped[dict[str, Any] | None]
    recorder: Mapped[str | None]
    invocation_id: Mapped[uuid.UUID | None]
    source_action_id: Mapped[str | None]
    run_id: Mapped[str | None]
    created_at: Mapped[CreatedAt]
    available_at: Mapped[CreatedAt]
    delivered_at: Mapped[datetime | None]


class NextNumber(Base):
    __tablename__ = "next_number"

    tenant: Mapped[TenantPk]
    entity_type: Mapped[str] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    initial_value: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    prefix: Mapped[str | None]
    padding_length: Mapped[int] = mapped_column(Integer, server_default=text("4"))


class Document(Base):
    __tablename__ = "documents"

    tenant: Mapped[TenantPk]
    document_id: Mapped[IdPk]
    document_name: Mapped[str]
    folder_path: Mapped[str | None]
    mime_type: Mapped[str | None]
    file_size: Mapped[int | None] = mapped_column(Integer)
    storage_bucket: Mapped[str | None]
    storage_key: Mapped[str | None]
    is_client_visible: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[CreatedAt]


class DocumentAssociation(Base):
    __tablename__ = "document_associations"
    __table_args__ = (
        tenant_fk("document_id", "documents", ondelete="CASCADE"),
        Index("ix_document_associations_entity", "tenant", "entity_type", "entity_id"),
    )

    tenant: Mapped[TenantPk]
    association_id: Mapped[IdPk]
    document_id: Mapped[uuid.UUID]
    entity_id: Mapped[uuid.UUID]
    entity_type: Mapped[str]
    created_at: Mapped[CreatedAt]


class EmailSendingLog(Base):
    __tablename__ = "email_sending_logs"
    __table_args__ = (
        CheckConstraint("status in ('pending', 'sent', 'failed')", name="status"),
        UniqueConstraint("tenant", "delivery_key"),
        Index("ix_email_sending_logs_entity", "tenant", "entity_type", "entity_id"),
    )

    tenant: Mapped[TenantPk]
    id: Mapped[IdPk]
    delivery_key: Mapped[str | None]
    message_id: Mapped[str | None]
    from_address: Mapped[str | None]
    to_addresses: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    subject: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    error_message: Mapped[str | None]
    entity_type: Mapped[str | None]
    entity_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[CreatedAt]
