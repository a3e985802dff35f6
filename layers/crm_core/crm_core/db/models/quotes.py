"""Quotes: the quote, its items and its activity history.

Money columns are integer cents (bigint), as in AlgaPSA.
"""

from __future__ import annotations

from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from crm_core.db.base import cents, created_at, empty_json, id_pk, metadata, tenant_pk, timestamps
from crm_core.db.models.columns import tenant_fk

# The statuses of the quotes CHECK constraint, in lifecycle order (null is a template's).
QuoteStatus = Literal[
    "draft",
    "pending_approval",
    "approved",
    "sent",
    "accepted",
    "rejected",
    "expired",
    "converted",
    "cancelled",
    "superseded",
    "archived",
]
QUOTE_STATUSES: tuple[str, ...] = get_args(QuoteStatus)
_QUOTE_STATUS_SQL = ", ".join(f"'{s}'" for s in QUOTE_STATUSES)


Quote = Table(
    "quotes",
    metadata,
    tenant_pk(),
    id_pk("quote_id"),
    Column("quote_number", Text),
    Column("client_id", UUID),
    Column("contact_id", UUID),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("quote_date", DateTime(timezone=True)),
    Column("valid_until", DateTime(timezone=True)),
    Column("status", Text),
    Column("version", Integer, server_default=text("1"), nullable=False),
    Column("parent_quote_id", UUID),
    Column("po_number", Text),
    cents("subtotal"),
    cents("discount_total"),
    cents("tax"),
    cents("total_amount"),
    Column("currency_code", String(3), server_default=text("'USD'"), nullable=False),
    Column("tax_source", String(20), server_default=text("'internal'"), nullable=False),
    Column("internal_notes", Text),
    Column("client_notes", Text),
    Column("terms_and_conditions", Text),
    Column("is_template", Boolean, server_default=text("false"), nullable=False),
    Column("template_id", UUID),
    Column("converted_contract_id", UUID),
    Column("converted_invoice_id", UUID),
    Column("sent_at", DateTime(timezone=True)),
    Column("viewed_at", DateTime(timezone=True)),
    Column("accepted_at", DateTime(timezone=True)),
    Column("accepted_by", UUID),
    Column("rejected_at", DateTime(timezone=True)),
    Column("rejection_reason", Text),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("expired_at", DateTime(timezone=True)),
    Column("converted_at", DateTime(timezone=True)),
    Column("archived_at", DateTime(timezone=True)),
    Column("created_by", UUID),
    Column("updated_by", UUID),
    *timestamps(),
    CheckConstraint(f"status is null or status in ({_QUOTE_STATUS_SQL})", name="status"),
    CheckConstraint("tax_source in ('internal', 'external', 'pending_external')", name="tax_source"),
    Index(
        "uq_quotes_quote_number",
        "tenant",
        "quote_number",
        unique=True,
        postgresql_where=text("quote_number is not null"),
    ),
    tenant_fk("client_id", "clients"),
    tenant_fk("contact_id", "contacts", "contact_name_id"),
    tenant_fk("converted_contract_id", "contracts", "contract_id"),
    tenant_fk("converted_invoice_id", "invoices", "invoice_id"),
    Index("ix_quotes_quote_date", "tenant", "is_template", text("quote_date DESC"), "quote_id"),
    Index("ix_quotes_client_date", "tenant", "client_id", text("quote_date DESC"), "quote_id"),
    Index("ix_quotes_status_date", "tenant", "status", text("quote_date DESC"), "quote_id"),
    # crm.find_quotes: each sort key in each order (migration 0003)
    Index("ix_quotes_quote_date_asc", "tenant", "is_template", "quote_date", "quote_id"),
    Index("ix_quotes_total_desc", "tenant", "is_template", text("total_amount DESC"), "quote_id"),
    Index("ix_quotes_total_asc", "tenant", "is_template", "total_amount", "quote_id"),
    Index("ix_quotes_status_desc", "tenant", "is_template", text("status DESC"), "quote_id"),
    Index("ix_quotes_status_asc", "tenant", "is_template", "status", "quote_id"),
    Index("ix_quotes_created_desc", "tenant", "is_template", text("created_at DESC"), "quote_id"),
    Index("ix_quotes_created_asc", "tenant", "is_template", "created_at", "quote_id"),
)


QuoteItem = Table(
    "quote_items",
    metadata,
    tenant_pk(),
    id_pk("quote_item_id"),
    Column("quote_id", UUID, nullable=False),
    Column("service_id", UUID),
    Column("service_item_kind", Text),
    Column("service_name", Text),
    Column("service_sku", Text),
    Column("billing_method", Text),
    Column("description", Text, nullable=False),
    Column("quantity", BigInteger, server_default=text("1"), nullable=False),
    cents("unit_price"),
    cents("total_price"),
    cents("tax_amount"),
    cents("net_amount"),
    Column("unit_of_measure", Text),
    Column("display_order", Integer, server_default=text("0"), nullable=False),
    Column("phase", Text),
    Column("is_optional", Boolean, server_default=text("false"), nullable=False),
    Column("is_selected", Boolean, server_default=text("true"), nullable=False),
    Column("is_recurring", Boolean, server_default=text("false"), nullable=False),
    Column("billing_frequency", Text),
    Column("is_discount", Boolean, server_default=text("false"), nullable=False),
    Column("discount_type", Text),
    Column("discount_percentage", Integer),
    Column("applies_to_item_id", UUID),
    Column("applies_to_service_id", UUID),
    Column("is_taxable", Boolean, server_default=text("true"), nullable=False),
    Column("tax_region", Text),
    Column("tax_rate", Integer),
    Column("cost", BigInteger),
    Column("cost_currency", String(3)),
    Column("location_id", UUID),
    Column("created_by", UUID),
    Column("updated_by", UUID),
    *timestamps(),
    tenant_fk("quote_id", "quotes", ondelete="CASCADE"),
    CheckConstraint("discount_type is null or discount_type in ('percentage', 'fixed')", name="discount_type"),
    CheckConstraint(
        "billing_method is null or billing_method in ('fixed', 'hourly', 'usage', 'per_unit')",
        name="billing_method",
    ),
    Index("ix_quote_items_quote", "tenant", "quote_id", "display_order"),
)


QuoteActivity = Table(
    "quote_activities",
    metadata,
    tenant_pk(),
    id_pk("activity_id"),
    Column("quote_id", UUID, nullable=False),
    Column("activity_type", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("performed_by", UUID),
    empty_json("metadata"),
    created_at("created_at"),
    tenant_fk("quote_id", "quotes", ondelete="CASCADE"),
    Index("ix_quote_activities_quote", "tenant", "quote_id", "created_at"),
)
