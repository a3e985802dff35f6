"""crm.add_quote_item: add a line (a service, a product, an option or a discount) to a draft quote.

- **Editable quotes.** Only non-template quotes in ``draft`` status take new items: a template is refused (rule
  ``quote_is_not_template``), any other status too (rule ``quote_editable_status``, naming the status). The quote
  is loaded with :func:`~crm_core.actions.quotes.common.load_quote` (locked, expired on access).
- **Item rules.** A recurring item needs ``billing_frequency``; a discount needs ``discount_type``; a percentage
  discount needs ``discount_percentage`` (0-100); ``applies_to_item_id`` must name another item of the same quote.
  Money is integer cents: ``unit_price`` and ``cost`` are whole cents, ``tax_rate`` is in basis points
  (825 = 8.25 %).
- **Position.** ``display_order`` defaults to one past the quote's highest (0 for the first item).
- **Totals.** Recalculated in the same transaction (``recalculate_totals``) and stored on the quote and its
  items; the output carries the item with its computed amounts and the quote with its new totals.
- No quote activity is written (AlgaPSA writes none for an item); the audit row records the item.
- **Dry run.** Everything is computed (the would-be item and the quote's would-be totals) and rolled back.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from crm_core.actions.fields import ActionInput, ActionOutput, NonBlankText, Uuid, idempotency_key_field
from crm_core.actions.quotes.common import load_quote, recalculate_totals, refuse_template
from crm_core.actions.quotes.create_quote import CurrencyCode
from crm_core.actions.quotes.currency import is_known_currency
from crm_core.actions.quotes.detail import QuoteDetail, quote_detail
from crm_core.actions.quotes.transitions import require_status
from crm_core.dal import quote_authoring
from crm_core.dal import quotes as quotes_dal
from crm_core.dal.quote_records import QuoteRecord
from crm_core.dal.quotes import QuoteItemRow
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

BillingMethod = Literal["fixed", "hourly", "usage", "per_unit"]
DiscountType = Literal["percentage", "fixed"]


class AddQuoteItemInput(ActionInput):
    """A new line on a draft quote."""

    quote_id: Uuid = Field(description="The draft quote to add the item to.")
    description: NonBlankText = Field(description="What the line is for.")
    quantity: int = Field(default=1, gt=0, description="How many (a whole number above 0).")
    unit_price: int = Field(default=0, ge=0, description="Price of one unit in integer cents (minor units).")
    service_id: Uuid | None = Field(default=None, description="The catalog service this line sells.")
    service_name: str | None = Field(default=None, max_length=255, description="The service's name.")
    service_sku: str | None = Field(default=None, max_length=255, description="The service's SKU.")
    unit_of_measure: str | None = Field(default=None, max_length=64, description="e.g. device, hour, month.")
    display_order: int | None = Field(
        default=None, ge=0, description="Position among the quote's items; default: after the last one."
    )
    phase: str | None = Field(default=None, max_length=255, description="Project phase the line belongs to.")
    is_optional: bool = Field(default=False, description="An option the client may choose.")
    is_selected: bool = Field(default=True, description="Whether an optional line is chosen (counted in totals).")
    is_recurring: bool = Field(default=False, description="Billed every period (needs billing_frequency).")
    billing_frequency: str | None = Field(default=None, max_length=50, description="e.g. monthly, quarterly.")
    billing_method: BillingMethod | None = Field(default=None, description="How the line is billed.")
    is_discount: bool = Field(default=False, description="A discount line (needs discount_type).")
    discount_type: DiscountType | None = Field(
        default=None, description="fixed: quantity x unit_price off; percentage: discount_percentage of its scope."
    )
    discount_percentage: int | None = Field(default=None, ge=0, le=100, description="Whole percent, 0-100.")
    applies_to_item_id: Uuid | None = Field(
        default=None, description="A discount for one item of this quote (else applies_to_service_id, else all)."
    )
    applies_to_service_id: Uuid | None = Field(
        default=None, description="A discount for the quote's lines of this service."
    )
    is_taxable: bool = Field(default=True, description="Whether tax applies (only with tax_source internal).")
    tax_region: str | None = Field(default=None, max_length=255, description="Tax region of the line.")
    tax_rate: int | None = Field(default=None, ge=0, le=10_000, description="Tax rate in basis points: 825 is 8.25 %.")
    location_id: Uuid | None = Field(default=None, description="The client location the line is for.")
    cost: int | None = Field(default=None, ge=0, description="Cost to the provider, integer cents.")
    cost_currency: CurrencyCode | None = Field(default=None, description="ISO 4217 code of cost.")
    idempotency_key: str | None = idempotency_key_field()


class QuoteItemDetail(ActionOutput):
    """A quote item as the quote actions return it; amounts in integer cents, tax_rate in basis points."""

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
    total_price: int = Field(description="quantity x unit_price; minus the amount for a discount line.")
    tax_amount: int
    net_amount: int = Field(description="What the line adds before tax, after the discounts allocated to it.")
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


class AddQuoteItemOutput(ActionOutput):
    """The new item and the quote with its recalculated totals."""

    quote_item: QuoteItemDetail
    quote: QuoteDetail


def item_detail(row: QuoteItemRow) -> QuoteItemDetail:
    """The output model of an item row."""
    return QuoteItemDetail(**{name: getattr(row, name) for name in QuoteItemDetail.model_fields})


def check_item_rules(data: AddQuoteItemInput) -> None:
    """The item's own rules (no database): recurring needs a frequency, a discount its type, a percentage
    discount its percentage; a cost currency must be ISO 4217."""
    if data.is_recurring and not (data.billing_frequency or "").strip():
        raise guard_failed(
            "recurring_item_needs_billing_frequency",
            "A recurring item needs a billing_frequency",
            field="billing_frequency",
            expected="a billing frequency such as monthly",
            actual=data.billing_frequency,
        )
    if data.is_discount and data.discount_type is None:
        raise guard_failed(
            "discount_needs_discount_type",
            "A discount item needs a discount_type",
            field="discount_type",
            expected=["percentage", "fixed"],
            actual=None,
        )
    if data.is_discount and data.discount_type == "percentage" and data.discount_percentage is None:
        raise guard_failed(
            "percentage_discount_needs_percentage",
            "A percentage discount needs a discount_percentage",
            field="discount_percentage",
            expected="a whole percent from 0 to 100",
            actual=None,
        )
    if data.cost_currency is not None and not is_known_currency(data.cost_currency):
        raise guard_failed(
            "currency_code_iso4217",
            f"Unknown currency code {data.cost_currency!r}: expected an active ISO 4217 code",
            field="cost_currency",
            expected="an active ISO 4217 currency code, e.g. USD",
            actual=data.cost_currency,
        )


def require_editable(quote: QuoteRecord) -> None:
    """Only non-template quotes in draft (a null status counts as draft) take item changes."""
    refuse_template(quote.is_template, "edited by crm.add_quote_item")
    status = quote.status or "draft"
    require_status(
        status, ["draft"], "quote_editable_status", f"Only draft quotes can be edited; this quote is {status}"
    )


def add_quote_item(ctx: ActionContext, data: AddQuoteItemInput) -> AddQuoteItemOutput:
    check_item_rules(data)
    quote = load_quote(ctx, data.quote_id)
    require_editable(quote)
    if data.applies_to_item_id is not None:
        items = quotes_dal.quote_items(ctx.connection, ctx.tenant_id, quote.quote_id)
        if data.applies_to_item_id not in {item.quote_item_id for item in items}:
            raise guard_failed(
                "applies_to_item_on_quote",
                "applies_to_item_id must name an item of the same quote",
                field="applies_to_item_id",
                expected="the id of an item of this quote",
                actual=str(data.applies_to_item_id),
            )
    display_order = (
        data.display_order
        if data.display_order is not None
        else quote_authoring.next_display_order(ctx.connection, ctx.tenant_id, quote.quote_id)
    )
    values = data.model_dump(exclude={"quote_id", "idempotency_key", "display_order", "cost_currency"})
    item_id = quote_authoring.insert_quote_item(
        ctx.connection,
        ctx.tenant_id,
        {
            **values,
            "quote_id": quote.quote_id,
            "display_order": display_order,
            "cost_currency": None if data.cost_currency is None else data.cost_currency.upper(),
            "created_by": ctx.actor_user_id,
            "updated_by": ctx.actor_user_id,
            "created_at": ctx.now,
            "updated_at": ctx.now,
        },
    )
    quotes_dal.update_quote(
        ctx.connection, ctx.tenant_id, quote.quote_id, {"updated_by": ctx.actor_user_id, "updated_at": ctx.now}
    )
    quote = recalculate_totals(ctx, quote)
    row = quote_authoring.item_detail(ctx.connection, ctx.tenant_id, item_id)
    assert row is not None, "the item written in this transaction is readable in it"
    item = item_detail(row)
    ctx.audit(
        item.model_dump(mode="json"),
        {
            "quote_id": quote.quote_id,
            "quote_item_id": item_id,
            "totals": {
                "subtotal": quote.subtotal,
                "discount_total": quote.discount_total,
                "tax": quote.tax,
                "total_amount": quote.total_amount,
            },
        },
    )
    return AddQuoteItemOutput(quote_item=item, quote=quote_detail(quote))


SPEC = action_spec(
    add_quote_item,
    label="Add Quote Item",
    description="Add a line, an option or a discount to a draft quote and recalculate its totals.",
    permissions=requires("billing:update", "billing:read"),
    rehearsal_input={"quote_id": REHEARSAL_ID, "description": "Rehearsal", "quantity": 1, "unit_price": 100},
)
