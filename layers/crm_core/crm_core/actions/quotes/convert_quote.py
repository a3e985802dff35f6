"""crm.convert_quote: turn an accepted quote into a draft contract, a draft invoice, or both.

In the call's one transaction: lock the quote (expired on access like every quote action) and check, in this
order, that it is not a template; whether it is already converted to the target (a no-op returning the
existing ids, with no audit row, unless ``no_op_if_already_converted`` is false); that it is ``accepted`` and
has a client; for ``contract_and_invoice`` that no conversion has started; and that it has the items the target
needs. Every refusal is a ValidationError whose details name the rule, the expected and the actual value.

*Selected* items are those not optional, or optional and selected.

- **Contract** (target ``contract``): the selected recurring items that are not discounts (at least one). One
  ``contracts`` row (``draft``, inactive, owned by the client, ``billing_frequency`` of the first recurring item,
  default ``monthly``, ``template_metadata`` naming the source quote), one ``contract_lines`` row per item (type
  from ``billing_method``: hourly -> Hourly, usage -> Usage, else Fixed; timing ``advance`` for Fixed, otherwise
  ``arrears``; Hourly lines bill at least 15 minutes, rounded up to 15; the unit price as ``custom_rate``;
  inactive) and a ``client_contracts`` row from ``accepted_at``, else ``quote_date``, else now. The quote gets
  ``converted_contract_id`` and a ``converted_to_contract`` activity; its status stays ``accepted``.
- **Invoice** (target ``invoice``): the selected one-time items that are not discounts (at least one), plus the
  selected discounts that apply to them (aimed at one of them, at the service of one of them, or at the whole
  quote). Their amounts follow the quote money rule (``actions/quotes/totals.py``) applied to those items
  alone. One ``invoices`` row (``draft``, manual, number from ``next_number("INVOICE")``, dated and due on
  ``accepted_at``, else ``quote_date``, else now; the quote's currency, tax source and PO number) and one
  ``invoice_charges`` row per item: an item's charge has its line total as total and net amount and its tax
  (computed on its discounted amount); a discount's charge has the discount as a negative total and net amount
  and zero tax. Hence ``invoice.subtotal = sum(net_amount)``, ``invoice.tax = sum(tax_amount)`` and
  ``total_amount = subtotal + tax``. The quote gets ``converted_invoice_id`` and a ``converted_to_invoice``
  activity; its status stays ``accepted``.
- **Both** (target ``contract_and_invoice``): needs both kinds of item and no conversion started; does both,
  then moves the quote to ``converted`` (with ``converted_at``, a ``status_changed`` activity and recalculated
  totals) and writes a ``converted`` activity.

A quote counts as converted to a target when it has that target's id (both ids for ``contract_and_invoice``)
or its status is ``converted``. Converting a quote to a contract and later to an invoice (or the other way
round) is allowed; it then stays ``accepted`` with both ids. A dry run does the whole conversion and rolls it
back, so its output carries the ids the contract and invoice would have had.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from crm_core.actions.fields import ActionInput, ActionOutput, Uuid
from crm_core.actions.quotes.common import add_quote_activity, change_status, load_quote, totals_of
from crm_core.actions.quotes.detail import QuoteDetail, quote_detail
from crm_core.actions.quotes.transitions import require_status
from crm_core.dal import conversions as conversions_dal
from crm_core.dal import quotes as quotes_dal
from crm_core.dal.numbering import next_number
from crm_core.dal.quote_records import QuoteRecord
from crm_core.dal.quotes import QuoteItemRow
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

Target = Literal["contract", "invoice", "contract_and_invoice"]
DEFAULT_BILLING_FREQUENCY = "monthly"
HOURLY_MINIMUM_MINUTES = 15
HOURLY_ROUND_UP_MINUTES = 15


class ConvertQuoteInput(ActionInput):
    """Convert an accepted quote into a draft contract, a draft invoice, or both."""

    quote_id: Uuid = Field(description="The accepted quote to convert.")
    target: Target = Field(description="contract, invoice, or contract_and_invoice.")
    no_op_if_already_converted: bool = Field(
        default=True,
        description="Return the existing ids with no_op for a quote already converted (otherwise a ValidationError).",
    )


class ConvertQuoteOutput(ActionOutput):
    quote: QuoteDetail
    contract_id: uuid.UUID | None = Field(description="The quote's draft contract, if it has one.")
    invoice_id: uuid.UUID | None = Field(description="The quote's draft invoice, if it has one.")
    no_op: bool


# --- pure rules -------------------------------------------------------------------------------------------


def is_selected(item: QuoteItemRow) -> bool:
    """Whether the item is part of the accepted quote: not optional, or optional and selected."""
    return not item.is_optional or item.is_selected


def recurring_items(items: list[QuoteItemRow]) -> list[QuoteItemRow]:
    """What a contract is made of: the selected recurring items that are not discounts."""
    return [i for i in items if is_selected(i) and i.is_recurring and not i.is_discount]


def one_time_items(items: list[QuoteItemRow]) -> list[QuoteItemRow]:
    """What an invoice bills: the selected one-time items that are not discounts."""
    return [i for i in items if is_selected(i) and not i.is_recurring and not i.is_discount]


def invoice_items(items: list[QuoteItemRow]) -> list[QuoteItemRow]:
    """The one-time items plus the selected discounts that apply to them (aimed at one of them, at the service
    of one of them, or at the whole quote), in display order."""
    base = one_time_items(items)
    ids = {i.quote_item_id for i in base}
    services = {i.service_id for i in base if i.service_id is not None}

    def applies(discount: QuoteItemRow) -> bool:
        if discount.applies_to_item_id is not None:
            return discount.applies_to_item_id in ids
        if discount.applies_to_service_id is not None:
            return discount.applies_to_service_id in services
        return True

    chosen = {i.quote_item_id for i in base} | {
        i.quote_item_id for i in items if i.is_discount and is_selected(i) and applies(i)
    }
    return [i for i in items if i.quote_item_id in chosen]


@dataclass(frozen=True)
class LineKind:
    """How a contract line bills: its type, timing and (hourly only) minimum and rounding in minutes."""

    contract_line_type: str
    billing_timing: str
    minimum_billable_time: int | None = None
    round_up_to_nearest: int | None = None


def contract_line_kind(billing_method: str | None) -> LineKind:
    """hourly -> Hourly (arrears, 15 minute minimum, rounded up to 15), usage -> Usage (arrears), else Fixed
    (advance)."""
    if billing_method == "hourly":
        return LineKind("Hourly", "arrears", HOURLY_MINIMUM_MINUTES, HOURLY_ROUND_UP_MINUTES)
    if billing_method == "usage":
        return LineKind("Usage", "arrears")
    return LineKind("Fixed", "advance")


def contract_billing_frequency(recurring: list[QuoteItemRow]) -> str:
    """The contract's billing frequency: the first recurring item's, else monthly."""
    for item in recurring:
        if item.billing_frequency:
            return item.billing_frequency
    return DEFAULT_BILLING_FREQUENCY


# --- the action -------------------------------------------------------------------------------------------


def convert_quote(ctx: ActionContext, data: ConvertQuoteInput) -> ConvertQuoteOutput:
    quote = load_quote(ctx, data.quote_id, template_refusal="converted")
    if already_converted(quote, data.target):
        if data.no_op_if_already_converted:
            return ConvertQuoteOutput(
                quote=quote_detail(quote),
                contract_id=quote.converted_contract_id,
                invoice_id=quote.converted_invoice_id,
                no_op=True,
            )
        raise guard_failed(
            "quote_not_already_converted",
            f"Quote was already converted ({data.target})",
            field="target",
            expected="a quote not yet converted to the target",
            actual=_conversion_state(quote),
            target=data.target,
        )
    items = quotes_dal.quote_items(ctx.connection, ctx.tenant_id, quote.quote_id)
    client_id = _require_convertible(quote, data.target, items)
    contract_id = invoice_id = None
    invoice_number: str | None = None
    if data.target in ("contract", "contract_and_invoice"):
        contract_id = _to_contract(ctx, quote, client_id, recurring_items(items))
    if data.target in ("invoice", "contract_and_invoice"):
        invoice_id, invoice_number = _to_invoice(ctx, quote, client_id, invoice_items(items))
    ids: dict[str, Any] = {}
    if contract_id is not None:
        ids["converted_contract_id"] = contract_id
    if invoice_id is not None:
        ids["converted_invoice_id"] = invoice_id
    if data.target == "contract_and_invoice":
        converted = change_status(ctx, quote, "converted", values={"converted_at": ctx.now, **ids})
        add_quote_activity(
            ctx,
            quote.quote_id,
            "converted",
            f"Quote converted to a draft contract and draft invoice {invoice_number}",
            {"contract_id": str(contract_id), "invoice_id": str(invoice_id), "invoice_number": invoice_number},
        )
    else:
        quotes_dal.update_quote(
            ctx.connection,
            ctx.tenant_id,
            quote.quote_id,
            {**ids, "updated_by": ctx.actor_user_id, "updated_at": ctx.now},
        )
        converted = replace(quote, **ids)
    ctx.audit(
        {
            "quote_id": quote.quote_id,
            "target": data.target,
            "contract_id": contract_id,
            "invoice_id": invoice_id,
            "invoice_number": invoice_number,
            "previous_status": quote.status,
            "new_status": converted.status,
        }
    )
    return ConvertQuoteOutput(
        quote=quote_detail(converted),
        contract_id=converted.converted_contract_id,
        invoice_id=converted.converted_invoice_id,
        no_op=False,
    )


def already_converted(quote: QuoteRecord, target: str) -> bool:
    """Whether the quote is converted to ``target``: status ``converted``, or it has the target's id (both ids
    for ``contract_and_invoice``)."""
    if quote.status == "converted":
        return True
    has_contract = quote.converted_contract_id is not None
    has_invoice = quote.converted_invoice_id is not None
    return {"contract": has_contract, "invoice": has_invoice}.get(target, has_contract and has_invoice)


def _conversion_state(quote: QuoteRecord) -> dict[str, Any]:
    return {
        "status": quote.status,
        "converted_contract_id": str(quote.converted_contract_id) if quote.converted_contract_id else None,
        "converted_invoice_id": str(quote.converted_invoice_id) if quote.converted_invoice_id else None,
    }


def _require_convertible(quote: QuoteRecord, target: str, items: list[QuoteItemRow]) -> uuid.UUID:
    """The quote's client, once every guard of a conversion to ``target`` holds."""
    require_status(quote.status, ["accepted"], "quote_accepted_for_conversion", "Only accepted quotes can be converted")
    if quote.client_id is None:
        raise guard_failed(
            "quote_has_client",
            "Quote must have a client to be converted",
            field="client_id",
            expected="a client",
            actual=None,
        )
    if target == "contract_and_invoice" and (quote.converted_contract_id or quote.converted_invoice_id):
        raise guard_failed(
            "quote_conversion_not_started",
            "A quote already converted to a contract or an invoice cannot be converted to both",
            field="target",
            expected={"converted_contract_id": None, "converted_invoice_id": None},
            actual=_conversion_state(quote),
        )
    counts = {"recurring": len(recurring_items(items)), "one_time": len(one_time_items(items))}
    needed = {
        "contract": ("quote_has_recurring_items", ["recurring"], "a contract needs selected recurring items"),
        "invoice": ("quote_has_one_time_items", ["one_time"], "an invoice needs selected one-time items"),
        "contract_and_invoice": (
            "quote_has_recurring_and_one_time_items",
            ["recurring", "one_time"],
            "a contract and an invoice need both selected recurring and one-time items",
        ),
    }[target]
    rule, kinds, message = needed
    if any(counts[kind] == 0 for kind in kinds):
        raise guard_failed(
            rule,
            f"Quote cannot be converted: {message}",
            field="target",
            expected=dict.fromkeys(kinds, "at least 1"),
            actual={kind: counts[kind] for kind in kinds},
            target=target,
        )
    return quote.client_id


def _start_date(ctx: ActionContext, quote: QuoteRecord) -> datetime:
    return quote.accepted_at or quote.quote_date or ctx.now


def _to_contract(
    ctx: ActionContext, quote: QuoteRecord, client_id: uuid.UUID, recurring: list[QuoteItemRow]
) -> uuid.UUID:
    frequency = contract_billing_frequency(recurring)
    lines = []
    for order, item in enumerate(recurring):
        kind = contract_line_kind(item.billing_method)
        lines.append(
            {
                "contract_line_name": item.service_name or item.description,
                "description": item.description,
                "contract_line_type": kind.contract_line_type,
                "billing_frequency": item.billing_frequency or frequency,
                "billing_timing": kind.billing_timing,
                "service_id": item.service_id,
                "quantity": item.quantity,
                "custom_rate": item.unit_price,
                "minimum_billable_time": kind.minimum_billable_time,
                "round_up_to_nearest": kind.round_up_to_nearest,
                "display_order": order,
                "source_quote_item_id": item.quote_item_id,
                "is_active": False,
            }
        )
    contract_id = conversions_dal.insert_contract(
        ctx.connection,
        ctx.tenant_id,
        client_id=client_id,
        values={
            "contract_name": quote.title,
            "contract_description": quote.description,
            "billing_frequency": frequency,
            "currency_code": quote.currency_code,
            "status": "draft",
            "is_active": False,
            "owner_client_id": client_id,
            "template_metadata": {
                "source_quote_id": str(quote.quote_id),
                "source_quote_number": quote.quote_number,
                "conversion_kind": "quote_to_contract",
            },
        },
        lines=lines,
        start_date=_start_date(ctx, quote),
        now=ctx.now,
    )
    add_quote_activity(
        ctx,
        quote.quote_id,
        "converted_to_contract",
        "Quote converted to a draft contract",
        {"contract_id": str(contract_id), "contract_lines": len(lines)},
    )
    return contract_id


def _to_invoice(
    ctx: ActionContext, quote: QuoteRecord, client_id: uuid.UUID, chosen: list[QuoteItemRow]
) -> tuple[uuid.UUID, str]:
    chosen_ids = {item.quote_item_id for item in chosen}
    rows = quotes_dal.quote_items(ctx.connection, ctx.tenant_id, quote.quote_id)
    priced = [row for row in rows if row.quote_item_id in chosen_ids]
    totals = totals_of(replace(quote, client_id=client_id), priced)
    amounts = {line.item_id: line for line in totals.lines}
    charge_ids = {item.quote_item_id: uuid.uuid4() for item in chosen}
    charges = []
    for item in chosen:
        line = amounts[item.quote_item_id]
        if item.is_discount:
            quantity, unit_price, total, tax = 1, line.total_price, line.total_price, 0
        else:
            quantity, unit_price, total, tax = item.quantity, item.unit_price, line.total_price, line.tax_amount
        charges.append(
            {
                "item_id": charge_ids[item.quote_item_id],
                "service_id": item.service_id,
                "description": item.description,
                "quantity": quantity,
                "unit_price": unit_price,
                "total_price": total,
                "tax_amount": tax,
                "net_amount": total,
                "is_taxable": item.is_taxable and not item.is_discount,
                "is_discount": item.is_discount,
                "discount_type": item.discount_type,
                "discount_percentage": item.discount_percentage,
                "applies_to_item_id": charge_ids.get(item.applies_to_item_id) if item.applies_to_item_id else None,
                "source_quote_item_id": item.quote_item_id,
                "is_manual": True,
            }
        )
    subtotal = totals.subtotal - totals.discount_total
    number = next_number(ctx.connection, ctx.tenant_id, "INVOICE")
    dated = _start_date(ctx, quote)
    invoice_id = conversions_dal.insert_invoice(
        ctx.connection,
        ctx.tenant_id,
        values={
            "client_id": client_id,
            "invoice_number": number,
            "invoice_date": dated,
            "due_date": dated,
            "status": "draft",
            "is_manual": True,
            "subtotal": subtotal,
            "tax": totals.tax,
            "total_amount": subtotal + totals.tax,
            "currency_code": quote.currency_code,
            "tax_source": quote.tax_source,
            "po_number": quote.po_number,
        },
        charges=charges,
        now=ctx.now,
    )
    add_quote_activity(
        ctx,
        quote.quote_id,
        "converted_to_invoice",
        f"Quote converted to draft invoice {number}",
        {"invoice_id": str(invoice_id), "invoice_number": number, "total_amount": subtotal + totals.tax},
    )
    return invoice_id, number


SPEC = action_spec(
    convert_quote,
    label="Convert Quote",
    description="Convert an accepted quote into a draft contract, a draft invoice, or both.",
    permissions=requires("billing:read", "billing:create", "billing:update"),
    rehearsal_input={"quote_id": REHEARSAL_ID, "target": "contract"},
)
