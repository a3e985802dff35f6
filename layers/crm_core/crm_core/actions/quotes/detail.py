"""The quote detail summary every quote action returns (``QuoteDetail``), made from a quote as read.

Apart from ``common.py`` so that crm.find_quotes, which only reads quotes, imports none of what changing one
needs (totals, transitions, the writes).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from crm_core.actions.fields import ActionOutput, UtcDateTime
from crm_core.dal.quote_records import QuoteRecord


class QuoteDetail(ActionOutput):
    """A quote as quote actions return it (AlgaPSA's quote detail summary, plus ``items_count``)."""

    quote_id: uuid.UUID
    quote_number: str | None
    status: str | None
    client_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    title: str
    quote_date: UtcDateTime | None
    valid_until: UtcDateTime | None
    currency_code: str
    subtotal: int = Field(description="Integer cents.")
    discount_total: int = Field(description="Integer cents.")
    tax: int = Field(description="Integer cents.")
    total_amount: int = Field(description="Integer cents: subtotal - discount_total + tax.")
    sent_at: UtcDateTime | None
    converted_contract_id: uuid.UUID | None
    converted_invoice_id: uuid.UUID | None
    is_template: bool
    items_count: int


def quote_detail(quote: QuoteRecord, **changes: Any) -> QuoteDetail:
    """The detail summary of ``quote``, with ``changes`` (e.g. a new status or totals) applied."""
    fields = {name: getattr(quote, name) for name in QuoteDetail.model_fields if name not in changes}
    return QuoteDetail(**fields, **changes)
