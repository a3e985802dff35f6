"""crm.create_quote_from_template: a new draft quote for a client, made from a quote template with all its items.

- **Template.** ``template_id`` must be a quote of the tenant (NOT_FOUND) with ``is_template = true``
  (ValidationError, rule ``quote_is_template``).
- **Client and contact** as in crm.create_quote: the client must exist (NOT_FOUND), a contact must be the
  client's (ValidationError).
- **Values.** ``title``, ``quote_date``, ``valid_until``, ``po_number``, ``internal_notes``, ``client_notes`` and
  ``currency_code`` come from the input, else from the template; ``description``, ``terms_and_conditions`` and
  ``tax_source`` from the template. A quote without a ``quote_date`` or ``valid_until`` after that is a
  ValidationError (rule ``quote_dates_required``); ``valid_until`` before ``quote_date`` too. The currency
  follows the template (its prices are in that currency) unless the input names another ISO 4217 code.
  Dates are read as in crm.create_quote (a date-time with offset, or a plain date meaning 00:00 UTC).
- **Rows.** The quote (numbered from ``next_number``, status ``draft``, ``template_id`` set), a copy of every
  template item (same columns and order; a discount aimed at a template item is aimed at that item's copy),
  totals recalculated from the copies, a ``created`` quote activity ("Quote created", metadata
  ``{is_template: false}``) and the audit row.
- **Dry run.** Returns the would-be quote (``quote_number`` null: no number is taken), its items and totals;
  nothing is written.
"""

from __future__ import annotations

from pydantic import Field

from crm_core.actions.fields import ActionInput, ActionOutput, NonBlankText, Uuid, idempotency_key_field, picker
from crm_core.actions.quotes.add_quote_item import QuoteItemDetail, item_detail
from crm_core.actions.quotes.common import recalculate_totals
from crm_core.actions.quotes.create_quote import (
    CurrencyCode,
    QuoteDateInput,
    insert_draft_quote,
    quote_audit_data,
    read_quote,
    require_client_and_contact,
    require_valid_until_not_before,
    resolve_currency,
)
from crm_core.actions.quotes.detail import QuoteDetail, quote_detail
from crm_core.dal import quote_authoring
from crm_core.dal import quotes as quotes_dal
from crm_core.dal.lookups import require_found
from crm_core.dal.quote_records import get_quote
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires


class CreateQuoteFromTemplateInput(ActionInput):
    """A new draft quote for a client from a quote template."""

    template_id: Uuid = Field(description="The quote template to copy (a quote with is_template = true).")
    client_id: Uuid = picker("client", "The client the quote is for.")
    contact_id: Uuid | None = picker(
        "contact", "The client's contact the quote is addressed to.", dependencies=["client_id"], default=None
    )
    title: NonBlankText | None = Field(default=None, description="Default: the template's title.")
    quote_date: QuoteDateInput | None = Field(default=None, description="Default: the template's quote_date.")
    valid_until: QuoteDateInput | None = Field(default=None, description="Default: the template's valid_until.")
    po_number: str | None = Field(default=None, max_length=255, description="Default: the template's PO number.")
    internal_notes: str | None = Field(default=None, description="Default: the template's internal notes.")
    client_notes: str | None = Field(default=None, description="Default: the template's client notes.")
    currency_code: CurrencyCode | None = Field(
        default=None, description="ISO 4217 code; default: the template's currency."
    )
    idempotency_key: str | None = idempotency_key_field()


class CreateQuoteFromTemplateOutput(ActionOutput):
    """The created quote and its items (copied from the template), with totals."""

    quote: QuoteDetail
    quote_items: list[QuoteItemDetail]


def create_quote_from_template(ctx: ActionContext, data: CreateQuoteFromTemplateInput) -> CreateQuoteFromTemplateOutput:
    template = require_found(
        get_quote(ctx.connection, ctx.tenant_id, data.template_id),
        "quote",
        data.template_id,
        field="template_id",
        message="Quote template not found",
    )
    if not template.is_template:
        raise guard_failed(
            "quote_is_template",
            "template_id must name a quote template (is_template = true)",
            field="template_id",
            expected=True,
            actual=False,
        )
    require_client_and_contact(ctx, data.client_id, data.contact_id)
    quote_date = data.quote_date or template.quote_date
    valid_until = data.valid_until or template.valid_until
    missing = [name for name, value in (("quote_date", quote_date), ("valid_until", valid_until)) if value is None]
    if missing:
        raise guard_failed(
            "quote_dates_required",
            f"{' and '.join(missing)} must be given: the template has none",
            field=missing[0],
            expected="a date in the input or on the template",
            actual=None,
            missing=missing,
        )
    require_valid_until_not_before(quote_date, valid_until)
    currency = resolve_currency(data.currency_code, template.currency_code, fallback_source="template")
    quote_id = insert_draft_quote(
        ctx,
        {
            "client_id": data.client_id,
            "contact_id": data.contact_id,
            "title": data.title or template.title,
            "description": template.description,
            "quote_date": quote_date,
            "valid_until": valid_until,
            "po_number": data.po_number if data.po_number is not None else template.po_number,
            "internal_notes": data.internal_notes if data.internal_notes is not None else template.internal_notes,
            "client_notes": data.client_notes if data.client_notes is not None else template.client_notes,
            "terms_and_conditions": template.terms_and_conditions,
            "currency_code": currency,
            "tax_source": template.tax_source,
            "template_id": template.quote_id,
        },
    )
    source = quotes_dal.quote_items(ctx.connection, ctx.tenant_id, template.quote_id)
    quote_authoring.copy_items(
        ctx.connection, ctx.tenant_id, source, quote_id=quote_id, actor=ctx.actor_user_id, now=ctx.now
    )
    record = recalculate_totals(ctx, read_quote(ctx, quote_id))
    items = [item_detail(row) for row in quotes_dal.quote_items(ctx.connection, ctx.tenant_id, quote_id)]
    ctx.audit(
        quote_audit_data(record) | {"items": [item.model_dump(mode="json") for item in items]},
        {"quote_id": quote_id, "quote_number": record.quote_number, "template_id": template.quote_id},
    )
    return CreateQuoteFromTemplateOutput(quote=quote_detail(record), quote_items=items)


SPEC = action_spec(
    create_quote_from_template,
    label="Create Quote from Template",
    description="Create a draft quote for a client from a quote template, copying all of its items.",
    permissions=requires("billing:create", "billing:read"),
    rehearsal_input={"template_id": REHEARSAL_ID, "client_id": REHEARSAL_ID},
)
