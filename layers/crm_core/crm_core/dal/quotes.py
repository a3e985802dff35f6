"""Quotes: loading a quote with what sending it needs, its items, status changes, quote activities, filed
documents and the email log.

Money is integer cents (bigint columns), as AlgaPSA stores it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Uuid,
    and_,
    bindparam,
    cast,
    column,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.schema import Table

from crm_core.dal.writes import StatementSink, insert_row, update_row
from crm_core.db.models import (
    Client,
    Contact,
    Document,
    DocumentAssociation,
    EmailSendingLog,
    Quote,
    QuoteActivity,
    QuoteItem,
    Tenant,
    TenantSettings,
)
from crm_core.db.prepared import Prepared
from crm_core.db.shapes import shape_cache


def cast_table(table: object) -> Table:
    """A mapped class's ``__table__`` as the Table it is (the ORM types it as a FromClause)."""
    assert isinstance(table, Table)
    return table


@dataclass(frozen=True)
class QuoteForSend:
    """A quote locked for a status change, with its client, contact, tenant name and approval setting."""

    quote_id: uuid.UUID
    quote_number: str | None
    title: str
    description: str | None
    status: str | None
    is_template: bool
    client_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    quote_date: datetime | None
    valid_until: datetime | None
    sent_at: datetime | None
    currency_code: str
    tax_source: str
    client_notes: str | None
    terms_and_conditions: str | None
    client_name: str | None
    billing_email: str | None
    contact_name: str | None
    contact_email: str | None
    tenant_name: str | None
    approval_required: bool


@dataclass(frozen=True)
class QuoteItemRow:
    """A quote item's columns: what pricing, the PDF and conversion need, and what the quote actions return
    (amounts in integer cents)."""

    quote_item_id: uuid.UUID
    quote_id: uuid.UUID
    service_id: uuid.UUID | None
    service_item_kind: str | None
    service_name: str | None
    service_sku: str | None
    billing_method: str | None
    description: str
    quantity: int
    unit_price: int
    total_price: int
    tax_amount: int
    net_amount: int
    unit_of_measure: str | None
    display_order: int
    phase: str | None
    is_optional: bool
    is_selected: bool
    is_recurring: bool
    billing_frequency: str | None
    is_discount: bool
    discount_type: str | None
    discount_percentage: int | None
    applies_to_item_id: uuid.UUID | None
    applies_to_service_id: uuid.UUID | None
    is_taxable: bool
    tax_region: str | None
    tax_rate: int | None
    location_id: uuid.UUID | None
    cost: int | None
    cost_currency: str | None


ITEM_COLUMNS = tuple(field.name for field in fields(QuoteItemRow))


def lock_quote_for_send(connection: Connection, tenant_id: uuid.UUID, quote_id: uuid.UUID) -> QuoteForSend | None:
    """The quote with what a send needs, its row locked until the transaction ends; None when not in the tenant."""
    row = _LOCK_QUOTE_FOR_SEND.first(connection, tenant=tenant_id, quote_id=quote_id)
    if row is None:
        return None
    fields = row._asdict()
    fields["approval_required"] = fields["approval_required"] is True
    return QuoteForSend(**fields)


def _quote_for_send_statement() -> Prepared:
    approval = TenantSettings.c.settings["billing"]["quotes"]["approvalRequired"].as_boolean()
    return Prepared(
        select(
            Quote.c.quote_id,
            Quote.c.quote_number,
            Quote.c.title,
            Quote.c.description,
            Quote.c.status,
            Quote.c.is_template,
            Quote.c.client_id,
            Quote.c.contact_id,
            Quote.c.quote_date,
            Quote.c.valid_until,
            Quote.c.sent_at,
            Quote.c.currency_code,
            Quote.c.tax_source,
            Quote.c.client_notes,
            Quote.c.terms_and_conditions,
            Client.c.client_name,
            Client.c.billing_email,
            Contact.c.full_name.label("contact_name"),
            Contact.c.email.label("contact_email"),
            Tenant.c.client_name.label("tenant_name"),
            approval.label("approval_required"),
        )
        .outerjoin(Client, and_(Client.c.tenant == Quote.c.tenant, Client.c.client_id == Quote.c.client_id))
        .outerjoin(Contact, and_(Contact.c.tenant == Quote.c.tenant, Contact.c.contact_name_id == Quote.c.contact_id))
        .outerjoin(Tenant, Tenant.c.tenant == Quote.c.tenant)
        .outerjoin(TenantSettings, TenantSettings.c.tenant == Quote.c.tenant)
        .where(Quote.c.tenant == bindparam("tenant"), Quote.c.quote_id == bindparam("quote_id"))
        .with_for_update(of=Quote)
    )


_LOCK_QUOTE_FOR_SEND = _quote_for_send_statement()


def quote_items(connection: Connection, tenant_id: uuid.UUID, quote_id: uuid.UUID) -> list[QuoteItemRow]:
    """The quote's items in display order."""
    return [QuoteItemRow(*row) for row in _QUOTE_ITEMS.all(connection, tenant=tenant_id, quote_id=quote_id)]


_QUOTE_ITEMS = Prepared(
    select(*(QuoteItem.c[name] for name in ITEM_COLUMNS))
    .where(QuoteItem.c.tenant == bindparam("tenant"), QuoteItem.c.quote_id == bindparam("quote_id"))
    .order_by(QuoteItem.c.display_order, QuoteItem.c.created_at, QuoteItem.c.quote_item_id)
)


def update_quote(connection: StatementSink, tenant_id: uuid.UUID, quote_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Set ``values`` on the quote (status, timestamps, totals)."""
    update_row(connection, Quote, {"tenant": tenant_id, "quote_id": quote_id}, values)


def insert_quote_activity(
    connection: StatementSink,
    tenant_id: uuid.UUID,
    quote_id: uuid.UUID,
    *,
    activity_type: str,
    description: str,
    performed_by: uuid.UUID | None,
    metadata: dict[str, Any],
    now: datetime,
) -> uuid.UUID:
    """A ``quote_activities`` row; returns its id."""
    activity_id = uuid.uuid4()
    insert_row(
        connection,
        QuoteActivity,
        {
            "tenant": tenant_id,
            "activity_id": activity_id,
            "quote_id": quote_id,
            "activity_type": activity_type,
            "description": description,
            "performed_by": performed_by,
            "metadata": metadata,
            "created_at": now,
        },
    )
    return activity_id


def update_quote_activity(
    connection: StatementSink,
    tenant_id: uuid.UUID,
    activity_id: uuid.UUID,
    *,
    description: str,
    metadata: dict[str, Any],
) -> None:
    """Replace the activity's description and merge ``metadata`` into its metadata."""
    connection.execute(
        update(QuoteActivity)
        .where(QuoteActivity.c.tenant == tenant_id, QuoteActivity.c.activity_id == activity_id)
        .values(
            description=description,
            metadata=QuoteActivity.c.metadata.op("||")(cast(type_coerce(metadata, JSONB), JSONB)),
        )
    )


def file_quote_document(
    connection: StatementSink,
    tenant_id: uuid.UUID,
    quote_id: uuid.UUID,
    *,
    name: str,
    bucket: str,
    key: str,
    size: int,
    created_by: uuid.UUID,
    now: datetime,
) -> uuid.UUID:
    """A client-visible ``documents`` row in ``/Quotes/Generated`` associated with the quote; returns its id."""
    document_id = uuid.uuid4()
    insert_row(
        connection,
        Document,
        {
            "tenant": tenant_id,
            "document_id": document_id,
            "document_name": name,
            "folder_path": "/Quotes/Generated",
            "mime_type": "application/pdf",
            "file_size": size,
            "storage_bucket": bucket,
            "storage_key": key,
            "is_client_visible": True,
            "created_by": created_by,
            "created_at": now,
        },
    )
    insert_row(
        connection,
        DocumentAssociation,
        {
            "tenant": tenant_id,
            "association_id": uuid.uuid4(),
            "document_id": document_id,
            "entity_id": quote_id,
            "entity_type": "quote",
            "created_at": now,
        },
    )
    return document_id


def insert_email_log(
    connection: StatementSink,
    tenant_id: uuid.UUID,
    *,
    delivery_key: str,
    sender: str,
    recipients: list[str],
    subject: str,
    entity_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    now: datetime,
) -> uuid.UUID:
    """An ``email_sending_logs`` row with status ``pending``; returns its id."""
    log_id = uuid.uuid4()
    insert_row(
        connection,
        EmailSendingLog,
        {
            "tenant": tenant_id,
            "id": log_id,
            "delivery_key": delivery_key,
            "from_address": sender,
            "to_addresses": recipients,
            "subject": subject,
            "status": "pending",
            "entity_type": "quote",
            "entity_id": entity_id,
            "contact_id": contact_id,
            "created_at": now,
        },
    )
    return log_id


def update_email_log(
    connection: StatementSink,
    tenant_id: uuid.UUID,
    log_id: uuid.UUID,
    *,
    status: str,
    message_id: str | None,
    error_message: str | None,
    attempts: int,
    sent_at: datetime | None,
) -> None:
    """Record how sending went: ``sent`` (with the message id), ``pending`` (retrying) or ``failed``."""
    update_row(
        connection,
        EmailSendingLog,
        {"tenant": tenant_id, "id": log_id},
        {
            "status": status,
            "message_id": message_id,
            "error_message": error_message,
            "attempts": attempts,
            "sent_at": sent_at,
        },
    )


def store_totals(
    connection: Connection,
    tenant_id: uuid.UUID,
    quote_id: uuid.UUID,
    totals: dict[str, int],
    lines: list[dict[str, Any]],
) -> None:
    """Write the quote's totals (``subtotal``, ``discount_total``, ``tax``, ``total_amount``) and each item's
    ``total_price``, ``tax_amount`` and ``net_amount`` (``lines``: dicts with ``quote_item_id`` and those three):
    one statement whatever the number of items (the items' UPDATE reads its values from a JSON recordset)."""
    line_values = [
        {
            "item_id": str(line["quote_item_id"]),
            "total": line["total_price"],
            "tax": line["tax_amount"],
            "net": line["net_amount"],
        }
        for line in lines
    ]
    statement = _store_totals_statement(tuple(totals), with_lines=bool(lines))
    statement.all(connection, totals, tenant=tenant_id, quote_id=quote_id, lines=line_values)


@shape_cache(maxsize=4)
def _store_totals_statement(columns: tuple[str, ...], *, with_lines: bool) -> Prepared:
    quote_update = (
        update(Quote)
        .where(Quote.c.tenant == bindparam("tenant"), Quote.c.quote_id == bindparam("quote_id"))
        .values({name: bindparam(name, type_=Quote.c[name].type) for name in columns})
    )
    if not with_lines:
        return Prepared(quote_update)
    values = (
        func.jsonb_to_recordset(bindparam("lines", type_=JSONB))
        .table_valued(
            column("item_id", Uuid), column("total", BigInteger), column("tax", BigInteger), column("net", BigInteger)
        )
        .render_derived(name="line", with_types=True)
    )
    items = cast_table(QuoteItem)
    return Prepared(
        update(items)
        .where(
            items.c.tenant == bindparam("tenant"),
            items.c.quote_id == bindparam("quote_id"),
            items.c.quote_item_id == values.c.item_id,
        )
        .values(total_price=values.c.total, tax_amount=values.c.tax, net_amount=values.c.net)
        .add_cte(quote_update.cte("quote_totals"))
    )
