"""What every quote action that changes a quote shares: loading a quote (with expiry on access), totals
recalculation, status changes with their quote activity. The quote detail summary is ``detail.py``.

Every action that loads a quote goes through :func:`load_quote`, so a ``sent`` quote whose ``valid_until`` lies
before today (UTC) is expired the same way everywhere: status ``expired``, ``expired_at`` set, and an ``expired``
quote activity ("Quote automatically expired on access", metadata ``previous_status``). A call that then fails
rolls that back with everything else.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from crm_core.actions.quotes.totals import PricedItem, QuoteTotals, calculate_totals
from crm_core.actions.quotes.transitions import is_expired_on_access, require_transition
from crm_core.dal import quotes as quotes_dal
from crm_core.dal.lookups import require_found
from crm_core.dal.quote_records import QuoteRecord, get_quote
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext


def load_quote(
    ctx: ActionContext, quote_id: uuid.UUID, *, field: str = "quote_id", template_refusal: str | None = None
) -> QuoteRecord:
    """The quote, locked for this transaction; NotFoundError when not in the tenant; expired on access.

    With ``template_refusal``, a template is refused as :func:`refuse_template` says (the action cannot act on
    templates).
    """
    quote = require_found(get_quote(ctx.connection, ctx.tenant_id, quote_id, lock=True), "quote", quote_id, field=field)
    status = expire_on_access(ctx, quote_id, quote.status, quote.valid_until)
    if template_refusal is not None:
        refuse_template(quote.is_template, template_refusal)
    return quote if status == quote.status else _replace(quote, status=status)


def expire_on_access(
    ctx: ActionContext, quote_id: uuid.UUID, status: str | None, valid_until: datetime | None
) -> str | None:
    """The quote's status as it now is: a ``sent`` quote past its ``valid_until`` becomes ``expired`` here
    (status, ``expired_at`` and an ``expired`` activity, rolled back with the call if it then fails)."""
    if not is_expired_on_access(status, valid_until, ctx.now):
        return status
    quotes_dal.update_quote(ctx.connection, ctx.tenant_id, quote_id, {"status": "expired", "expired_at": ctx.now})
    quotes_dal.insert_quote_activity(
        ctx.connection,
        ctx.tenant_id,
        quote_id,
        activity_type="expired",
        description="Quote automatically expired on access",
        performed_by=None,
        metadata={"previous_status": status},
        now=ctx.moment(),
    )
    return "expired"


def refuse_template(is_template: bool, refusal: str) -> None:
    """ValidationError ``Quote templates cannot be {refusal}`` (rule ``quote_is_not_template``) for a template."""
    if is_template:
        raise guard_failed(
            "quote_is_not_template",
            f"Quote templates cannot be {refusal}",
            field="quote_id",
            expected=False,
            actual=True,
        )


def change_status(
    ctx: ActionContext,
    quote: QuoteRecord,
    target: str,
    *,
    values: dict[str, Any] | None = None,
) -> QuoteRecord:
    """Move ``quote`` to ``target`` (ValidationError unless the transition table allows it), with a
    ``status_changed`` activity, and recalculate its totals; returns the quote as it now is."""
    require_transition(quote.status, target)
    quotes_dal.update_quote(
        ctx.connection,
        ctx.tenant_id,
        quote.quote_id,
        {"status": target, "updated_by": ctx.actor_user_id, "updated_at": ctx.now, **(values or {})},
    )
    quotes_dal.insert_quote_activity(
        ctx.connection,
        ctx.tenant_id,
        quote.quote_id,
        activity_type="status_changed",
        description=f"Quote status changed from {quote.status or 'draft'} to {target}",
        performed_by=ctx.actor_user_id,
        metadata={"previous_status": quote.status, "next_status": target},
        now=ctx.moment(),
    )
    return recalculate_totals(ctx, _replace(quote, status=target, **(values or {})))


def recalculate_totals(ctx: ActionContext, quote: QuoteRecord) -> QuoteRecord:
    """Recompute the totals from the items (integer cents), store them on the quote and its items, return the
    quote with them. Templates keep zero totals."""
    if quote.is_template:
        return quote
    items = quotes_dal.quote_items(ctx.connection, ctx.tenant_id, quote.quote_id)
    totals = totals_of(quote, items)
    values = totals.amounts()
    lines = [
        {
            "quote_item_id": line.item_id,
            "total_price": line.total_price,
            "tax_amount": line.tax_amount,
            "net_amount": line.net_amount,
        }
        for line in totals.lines
    ]
    quotes_dal.store_totals(ctx.connection, ctx.tenant_id, quote.quote_id, values, lines)
    return _replace(quote, items_count=len(items), **values)


def totals_of(quote: QuoteRecord | quotes_dal.QuoteForSend, items: list[quotes_dal.QuoteItemRow]) -> QuoteTotals:
    """The quote's totals from its items, by the money rule of ``actions/quotes/totals.py``."""
    priced = [
        PricedItem(
            item_id=item.quote_item_id,
            quantity=item.quantity,
            unit_price=item.unit_price,
            service_id=item.service_id,
            is_optional=item.is_optional,
            is_selected=item.is_selected,
            is_discount=item.is_discount,
            discount_type=item.discount_type,
            discount_percentage=item.discount_percentage,
            applies_to_item_id=item.applies_to_item_id,
            applies_to_service_id=item.applies_to_service_id,
            is_taxable=item.is_taxable,
            tax_rate=item.tax_rate,
        )
        for item in items
    ]
    return calculate_totals(priced, tax_source=quote.tax_source, has_client=quote.client_id is not None)


def add_quote_activity(
    ctx: ActionContext, quote_id: uuid.UUID, activity_type: str, description: str, metadata: dict[str, Any]
) -> uuid.UUID:
    """A quote activity performed by the actor, now (a microsecond after the call's previous activity, so the
    quote's timeline keeps the order the call recorded them in)."""
    return quotes_dal.insert_quote_activity(
        ctx.connection,
        ctx.tenant_id,
        quote_id,
        activity_type=activity_type,
        description=description,
        performed_by=ctx.actor_user_id,
        metadata=metadata,
        now=ctx.moment(),
    )


def _replace(quote: QuoteRecord, **changes: Any) -> QuoteRecord:
    known = {name: value for name, value in changes.items() if hasattr(quote, name)}
    return replace(quote, **known)
