"""A quote as the quote actions read it: its own columns and its item count (``QuoteRecord``), the columns that
select it, and reading one quote by id.

Apart from ``crm_core.dal.quotes`` (which also writes quotes, items, activities, documents and the email log), so
that crm.find_quotes, which only reads quotes, imports none of that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from crm_core.db.models import Quote, QuoteItem
from crm_core.db.prepared import Prepared


@dataclass(frozen=True)
class QuoteRecord:
    """A quote's own columns, as the quote actions read and change them."""

    quote_id: uuid.UUID
    quote_number: str | None
    client_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    title: str
    description: str | None
    quote_date: datetime | None
    valid_until: datetime | None
    status: str | None
    is_template: bool
    template_id: uuid.UUID | None
    currency_code: str
    tax_source: str
    po_number: str | None
    internal_notes: str | None
    client_notes: str | None
    terms_and_conditions: str | None
    subtotal: int
    discount_total: int
    tax: int
    total_amount: int
    sent_at: datetime | None
    accepted_at: datetime | None
    converted_at: datetime | None
    converted_contract_id: uuid.UUID | None
    converted_invoice_id: uuid.UUID | None
    created_by: uuid.UUID | None
    items_count: int


# The quote's own columns, in QuoteRecord's field order (items_count comes from items_count_column()).
QUOTE_COLUMNS = (
    Quote.c.quote_id,
    Quote.c.quote_number,
    Quote.c.client_id,
    Quote.c.contact_id,
    Quote.c.title,
    Quote.c.description,
    Quote.c.quote_date,
    Quote.c.valid_until,
    Quote.c.status,
    Quote.c.is_template,
    Quote.c.template_id,
    Quote.c.currency_code,
    Quote.c.tax_source,
    Quote.c.po_number,
    Quote.c.internal_notes,
    Quote.c.client_notes,
    Quote.c.terms_and_conditions,
    Quote.c.subtotal,
    Quote.c.discount_total,
    Quote.c.tax,
    Quote.c.total_amount,
    Quote.c.sent_at,
    Quote.c.accepted_at,
    Quote.c.converted_at,
    Quote.c.converted_contract_id,
    Quote.c.converted_invoice_id,
    Quote.c.created_by,
)


def items_count_column() -> Any:
    """``items_count``: the number of the quote's items, as a correlated scalar subquery."""
    return (
        select(func.count())
        .where(QuoteItem.c.tenant == Quote.c.tenant, QuoteItem.c.quote_id == Quote.c.quote_id)
        .scalar_subquery()
        .label("items_count")
    )


def get_quote(
    connection: Connection, tenant_id: uuid.UUID, quote_id: uuid.UUID, *, lock: bool = False
) -> QuoteRecord | None:
    """The quote with its item count (one query), its row locked until the transaction ends when ``lock``."""
    row = _quote_statement(lock=lock).first(connection, tenant=tenant_id, quote_id=quote_id)
    return None if row is None else QuoteRecord(**row._asdict())


@lru_cache(maxsize=2)
def _quote_statement(*, lock: bool) -> Prepared:
    query = select(*QUOTE_COLUMNS, items_count_column()).where(
        Quote.c.tenant == bindparam("tenant"), Quote.c.quote_id == bindparam("quote_id")
    )
    return Prepared(query.with_for_update(of=Quote) if lock else query)
