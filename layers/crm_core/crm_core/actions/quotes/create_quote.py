"""crm.create_quote: a draft quote for a client, numbered ``QUO-0001``, ``QUO-0002``, ... per tenant.

- **Client and contact.** The client must exist (NOT_FOUND); a contact must exist (NOT_FOUND) and belong to
  the client (ValidationError, rule ``contact_belongs_to_client``).
- **Dates.** ``quote_date`` and ``valid_until`` are ISO 8601 date-times with an offset, or plain dates
  (``YYYY-MM-DD``, read as 00:00 UTC that day). ``valid_until`` before ``quote_date`` is a ValidationError
  (rule ``valid_until_not_before_quote_date``); the same day is allowed.
- **Currency.** The input's ``currency_code``, else the client's ``default_currency_code``, else ``USD``; upper-cased,
  and an active ISO 4217 code or a ValidationError (rule ``currency_code_iso4217``).
- **Number.** From the tenant's ``next_number`` counter (``QUOTE``), taken in the call's transaction: concurrent
  creates queue on the counter row, so each gets its own number and a failed call gives its number back (no
  gaps, no unique violations).
- **Rows.** The ``quotes`` row (status ``draft``, version 1, totals 0, ``tax_source`` internal), a ``created``
  quote activity ("Quote created", metadata ``{is_template: false}``) and the audit row.
- **Dry run.** Validates, checks permissions and guards, and returns the would-be quote, but takes no number:
  ``quote_number`` is null in a dry run's output (a number shown there could be taken by someone else before a
  real call), and nothing is written.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from crm_core.actions.clients import require_contact_of_client
from crm_core.actions.fields import (
    OFFSET_DATE_TIME_EXPECTED,
    OFFSET_DATE_TIME_JSON_SCHEMA,
    OFFSET_DATE_TIME_PATTERN,
    ActionInput,
    ActionOutput,
    NonBlankText,
    OffsetDateTime,
    Uuid,
    idempotency_key_field,
    iso_utc,
    picker,
)
from crm_core.actions.quotes.common import add_quote_activity
from crm_core.actions.quotes.currency import is_known_currency
from crm_core.actions.quotes.detail import QuoteDetail, quote_detail
from crm_core.dal import quote_authoring
from crm_core.dal.lookups import require_found
from crm_core.dal.numbering import next_number
from crm_core.dal.quote_records import QuoteRecord, get_quote
from crm_core.dal.records import ClientRecord, get_client, get_contact
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

DEFAULT_CURRENCY = "USD"

_PLAIN_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_PLAIN_DATE = re.compile(_PLAIN_DATE_PATTERN)
_OFFSET_DATE_TIME = re.compile(OFFSET_DATE_TIME_PATTERN)
QUOTE_DATE_EXPECTED = f"{OFFSET_DATE_TIME_EXPECTED}, or a plain date YYYY-MM-DD (00:00 UTC that day)"


def _plain_date_to_utc_midnight(value: Any) -> Any:
    """A plain date (``YYYY-MM-DD`` or a ``date``) becomes 00:00 UTC that day; a date-time is left to
    ``OffsetDateTime``. Anything else (a number, a date-time without an offset or seconds) is refused."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    if isinstance(value, str):
        if _PLAIN_DATE.match(value):
            return datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
        if _OFFSET_DATE_TIME.match(value):
            return value
    raise PydanticCustomError("quote_date_text", "Input should be {expected}", {"expected": QUOTE_DATE_EXPECTED})


# A quote date in an input: an RFC 3339 date-time with an offset, or a plain date meaning 00:00 UTC that day.
QuoteDateInput = Annotated[
    OffsetDateTime,
    BeforeValidator(_plain_date_to_utc_midnight),
    WithJsonSchema(
        {
            "anyOf": [
                OFFSET_DATE_TIME_JSON_SCHEMA,
                {"type": "string", "format": "date", "pattern": _PLAIN_DATE_PATTERN},
            ],
            "description": "ISO 8601 date-time with an offset, or a plain date YYYY-MM-DD (00:00 UTC that day).",
        }
    ),
]

CurrencyCode = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$")]


class CreateQuoteInput(ActionInput):
    """A new draft quote for a client."""

    client_id: Uuid = picker("client", "The client the quote is for.")
    contact_id: Uuid | None = picker(
        "contact", "The client's contact the quote is addressed to.", dependencies=["client_id"], default=None
    )
    title: NonBlankText = Field(description="The quote's title.")
    description: str | None = Field(default=None, description="Shown under the title.")
    quote_date: QuoteDateInput = Field(description="The quote's date.")
    valid_until: QuoteDateInput = Field(description="Last day the quote may be accepted (not before quote_date).")
    po_number: str | None = Field(default=None, max_length=255, description="The client's purchase order number.")
    internal_notes: str | None = Field(default=None, description="Notes for staff only.")
    client_notes: str | None = Field(default=None, description="Notes shown to the client.")
    terms_and_conditions: str | None = Field(default=None, description="Terms printed on the quote.")
    currency_code: CurrencyCode | None = Field(
        default=None,
        description="ISO 4217 code; default: the client's default currency, else USD.",
    )
    idempotency_key: str | None = idempotency_key_field()


class CreateQuoteOutput(ActionOutput):
    """The created quote (in a dry run: the would-be quote, with no number)."""

    quote: QuoteDetail


def resolve_currency(explicit: str | None, fallback: str | None, *, fallback_source: str = "client_default") -> str:
    """The input's code, else ``fallback`` (the client's default currency, or the template's), else USD:
    upper-cased; a ValidationError unless it is an active ISO 4217 code."""
    if explicit is not None:
        code, source = explicit, "input"
    elif fallback is not None and fallback.strip():
        code, source = fallback, fallback_source
    else:
        return DEFAULT_CURRENCY
    normalised = code.strip().upper()
    if not is_known_currency(normalised):
        where = "" if source == "input" else f" (from {source}; pass currency_code)"
        raise guard_failed(
            "currency_code_iso4217",
            f"Unknown currency code {code!r}{where}: expected an active ISO 4217 code",
            field="currency_code",
            expected="an active ISO 4217 currency code, e.g. USD",
            actual=code,
            source=source,
        )
    return normalised


def require_valid_until_not_before(quote_date: datetime | None, valid_until: datetime | None) -> None:
    """ValidationError when ``valid_until`` lies before ``quote_date`` (equal is fine)."""
    if quote_date is not None and valid_until is not None and valid_until < quote_date:
        raise guard_failed(
            "valid_until_not_before_quote_date",
            "valid_until must not be before quote_date",
            field="valid_until",
            expected=f"on or after {iso_utc(quote_date)}",
            actual=iso_utc(valid_until),
        )


def require_client_and_contact(ctx: ActionContext, client_id: uuid.UUID, contact_id: uuid.UUID | None) -> ClientRecord:
    """The client (NOT_FOUND when missing); the contact must exist (NOT_FOUND) and be the client's (ValidationError)."""
    client = require_found(get_client(ctx.connection, ctx.tenant_id, client_id), "client", client_id, field="client_id")
    if contact_id is not None:
        contact = require_found(
            get_contact(ctx.connection, ctx.tenant_id, contact_id), "contact", contact_id, field="contact_id"
        )
        require_contact_of_client(contact.client_id, client_id, "The contact does not belong to the quote's client")
    return client


def insert_draft_quote(ctx: ActionContext, values: dict[str, Any]) -> uuid.UUID:
    """A new draft quote with ``values``: numbered (none in a dry run), version 1, totals 0, with its ``created``
    quote activity. Returns its id."""
    quote_number = None if ctx.dry_run else next_number(ctx.connection, ctx.tenant_id, "QUOTE")
    quote_id = quote_authoring.insert_quote(
        ctx.connection,
        ctx.tenant_id,
        {
            **values,
            "quote_number": quote_number,
            "status": "draft",
            "is_template": False,
            "version": 1,
            "subtotal": 0,
            "discount_total": 0,
            "tax": 0,
            "total_amount": 0,
            "created_by": ctx.actor_user_id,
            "updated_by": ctx.actor_user_id,
            "created_at": ctx.now,
            "updated_at": ctx.now,
        },
    )
    add_quote_activity(ctx, quote_id, "created", "Quote created", {"is_template": False})
    return quote_id


def read_quote(ctx: ActionContext, quote_id: uuid.UUID) -> QuoteRecord:
    """The quote this call just wrote."""
    record = get_quote(ctx.connection, ctx.tenant_id, quote_id)
    assert record is not None, "the quote written in this transaction is readable in it"
    return record


def quote_audit_data(record: QuoteRecord) -> dict[str, Any]:
    """What the audit row says about a created quote."""
    return quote_detail(record).model_dump(mode="json") | {
        "po_number": record.po_number,
        "tax_source": record.tax_source,
        "template_id": None if record.template_id is None else str(record.template_id),
    }


def create_quote(ctx: ActionContext, data: CreateQuoteInput) -> CreateQuoteOutput:
    client = require_client_and_contact(ctx, data.client_id, data.contact_id)
    require_valid_until_not_before(data.quote_date, data.valid_until)
    currency = resolve_currency(data.currency_code, client.default_currency_code)
    quote_id = insert_draft_quote(
        ctx,
        {
            "client_id": data.client_id,
            "contact_id": data.contact_id,
            "title": data.title,
            "description": data.description,
            "quote_date": data.quote_date,
            "valid_until": data.valid_until,
            "po_number": data.po_number,
            "internal_notes": data.internal_notes,
            "client_notes": data.client_notes,
            "terms_and_conditions": data.terms_and_conditions,
            "currency_code": currency,
            "tax_source": "internal",
        },
    )
    record = read_quote(ctx, quote_id)
    ctx.audit(quote_audit_data(record), {"quote_id": quote_id, "quote_number": record.quote_number})
    return CreateQuoteOutput(quote=quote_detail(record))


SPEC = action_spec(
    create_quote,
    label="Create Quote",
    description="Create a draft quote for a client, numbered per tenant (QUO-0001, ...).",
    permissions=requires("billing:create", "billing:read"),
    rehearsal_input={
        "client_id": REHEARSAL_ID,
        "title": "Rehearsal",
        "quote_date": "2027-01-01",
        "valid_until": "2027-01-31",
    },
)
