"""Quotes and what they convert into: contracts, contract lines, client contracts, invoices, invoice charges.

Money columns are integer cents (bigint), as in AlgaPSA.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import Base, Cents, CreatedAt, EmptyJson, IdPk, TenantPk
from crm_core.db.models.columns import Timestamps, tenant_fk

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


class Quote(Timestamps, Base):
    __tablename__ = "quotes"
    __table_args__ = (
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

    tenant: Mapped[TenantPk]
    quote_id: Mapped[IdPk]
    quote_number: Mapped[str | None]
    client_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    title: Mapped[str]
    description: Mapped[str | None]
    quote_date: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    status: Mapped[str | None]
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    parent_quote_id: Mapped[uuid.UUID | None]
    po_number: Mapped[str | None]
    subtotal: Mapped[Cents]
    discount_total: Mapped[Cents]
    tax: Mapped[Cents]
    total_amount: Mapped[Cents]
    currency_code: Mapped[str] = mapped_column(String(3), server_default=text("'USD'"))
    tax_source: Mapped[str] = mapped_column(String(20), server_default=text("'internal'"))
    internal_notes: Mapped[str | None]
    client_notes: Mapped[str | None]
    terms_and_conditions: Mapped[str | None]
    is_template: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    template_id: Mapped[uuid.UUID | None]
    converted_contract_id: Mapped[uuid.UUID | None]
    converted_invoice_id: Mapped[uuid.UUID | None]
    sent_at: Mapped[datetime | None]
    viewed_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[uuid.UUID | None]
    rejected_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None]
    cancelled_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    updated_by: Mapped[uuid.UUID | None]


class QuoteItem(Timestamps, Base):
    __tablename__ = "quote_items"
    __table_args__ = (
        tenant_fk("quote_id", "quotes", ondelete="CASCADE"),
        CheckConstraint("discount_type is null or discount_type in ('percentage', 'fixed')", name="discount_type"),
        CheckConstraint(
            "billing_method is null or billing_method in ('fixed', 'hourly', 'usage', 'per_unit')",
            name="billing_method",
        ),
        Index("ix_quote_items_quote", "tenant", "quote_id", "display_order"),
    )

    tenant: Mapped[TenantPk]
    quote_item_id: Mapped[IdPk]
    quote_id: Mapped[uuid.UUID]
    service_id: Mapped[uuid.UUID | None]
    service_item_kind: Mapped[str | None]
    service_name: Mapped[str | None]
    service_sku: Mapped[str | None]
    billing_method: Mapped[str | None]
    description: Mapped[str]
    quantity: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    unit_price: Mapped[Cents]
    total_price: Mapped[Cents]
    tax_amount: Mapped[Cents]
    net_amount: Mapped[Cents]
    unit_of_measure: Mapped[str | None]
    display_order: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    phase: Mapped[str | None]
    is_optional: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_selected: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_recurring: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    billing_frequency: Mapped[str | None]
    is_discount: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    discount_type: Mapped[str | None]
    discount_percentage: Mapped[int | None] = mapped_column(Integer)
    applies_to_item_id: Mapped[uuid.UUID | None]
    applies_to_service_id: Mapped[uuid.UUID | None]
    is_taxable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    tax_region: Mapped[str | None]
    tax_rate: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[int | None] = mapped_column(BigInteger)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    location_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID | None]
    updated_by: Mapped[uuid.UUID | None]


class QuoteActivity(Base):
    __tablename__ = "quote_activities"
    __table_args__ = (
        tenant_fk("quote_id", "quotes", ondelete="CASCADE"),
        Index("ix_quote_activities_quote", "tenant", "quote_id", "created_at"),
    )

    tenant: Mapped[TenantPk]
    activity_id: Mapped[IdPk]
    quote_id: Mapped[uuid.UUID]
    activity_type: Mapped[str]
    description: Mapped[str]
    performed_by: Mapped[uuid.UUID | None]
    metadata_: Mapped[EmptyJson] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class Contract(Timestamps, Base):
    __tablename__ = "contracts"

    tenant: Mapped[TenantPk]
    contract_id: Mapped[IdPk]
    contract_name: Mapped[str]
    contract_description: Mapped[str | None]
    billing_frequency: Mapped[str] = mapped_column(server_default=text("'monthly'"))
    currency_code: Mapped[str] = mapped_column(String(3), server_default=text("'USD'"))
    status: Mapped[str] = mapped_column(server_default=text("'draft'"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    owner_client_id: Mapped[uuid.UUID | None]
    template_metadata: Mapped[dict[str, Any] | None]


class ContractLine(Base):
    __tablename__ = "contract_lines"
    __table_args__ = (
        tenant_fk("contract_id", "contracts", ondelete="CASCADE"),
        CheckConstraint("contract_line_type in ('Fixed', 'Hourly', 'Usage')", name="contract_line_type"),
        CheckConstraint("billing_timing in ('advance', 'arrears')", name="billing_timing"),
    )

    tenant: Mapped[TenantPk]
    contract_line_id: Mapped[IdPk]
    contract_id: Mapped[uuid.UUID]
    contract_line_name: Mapped[str]
    description: Mapped[str | None]
    contract_line_type: Mapped[str]
    billing_frequency: Mapped[str] = mapped_column(server_default=text("'monthly'"))
    billing_timing: Mapped[str] = mapped_column(server_default=text("'advance'"))
    service_id: Mapped[uuid.UUID | None]
    quantity: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    custom_rate: Mapped[int | None] = mapped_column(BigInteger)
    minimum_billable_time: Mapped[int | None] = mapped_column(Integer)
    round_up_to_nearest: Mapped[int | None] = mapped_column(Integer)
    display_order: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    source_quote_item_id: Mapped[uuid.UUID | None]
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[CreatedAt]


class ClientContract(Base):
    __tablename__ = "client_contracts"
    __table_args__ = (
        tenant_fk("client_id", "clients"),
        tenant_fk("contract_id", "contracts"),
    )

    tenant: Mapped[TenantPk]
    client_contract_id: Mapped[IdPk]
    client_id: Mapped[uuid.UUID]
    contract_id: Mapped[uuid.UUID]
    start_date: Mapped[datetime]
    end_date: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[CreatedAt]


class Invoice(Timestamps, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant", "invoice_number"),
        tenant_fk("client_id", "clients"),
    )

    tenant: Mapped[TenantPk]
    invoice_id: Mapped[IdPk]
    client_id: Mapped[uuid.UUID]
    invoice_number: Mapped[str]
    invoice_date: Mapped[datetime]
    due_date: Mapped[datetime]
    status: Mapped[str] = mapped_column(server_default=text("'draft'"))
    is_manual: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    subtotal: Mapped[Cents]
    tax: Mapped[Cents]
    total_amount: Mapped[Cents]
    currency_code: Mapped[str] = mapped_column(String(3), server_default=text("'USD'"))
    tax_source: Mapped[str] = mapped_column(String(20), server_default=text("'internal'"))
    po_number: Mapped[str | None]


class InvoiceCharge(Base):
    __tablename__ = "invoice_charges"
    __table_args__ = (tenant_fk("invoice_id", "invoices", ondelete="CASCADE"),)

    tenant: Mapped[TenantPk]
    item_id: Mapped[IdPk]
    invoice_id: Mapped[uuid.UUID]
    service_id: Mapped[uuid.UUID | None]
    description: Mapped[str]
    quantity: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    unit_price: Mapped[Cents]
    total_price: Mapped[Cents]
    tax_amount: Mapped[Cents]
    net_amount: Mapped[Cents]
    is_taxable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_discount: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    discount_type: Mapped[str | None]
    discount_percentage: Mapped[int | None] = mapped_column(Integer)
    applies_to_item_id: Mapped[uuid.UUID | None]
    source_quote_item_id: Mapped[uuid.UUID | None]
    is_manual: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[CreatedAt]
