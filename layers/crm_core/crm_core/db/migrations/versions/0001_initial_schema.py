"""Initial schema: every table, row-level security on tenant tables, seeded system interaction types.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 16:52:01.280197
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables with a tenant column, in creation order: row-level security is enabled and forced on each.
TENANT_TABLES = [
    "audit_logs",
    "clients",
    "contracts",
    "documents",
    "email_sending_logs",
    "next_number",
    "permissions",
    "roles",
    "statuses",
    "tag_definitions",
    "tenant_settings",
    "tenants",
    "users",
    "workflow_action_invocations",
    "workflow_event_outbox",
    "client_contracts",
    "contacts",
    "contract_lines",
    "document_associations",
    "interaction_types",
    "invoices",
    "projects",
    "role_permissions",
    "tag_mappings",
    "user_roles",
    "invoice_charges",
    "quotes",
    "tickets",
    "interactions",
    "quote_activities",
    "quote_items",
]

SYSTEM_INTERACTION_TYPES = [
    {
        "type_id": "9c1577c5-795b-5c38-a3b3-e2b618aac6c8",
        "type_name": "Call",
        "icon": "phone",
        "display_order": 1,
    },
    {
        "type_id": "666118fe-d252-5541-a917-c4ec56a6beff",
        "type_name": "Email",
        "icon": "mail",
        "display_order": 2,
    },
    {
        "type_id": "5acca340-6f16-5e1a-bff6-b877b643651a",
        "type_name": "Meeting",
        "icon": "users",
        "display_order": 3,
    },
    {
        "type_id": "ba330b41-0e03-537d-834f-94a6c295a983",
        "type_name": "Note",
        "icon": "file-text",
        "display_order": 4,
    },
    {
        "type_id": "4525df76-b3da-54e9-8edf-a1c48290f876",
        "type_name": "General",
        "icon": "activity",
        "display_order": 5,
    },
    {
        "type_id": "d20b55d2-c4c5-5979-bac9-7bc9efdd1a4c",
        "type_name": "Online Meeting",
        "icon": "video",
        "display_order": 6,
    },
]

TENANT_PREDICATE = "tenant = NULLIF(current_setting('app.current_tenant', true), '')::uuid"


def secure_tenant_tables() -> None:
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )
    # The event relay delivers pending events of every tenant: it alone sets app.outbox_relay.
    op.execute(
        "CREATE POLICY outbox_relay ON workflow_event_outbox FOR ALL "
        "USING (current_setting('app.outbox_relay', true) = 'on') "
        "WITH CHECK (current_setting('app.outbox_relay', true) = 'on')"
    )


def create_interaction_type_trigger() -> None:
    op.execute(
        """
        CREATE FUNCTION validate_interaction_type() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM system_interaction_types WHERE type_id = NEW.type_id)
             AND NOT EXISTS (SELECT 1 FROM interaction_types WHERE tenant = NEW.tenant AND type_id = NEW.type_id)
          THEN
            RAISE EXCEPTION 'interaction type % does not exist', NEW.type_id USING ERRCODE = '23503';
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER validate_interaction_type_trigger BEFORE INSERT OR UPDATE OF type_id ON interactions "
        "FOR EACH ROW EXECUTE FUNCTION validate_interaction_type()"
    )


def seed_system_interaction_types() -> None:
    table = sa.table(
        "system_interaction_types",
        sa.column("type_id", sa.UUID()),
        sa.column("type_name", sa.Text()),
        sa.column("icon", sa.Text()),
        sa.column("display_order", sa.Integer()),
    )
    rows = [dict(row, type_id=uuid.UUID(row["type_id"])) for row in SYSTEM_INTERACTION_TYPES]
    op.bulk_insert(table, rows)


def upgrade() -> None:
    op.create_table(
        "audit_logs",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("audit_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column(
            "changed_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "audit_id", name=op.f("pk_audit_logs")),
    )
    op.create_index("ix_audit_logs_table_record", "audit_logs", ["tenant", "table_name", "record_id"], unique=False)
    op.create_index("ix_audit_logs_timestamp", "audit_logs", ["tenant", "timestamp"], unique=False)
    op.create_table(
        "clients",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("client_name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("billing_email", sa.String(length=255), nullable=True),
        sa.Column("billing_cycle", sa.Text(), server_default=sa.text("'monthly'"), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=True),
        sa.Column("default_currency_code", sa.String(length=3), nullable=True),
        sa.Column("region_code", sa.Text(), nullable=True),
        sa.Column("is_tax_exempt", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_inactive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("account_manager_id", sa.UUID(), nullable=True),
        sa.Column("billing_contact_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "billing_cycle in ('weekly', 'bi-weekly', 'monthly', 'quarterly', 'semi-annually', 'annually')",
            name=op.f("ck_clients_billing_cycle"),
        ),
        sa.PrimaryKeyConstraint("tenant", "client_id", name=op.f("pk_clients")),
        sa.UniqueConstraint("tenant", "client_name", name=op.f("uq_clients_tenant_client_name")),
    )
    op.create_table(
        "contracts",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("contract_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("contract_name", sa.Text(), nullable=False),
        sa.Column("contract_description", sa.Text(), nullable=True),
        sa.Column("billing_frequency", sa.Text(), server_default=sa.text("'monthly'"), nullable=False),
        sa.Column("currency_code", sa.String(length=3), server_default=sa.text("'USD'"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("owner_client_id", sa.UUID(), nullable=True),
        sa.Column("template_metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "contract_id", name=op.f("pk_contracts")),
    )
    op.create_table(
        "documents",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("document_name", sa.Text(), nullable=False),
        sa.Column("folder_path", sa.Text(), nullable=True),
        sa.Column("mime_type", sa.Text(), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("storage_bucket", sa.Text(), nullable=True),
        sa.Column("storage_key", sa.Text(), nullable=True),
        sa.Column("is_client_visible", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "document_id", name=op.f("pk_documents")),
    )
    op.create_table(
        "email_sending_logs",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("delivery_key", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("from_address", sa.Text(), nullable=True),
        sa.Column("to_addresses", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("entity_type", sa.Text(), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status in ('pending', 'sent', 'failed')", name=op.f("ck_email_sending_logs_status")),
        sa.PrimaryKeyConstraint("tenant", "id", name=op.f("pk_email_sending_logs")),
        sa.UniqueConstraint("tenant", "delivery_key", name=op.f("uq_email_sending_logs_tenant_delivery_key")),
    )
    op.create_index(
        "ix_email_sending_logs_entity",
        "email_sending_logs",
        ["tenant", "entity_type", "entity_id"],
        unique=False,
    )
    op.create_table(
        "next_number",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("last_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("initial_value", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=True),
        sa.Column("padding_length", sa.Integer(), server_default=sa.text("4"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "entity_type", name=op.f("pk_next_number")),
    )
    op.create_table(
        "permissions",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("permission_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("msp", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("client", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "permission_id", name=op.f("pk_permissions")),
    )
    op.create_index("ix_permissions_resource_action", "permissions", ["tenant", "resource", "action"], unique=False)
    op.create_table(
        "roles",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("role_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("msp", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("client", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "role_id", name=op.f("pk_roles")),
    )
    op.create_table(
        "statuses",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("status_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status_type", sa.Text(), nullable=True),
        sa.Column("item_type", sa.Text(), nullable=True),
        sa.Column("order_number", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("is_closed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("icon", sa.String(length=50), nullable=True),
        sa.CheckConstraint(
            "status_type in ('project', 'ticket', 'project_task', 'interaction')",
            name=op.f("ck_statuses_status_type"),
        ),
        sa.PrimaryKeyConstraint("tenant", "status_id", name=op.f("pk_statuses")),
    )
    op.create_index(
        "uq_statuses_type_name",
        "statuses",
        ["tenant", "status_type", "name"],
        unique=True,
        postgresql_where=sa.text("status_type <> 'ticket'"),
    )
    op.create_index(
        "uq_statuses_type_order",
        "statuses",
        ["tenant", "status_type", "order_number"],
        unique=True,
        postgresql_where=sa.text("status_type <> 'ticket'"),
    )
    op.create_table(
        "system_interaction_types",
        sa.Column("type_id", sa.UUID(), nullable=False),
        sa.Column("type_name", sa.Text(), nullable=False),
        sa.Column("icon", sa.Text(), nullable=True),
        sa.Column("display_order", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("type_id", name=op.f("pk_system_interaction_types")),
        sa.UniqueConstraint("type_name", name=op.f("uq_system_interaction_types_type_name")),
    )
    op.create_table(
        "tag_definitions",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("tag_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tag_text", sa.Text(), nullable=False),
        sa.Column("tagged_type", sa.Text(), nullable=False),
        sa.Column("board_id", sa.UUID(), nullable=True),
        sa.Column("background_color", sa.Text(), nullable=True),
        sa.Column("text_color", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "tag_id", name=op.f("pk_tag_definitions")),
        sa.UniqueConstraint(
            "tenant", "tag_text", "tagged_type", name=op.f("uq_tag_definitions_tenant_tag_text_tagged_type")
        ),
    )
    op.create_table(
        "tenant_settings",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_tenant_settings")),
    )
    op.create_table(
        "tenants",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("client_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_tenants")),
    )
    op.create_table(
        "users",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("hashed_password", sa.Text(), nullable=True),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("user_type", sa.Text(), server_default=sa.text("'internal'"), nullable=False),
        sa.Column("is_inactive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("user_type in ('internal', 'client')", name=op.f("ck_users_user_type")),
        sa.PrimaryKeyConstraint("tenant", "user_id", name=op.f("pk_users")),
    )
    op.create_table(
        "workflow_action_invocations",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("invocation_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("step_path", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("action_version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("input_hash", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'STARTED'"), nullable=False),
        sa.Column("attempt", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "input_json",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("output_json", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_json", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('STARTED', 'SUCCEEDED', 'FAILED')", name=op.f("ck_workflow_action_invocations_status")
        ),
        sa.PrimaryKeyConstraint("tenant", "invocation_id", name=op.f("pk_workflow_action_invocations")),
        sa.UniqueConstraint(
            "tenant",
            "action_id",
            "action_version",
            "idempotency_key",
            name=op.f("uq_workflow_action_invocations_tenant_action_id_action_version_idempotency_key"),
        ),
    )
    op.create_index(
        "ix_workflow_action_invocations_run",
        "workflow_action_invocations",
        ["tenant", "run_id"],
        unique=False,
    )
    op.create_table(
        "workflow_event_outbox",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default=sa.text("'PENDING'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("source_action_id", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eventbridge_event_id", sa.Text(), nullable=True),
        sa.CheckConstraint("status in ('PENDING', 'PUBLISHED')", name=op.f("ck_workflow_event_outbox_status")),
        sa.PrimaryKeyConstraint("tenant", "event_id", name=op.f("pk_workflow_event_outbox")),
        sa.UniqueConstraint("tenant", "idempotency_key", name=op.f("uq_workflow_event_outbox_tenant_idempotency_key")),
    )
    op.create_index(
        "ix_workflow_event_outbox_pending",
        "workflow_event_outbox",
        ["available_at"],
        unique=False,
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_table(
        "client_contracts",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("client_contract_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("contract_id", sa.UUID(), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "client_id"],
            ["clients.tenant", "clients.client_id"],
            name=op.f("fk_client_contracts_tenant_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "contract_id"],
            ["contracts.tenant", "contracts.contract_id"],
            name=op.f("fk_client_contracts_tenant_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("tenant", "client_contract_id", name=op.f("pk_client_contracts")),
    )
    op.create_table(
        "contacts",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("contact_name_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_inactive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "client_id"],
            ["clients.tenant", "clients.client_id"],
            name=op.f("fk_contacts_tenant_client_id_clients"),
        ),
        sa.PrimaryKeyConstraint("tenant", "contact_name_id", name=op.f("pk_contacts")),
    )
    op.create_index("ix_contacts_client", "contacts", ["tenant", "client_id"], unique=False)
    op.create_table(
        "contract_lines",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("contract_line_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("contract_id", sa.UUID(), nullable=False),
        sa.Column("contract_line_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("contract_line_type", sa.Text(), nullable=False),
        sa.Column("billing_frequency", sa.Text(), server_default=sa.text("'monthly'"), nullable=False),
        sa.Column("billing_timing", sa.Text(), server_default=sa.text("'advance'"), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("custom_rate", sa.BigInteger(), nullable=True),
        sa.Column("minimum_billable_time", sa.Integer(), nullable=True),
        sa.Column("round_up_to_nearest", sa.Integer(), nullable=True),
        sa.Column("display_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("source_quote_item_id", sa.UUID(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("billing_timing in ('advance', 'arrears')", name=op.f("ck_contract_lines_billing_timing")),
        sa.CheckConstraint(
            "contract_line_type in ('Fixed', 'Hourly', 'Usage')",
            name=op.f("ck_contract_lines_contract_line_type"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "contract_id"],
            ["contracts.tenant", "contracts.contract_id"],
            name=op.f("fk_contract_lines_tenant_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "contract_line_id", name=op.f("pk_contract_lines")),
    )
    op.create_table(
        "document_associations",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("association_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "document_id"],
            ["documents.tenant", "documents.document_id"],
            name=op.f("fk_document_associations_tenant_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "association_id", name=op.f("pk_document_associations")),
    )
    op.create_index(
        "ix_document_associations_entity",
        "document_associations",
        ["tenant", "entity_type", "entity_id"],
        unique=False,
    )
    op.create_table(
        "interaction_types",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("type_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("type_name", sa.Text(), nullable=False),
        sa.Column("icon", sa.Text(), nullable=True),
        sa.Column("system_type_id", sa.UUID(), nullable=True),
        sa.Column("display_order", sa.Integer(), nullable=True),
        sa.Column("color", sa.Text(), nullable=True),
        sa.Column("is_request", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_type_id"],
            ["system_interaction_types.type_id"],
            name=op.f("fk_interaction_types_system_type_id_system_interaction_types"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("tenant", "type_id", name=op.f("pk_interaction_types")),
        sa.UniqueConstraint("tenant", "display_order", name=op.f("uq_interaction_types_tenant_display_order")),
    )
    op.create_table(
        "invoices",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("invoice_number", sa.Text(), nullable=False),
        sa.Column("invoice_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("is_manual", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tax", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency_code", sa.String(length=3), server_default=sa.text("'USD'"), nullable=False),
        sa.Column("tax_source", sa.String(length=20), server_default=sa.text("'internal'"), nullable=False),
        sa.Column("po_number", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "client_id"],
            ["clients.tenant", "clients.client_id"],
            name=op.f("fk_invoices_tenant_client_id_clients"),
        ),
        sa.PrimaryKeyConstraint("tenant", "invoice_id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("tenant", "invoice_number", name=op.f("uq_invoices_tenant_invoice_number")),
    )
    op.create_table(
        "projects",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("project_name", sa.Text(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "client_id"],
            ["clients.tenant", "clients.client_id"],
            name=op.f("fk_projects_tenant_client_id_clients"),
        ),
        sa.PrimaryKeyConstraint("tenant", "project_id", name=op.f("pk_projects")),
    )
    op.create_table(
        "role_permissions",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column("permission_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "permission_id"],
            ["permissions.tenant", "permissions.permission_id"],
            name=op.f("fk_role_permissions_tenant_permission_id_permissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "role_id"],
            ["roles.tenant", "roles.role_id"],
            name=op.f("fk_role_permissions_tenant_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "role_id", "permission_id", name=op.f("pk_role_permissions")),
    )
    op.create_table(
        "tag_mappings",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("mapping_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tag_id", sa.UUID(), nullable=False),
        sa.Column("tagged_id", sa.UUID(), nullable=False),
        sa.Column("tagged_type", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant", "tag_id"],
            ["tag_definitions.tenant", "tag_definitions.tag_id"],
            name=op.f("fk_tag_mappings_tenant_tag_id_tag_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "mapping_id", name=op.f("pk_tag_mappings")),
        sa.UniqueConstraint("tenant", "tag_id", "tagged_id", name=op.f("uq_tag_mappings_tenant_tag_id_tagged_id")),
    )
    op.create_index("ix_tag_mappings_tagged", "tag_mappings", ["tenant", "tagged_type", "tagged_id"], unique=False)
    op.create_table(
        "user_roles",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "role_id"],
            ["roles.tenant", "roles.role_id"],
            name=op.f("fk_user_roles_tenant_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "user_id"],
            ["users.tenant", "users.user_id"],
            name=op.f("fk_user_roles_tenant_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "user_id", "role_id", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "invoice_charges",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_price", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("net_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_taxable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_discount", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("discount_type", sa.Text(), nullable=True),
        sa.Column("discount_percentage", sa.Integer(), nullable=True),
        sa.Column("applies_to_item_id", sa.UUID(), nullable=True),
        sa.Column("source_quote_item_id", sa.UUID(), nullable=True),
        sa.Column("is_manual", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "invoice_id"],
            ["invoices.tenant", "invoices.invoice_id"],
            name=op.f("fk_invoice_charges_tenant_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "item_id", name=op.f("pk_invoice_charges")),
    )
    op.create_table(
        "quotes",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("quote_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("quote_number", sa.Text(), nullable=True),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("quote_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("parent_quote_id", sa.UUID(), nullable=True),
        sa.Column("po_number", sa.Text(), nullable=True),
        sa.Column("subtotal", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("discount_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tax", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency_code", sa.String(length=3), server_default=sa.text("'USD'"), nullable=False),
        sa.Column("tax_source", sa.String(length=20), server_default=sa.text("'internal'"), nullable=False),
        sa.Column("internal_notes", sa.Text(), nullable=True),
        sa.Column("client_notes", sa.Text(), nullable=True),
        sa.Column("terms_and_conditions", sa.Text(), nullable=True),
        sa.Column("is_template", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("template_id", sa.UUID(), nullable=True),
        sa.Column("converted_contract_id", sa.UUID(), nullable=True),
        sa.Column("converted_invoice_id", sa.UUID(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.UUID(), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status is null or status in ('draft', 'pending_approval', 'approved', 'sent', 'accepted', 'rejected', "
            "'expired', 'converted', 'cancelled', 'superseded', 'archived')",
            name=op.f("ck_quotes_status"),
        ),
        sa.CheckConstraint(
            "tax_source in ('internal', 'external', 'pending_external')", name=op.f("ck_quotes_tax_source")
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "client_id"],
            ["clients.tenant", "clients.client_id"],
            name=op.f("fk_quotes_tenant_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "contact_id"],
            ["contacts.tenant", "contacts.contact_name_id"],
            name=op.f("fk_quotes_tenant_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "converted_contract_id"],
            ["contracts.tenant", "contracts.contract_id"],
            name=op.f("fk_quotes_tenant_converted_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "converted_invoice_id"],
            ["invoices.tenant", "invoices.invoice_id"],
            name=op.f("fk_quotes_tenant_converted_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("tenant", "quote_id", name=op.f("pk_quotes")),
    )
    op.create_index(
        "ix_quotes_client_date",
        "quotes",
        ["tenant", "client_id", sa.literal_column("quote_date DESC"), "quote_id"],
        unique=False,
    )
    op.create_index(
        "ix_quotes_quote_date",
        "quotes",
        ["tenant", "is_template", sa.literal_column("quote_date DESC"), "quote_id"],
        unique=False,
    )
    op.create_index(
        "ix_quotes_status_date",
        "quotes",
        ["tenant", "status", sa.literal_column("quote_date DESC"), "quote_id"],
        unique=False,
    )
    op.create_index(
        "uq_quotes_quote_number",
        "quotes",
        ["tenant", "quote_number"],
        unique=True,
        postgresql_where=sa.text("quote_number is not null"),
    )
    op.create_table(
        "tickets",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("ticket_number", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("contact_name_id", sa.UUID(), nullable=True),
        sa.Column("status_id", sa.UUID(), nullable=True),
        sa.Column("assigned_to", sa.UUID(), nullable=True),
        sa.Column("is_closed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "client_id"],
            ["clients.tenant", "clients.client_id"],
            name=op.f("fk_tickets_tenant_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "contact_name_id"],
            ["contacts.tenant", "contacts.contact_name_id"],
            name=op.f("fk_tickets_tenant_contact_name_id_contacts"),
        ),
        sa.PrimaryKeyConstraint("tenant", "ticket_id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("tenant", "ticket_number", name=op.f("uq_tickets_tenant_ticket_number")),
    )
    op.create_index("ix_tickets_client", "tickets", ["tenant", "client_id"], unique=False)
    op.create_table(
        "interactions",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("interaction_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("type_id", sa.UUID(), nullable=False),
        sa.Column("contact_name_id", sa.UUID(), nullable=True),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=True),
        sa.Column("project_id", sa.UUID(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("interaction_date", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("status_id", sa.UUID(), nullable=True),
        sa.Column("visibility", sa.Text(), server_default=sa.text("'internal'"), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.CheckConstraint("visibility in ('internal', 'client_visible')", name=op.f("ck_interactions_visibility")),
        sa.CheckConstraint("duration is null or duration >= 0", name=op.f("ck_interactions_duration")),
        sa.ForeignKeyConstraint(
            ["tenant", "client_id"],
            ["clients.tenant", "clients.client_id"],
            name=op.f("fk_interactions_tenant_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "contact_name_id"],
            ["contacts.tenant", "contacts.contact_name_id"],
            name=op.f("fk_interactions_tenant_contact_name_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "project_id"],
            ["projects.tenant", "projects.project_id"],
            name=op.f("fk_interactions_tenant_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "status_id"],
            ["statuses.tenant", "statuses.status_id"],
            name=op.f("fk_interactions_tenant_status_id_statuses"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "ticket_id"],
            ["tickets.tenant", "tickets.ticket_id"],
            name=op.f("fk_interactions_tenant_ticket_id_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "user_id"],
            ["users.tenant", "users.user_id"],
            name=op.f("fk_interactions_tenant_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant", "interaction_id", name=op.f("pk_interactions")),
    )
    op.create_index(
        "ix_interactions_client_date",
        "interactions",
        [
            "tenant",
            "client_id",
            sa.literal_column("interaction_date DESC"),
            sa.literal_column("interaction_id DESC"),
        ],
        unique=False,
    )
    op.create_index(
        "ix_interactions_contact_date",
        "interactions",
        [
            "tenant",
            "contact_name_id",
            sa.literal_column("interaction_date DESC"),
            sa.literal_column("interaction_id DESC"),
        ],
        unique=False,
    )
    op.create_index(
        "ix_interactions_date",
        "interactions",
        ["tenant", sa.literal_column("interaction_date DESC"), sa.literal_column("interaction_id DESC")],
        unique=False,
    )
    op.create_index("ix_interactions_project", "interactions", ["tenant", "project_id"], unique=False)
    op.create_index(
        "ix_interactions_status_date",
        "interactions",
        [
            "tenant",
            "status_id",
            sa.literal_column("interaction_date DESC"),
            sa.literal_column("interaction_id DESC"),
        ],
        unique=False,
    )
    op.create_index(
        "ix_interactions_ticket_date",
        "interactions",
        [
            "tenant",
            "ticket_id",
            sa.literal_column("interaction_date DESC"),
            sa.literal_column("interaction_id DESC"),
        ],
        unique=False,
    )
    op.create_index(
        "ix_interactions_type_date",
        "interactions",
        [
            "tenant",
            "type_id",
            sa.literal_column("interaction_date DESC"),
            sa.literal_column("interaction_id DESC"),
        ],
        unique=False,
    )
    op.create_index(
        "ix_interactions_user_date",
        "interactions",
        [
            "tenant",
            "user_id",
            sa.literal_column("interaction_date DESC"),
            sa.literal_column("interaction_id DESC"),
        ],
        unique=False,
    )
    op.create_index("ix_interactions_visibility", "interactions", ["tenant", "visibility"], unique=False)
    op.create_table(
        "quote_activities",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("activity_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("quote_id", sa.UUID(), nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("performed_by", sa.UUID(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "quote_id"],
            ["quotes.tenant", "quotes.quote_id"],
            name=op.f("fk_quote_activities_tenant_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "activity_id", name=op.f("pk_quote_activities")),
    )
    op.create_index("ix_quote_activities_quote", "quote_activities", ["tenant", "quote_id", "created_at"], unique=False)
    op.create_table(
        "quote_items",
        sa.Column("tenant", sa.UUID(), nullable=False),
        sa.Column("quote_item_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("quote_id", sa.UUID(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=True),
        sa.Column("service_item_kind", sa.Text(), nullable=True),
        sa.Column("service_name", sa.Text(), nullable=True),
        sa.Column("service_sku", sa.Text(), nullable=True),
        sa.Column("billing_method", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_price", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("net_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("unit_of_measure", sa.Text(), nullable=True),
        sa.Column("display_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("phase", sa.Text(), nullable=True),
        sa.Column("is_optional", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_selected", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_recurring", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("billing_frequency", sa.Text(), nullable=True),
        sa.Column("is_discount", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("discount_type", sa.Text(), nullable=True),
        sa.Column("discount_percentage", sa.Integer(), nullable=True),
        sa.Column("applies_to_item_id", sa.UUID(), nullable=True),
        sa.Column("applies_to_service_id", sa.UUID(), nullable=True),
        sa.Column("is_taxable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("tax_region", sa.Text(), nullable=True),
        sa.Column("tax_rate", sa.Integer(), nullable=True),
        sa.Column("cost", sa.BigInteger(), nullable=True),
        sa.Column("cost_currency", sa.String(length=3), nullable=True),
        sa.Column("location_id", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "billing_method is null or billing_method in ('fixed', 'hourly', 'usage', 'per_unit')",
            name=op.f("ck_quote_items_billing_method"),
        ),
        sa.CheckConstraint(
            "discount_type is null or discount_type in ('percentage', 'fixed')",
            name=op.f("ck_quote_items_discount_type"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant", "quote_id"],
            ["quotes.tenant", "quotes.quote_id"],
            name=op.f("fk_quote_items_tenant_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "quote_item_id", name=op.f("pk_quote_items")),
    )
    op.create_index("ix_quote_items_quote", "quote_items", ["tenant", "quote_id", "display_order"], unique=False)
    secure_tenant_tables()
    create_interaction_type_trigger()
    seed_system_interaction_types()


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS validate_interaction_type_trigger ON interactions")
    op.execute("DROP FUNCTION IF EXISTS validate_interaction_type()")
    op.drop_index("ix_quote_items_quote", table_name="quote_items")
    op.drop_table("quote_items")
    op.drop_index("ix_quote_activities_quote", table_name="quote_activities")
    op.drop_table("quote_activities")
    op.drop_index("ix_interactions_visibility", table_name="interactions")
    op.drop_index("ix_interactions_user_date", table_name="interactions")
    op.drop_index("ix_interactions_type_date", table_name="interactions")
    op.drop_index("ix_interactions_ticket_date", table_name="interactions")
    op.drop_index("ix_interactions_status_date", table_name="interactions")
    op.drop_index("ix_interactions_project", table_name="interactions")
    op.drop_index("ix_interactions_date", table_name="interactions")
    op.drop_index("ix_interactions_contact_date", table_name="interactions")
    op.drop_index("ix_interactions_client_date", table_name="interactions")
    op.drop_table("interactions")
    op.drop_index("ix_tickets_client", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("uq_quotes_quote_number", table_name="quotes", postgresql_where=sa.text("quote_number is not null"))
    op.drop_index("ix_quotes_status_date", table_name="quotes")
    op.drop_index("ix_quotes_quote_date", table_name="quotes")
    op.drop_index("ix_quotes_client_date", table_name="quotes")
    op.drop_table("quotes")
    op.drop_table("invoice_charges")
    op.drop_table("user_roles")
    op.drop_index("ix_tag_mappings_tagged", table_name="tag_mappings")
    op.drop_table("tag_mappings")
    op.drop_table("role_permissions")
    op.drop_table("projects")
    op.drop_table("invoices")
    op.drop_table("interaction_types")
    op.drop_index("ix_document_associations_entity", table_name="document_associations")
    op.drop_table("document_associations")
    op.drop_table("contract_lines")
    op.drop_index("ix_contacts_client", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("client_contracts")
    op.drop_index(
        "ix_workflow_event_outbox_pending",
        table_name="workflow_event_outbox",
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.drop_table("workflow_event_outbox")
    op.drop_index("ix_workflow_action_invocations_run", table_name="workflow_action_invocations")
    op.drop_table("workflow_action_invocations")
    op.drop_table("users")
    op.drop_table("tenants")
    op.drop_table("tenant_settings")
    op.drop_table("tag_definitions")
    op.drop_table("system_interaction_types")
    op.drop_index("uq_statuses_type_order", table_name="statuses", postgresql_where=sa.text("status_type <> 'ticket'"))
    op.drop_index("uq_statuses_type_name", table_name="statuses", postgresql_where=sa.text("status_type <> 'ticket'"))
    op.drop_table("statuses")
    op.drop_table("roles")
    op.drop_index("ix_permissions_resource_action", table_name="permissions")
    op.drop_table("permissions")
    op.drop_table("next_number")
    op.drop_index("ix_email_sending_logs_entity", table_name="email_sending_logs")
    op.drop_table("email_sending_logs")
    op.drop_table("documents")
    op.drop_table("contracts")
    op.drop_table("clients")
    op.drop_index("ix_audit_logs_timestamp", table_name="audit_logs")
    op.drop_index("ix_audit_logs_table_record", table_name="audit_logs")
    op.drop_table("audit_logs")
