"""What quotes convert into: contracts, contract lines, client contracts, invoices, invoice charges.

Money columns are integer cents (bigint), as in AlgaPSA.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_core.db.base import cents, created_at, id_pk, metadata, tenant_pk, timestamps
from crm_core.db.models.columns import tenant_fk

Contract = Table(
    "contracts",
    metadata,
    tenant_pk(),
    id_pk("contract_id"),
    Column("contract_name", Text, nullable=False),
    Column("contract_description", Text),
    Column("billing_frequency", Text, server_default=text("'monthly'"), nullable=False),
    Column("currency_code", String(3), server_default=text("'USD'"), nullable=False),
    Column("status", Text, server_default=text("'draft'"), nullable=False),
    Column("is_active", Boolean, server_default=text("false"), nullable=False),
    Column("owner_client_id", UUID),
    Column("template_metadata", JSONB),
    *timestamps(),
)


ContractLine = Table(
    "contract_lines",
    metadata,
    tenant_pk(),
    id_pk("contract_line_id"),
    Column("contract_id", UUID, nullable=False),
    Column("contract_line_name", Text, nullable=False),
    Column("description", Text),
    Column("contract_line_type", Text, nullable=False),
    Column("billing_frequency", Text, server_default=text("'monthly'"), nullable=False),
    Column("billing_timing", Text, server_default=text("'advance'"), nullable=False),
    Column("service_id", UUID),
    Column("quantity", BigInteger, server_default=text("1"), nullable=False),
    Column("custom_rate", BigInteger),
    Column("minimum_billable_time", Integer),
    Column("round_up_to_nearest", Integer),
    Column("display_order", Integer, server_default=text("0"), nullable=False),
    Column("source_quote_item_id", UUID),
    Column("is_active", Boolean, server_default=text("false"), nullable=False),
    created_at("created_at"),
    tenant_fk("contract_id", "contracts", ondelete="CASCADE"),
    CheckConstraint("contract_line_type in ('Fixed', 'Hourly', 'Usage')", name="contract_line_type"),
    CheckConstraint("billing_timing in ('advance', 'arrears')", name="billing_timing"),
)


ClientContract = Table(
    "client_contracts",
    metadata,
    tenant_pk(),
    id_pk("client_contract_id"),
    Column("client_id", UUID, nullable=False),
    Column("contract_id", UUID, nullable=False),
    Column("start_date", DateTime(timezone=True), nullable=False),
    Column("end_date", DateTime(timezone=True)),
    Column("is_active", Boolean, server_default=text("true"), nullable=False),
    created_at("created_at"),
    tenant_fk("client_id", "clients"),
    tenant_fk("contract_id", "contracts"),
)


Invoice = Table(
    "invoices",
    metadata,
    tenant_pk(),
    id_pk("invoice_id"),
    Column("client_id", UUID, nullable=False),
    Column("invoice_number", Text, nullable=False),
    Column("invoice_date", DateTime(timezone=True), nullable=False),
    Column("due_date", DateTime(timezone=True), nullable=False),
    Column("status", Text, server_default=text("'draft'"), nullable=False),
    Column("is_manual", Boolean, server_default=text("true"), nullable=False),
    cents("subtotal"),
    cents("tax"),
    cents("total_amount"),
    Column("currency_code", String(3), server_default=text("'USD'"), nullable=False),
    Column("tax_source", String(20), server_default=text("'internal'"), nullable=False),
    Column("po_number", Text),
    *timestamps(),
    UniqueConstraint("tenant", "invoice_number"),
    tenant_fk("client_id", "clients"),
)


InvoiceCharge = Table(
    "invoice_charges",
    metadata,
    tenant_pk(),
    id_pk("item_id"),
    Column("invoice_id", UUID, nullable=False),
    Column("service_id", UUID),
    Column("description", Text, nullable=False),
    Column("quantity", BigInteger, server_default=text("1"), nullable=False),
    cents("unit_price"),
    cents("total_price"),
    cents("tax_amount"),
    cents("net_amount"),
    Column("is_taxable", Boolean, server_default=text("true"), nullable=False),
    Column("is_discount", Boolean, server_default=text("false"), nullable=False),
    Column("discount_type", Text),
    Column("discount_percentage", Integer),
    Column("applies_to_item_id", UUID),
    Column("source_quote_item_id", UUID),
    Column("is_manual", Boolean, server_default=text("true"), nullable=False),
    created_at("created_at"),
    tenant_fk("invoice_id", "invoices", ondelete="CASCADE"),
)
