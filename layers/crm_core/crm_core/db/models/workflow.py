"""What every call writes besides its records: the audit log, the idempotency ledger and the event outbox."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_core.db.base import created_at, empty_json, id_pk, metadata, tenant_pk

AuditLog = Table(
    "audit_logs",
    metadata,
    tenant_pk(),
    id_pk("audit_id"),
    Column("user_id", Text),
    Column("operation", Text, nullable=False),
    Column("table_name", Text, nullable=False),
    Column("record_id", Text, nullable=False),
    empty_json("changed_data"),
    empty_json("details"),
    created_at("timestamp"),
    Index("ix_audit_logs_table_record", "tenant", "table_name", "record_id"),
    Index("ix_audit_logs_timestamp", "tenant", "timestamp"),
)


# The idempotency ledger: one row per effect, written in the effect's own transaction.
WorkflowActionInvocation = Table(
    "workflow_action_invocations",
    metadata,
    tenant_pk(),
    id_pk("invocation_id"),
    Column("run_id", Text, nullable=False),
    Column("step_path", Text, nullable=False),
    Column("action_id", Text, nullable=False),
    Column("action_version", Integer, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("input_hash", Text, nullable=False),
    Column("status", Text, server_default=text("'STARTED'"), nullable=False),
    Column("attempt", Integer, server_default=text("1"), nullable=False),
    empty_json("input_json"),
    Column("output_json", JSONB),
    Column("error_message", Text),
    Column("error_json", JSONB),
    created_at("started_at"),
    Column("completed_at", DateTime(timezone=True)),
    UniqueConstraint("tenant", "action_id", "action_version", "idempotency_key"),
    CheckConstraint("status in ('STARTED', 'SUCCEEDED', 'FAILED')", name="status"),
    Index("ix_workflow_action_invocations_run", "tenant", "run_id"),
)


# After-commit effects (events, emails, documents) written in the action's transaction, delivered after.
WorkflowEventOutbox = Table(
    "workflow_event_outbox",
    metadata,
    tenant_pk(),
    id_pk("event_id"),
    Column("kind", Text, server_default=text("'event'"), nullable=False),
    Column("event_type", Text),
    Column("idempotency_key", Text, nullable=False),
    empty_json("payload"),
    Column("content", LargeBinary),
    Column("status", Text, server_default=text("'PENDING'"), nullable=False),
    Column("attempts", Integer, server_default=text("0"), nullable=False),
    Column("last_error", Text),
    Column("result", JSONB),
    Column("recorder", Text),
    Column("invocation_id", UUID),
    Column("source_action_id", Text),
    Column("run_id", Text),
    created_at("created_at"),
    created_at("available_at"),
    Column("delivered_at", DateTime(timezone=True)),
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
