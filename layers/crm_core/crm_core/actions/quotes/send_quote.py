"""crm.send_quote: mark a quote sent, file its PDF in S3 and email it to the client, exactly once.

Order of work. In the call's one transaction: lock the quote row, check the guards (not a template; already
sent is a no-op or a ValidationError; with approval required only ``approved`` quotes go, otherwise ``draft`` or
``approved``), recalculate its totals, set ``sent``/``sent_at``, write the ``sent`` quote activity, file the
``documents`` row, log the email as pending, render the PDF and the MIME message, and queue the document and
email effects with the audit and ledger rows. Commit. Only then is the PDF stored in ``QUOTE_BUCKET`` and the
email sent through SES; their outcome recorders write the message id, ``email_sent`` and any error on the
activity, the email log and the ledger's stored output, so a replay returns what really happened.

Exactly once: twenty concurrent sends of one quote serialise on the quote's row lock; the first sends, the
others find it ``sent`` and return ``no_op``. A retry of the same call replays the ledger. The relay leaves a
committed effect alone for its grace period, during which the call delivers it and marks it, so the relay and
the call never both send it. The one window for a duplicate email is a crash after SES accepted the message
and before the marks committed: the row is still pending then, and the relay sends it again. (A PDF stored in
that window is stored again under the same key: still one object.) A failed email leaves the quote sent and reports
``email_sent: false`` with the reason; the relay retries transient SES failures with back-off, a bounded number
of times.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, Field

from crm_core.actions.fields import ActionInput, ActionOutput, UtcDateTime, Uuid
from crm_core.actions.quotes.common import expire_on_access, refuse_template, totals_of
from crm_core.actions.quotes.currency import format_money
from crm_core.actions.quotes.document import QuotePdfData, QuotePdfLine, prepare_rendering, render_quote_pdf
from crm_core.actions.quotes.email import build_quote_email, default_subject, pdf_file_name, portal_link
from crm_core.actions.quotes.totals import QuoteTotals
from crm_core.actions.quotes.transitions import require_status
from crm_core.aws.document_store import S3DocumentStore
from crm_core.dal import quotes as quotes_dal
from crm_core.dal.effects import EffectRow
from crm_core.dal.lookups import require_found
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.effects import EffectOutcome, outcome_recorder
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires
from crm_core.settings import get_settings

PRESIGNED_URL_SECONDS = 7 * 24 * 3600
DiscountType = Literal["percentage", "fixed"] | None
EMAIL_RECORDER = "crm.send_quote.email"
DOCUMENT_RECORDER = "crm.send_quote.document"


_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+$")


def _email_address(value: str) -> str:
    address = value.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        raise ValueError("must be an email address like name@example.com")
    return address


# An email address, trimmed: one mailbox, no display name (SES takes it as is).
EmailAddress = Annotated[str, AfterValidator(_email_address)]


class SendQuoteInput(ActionInput):
    """Send a quote to its client: marks it sent, files the PDF and emails it with the PDF attached."""

    quote_id: Uuid = Field(description="The quote to send.")
    email_addresses: list[EmailAddress] | None = Field(
        default=None,
        description="Recipients; default: the quote contact's email, else the client's billing email.",
    )
    subject: str | None = Field(
        default=None, max_length=998, description="Email subject (default: 'Quote N is ready')."
    )
    message: str | None = Field(default=None, max_length=20000, description="Message shown above the quote details.")
    no_op_if_already_sent: bool = Field(
        default=True, description="Return no_op for a quote already sent (otherwise a ValidationError)."
    )


class QuoteRef(ActionOutput):
    quote_id: uuid.UUID
    quote_number: str | None
    status: str | None
    client_id: uuid.UUID | None
    title: str


class StoredPdf(ActionOutput):
    bucket: str
    key: str
    document_id: uuid.UUID
    url: str = Field(description="A presigned GET link, valid for 7 days.")


class SendQuoteOutput(ActionOutput):
    quote: QuoteRef
    previous_status: str | None
    new_status: str | None
    sent_at: UtcDateTime | None
    recipients: list[str]
    email_sent: bool
    message_id: str | None
    email_error: str | None = None
    no_op: bool
    pdf: StoredPdf | None = Field(default=None, description="The filed PDF (none for a no-op or a dry run).")
    pdf_stored: bool = Field(default=False, description="Whether the PDF is in S3 (a failed put is retried later).")


def resolve_recipients(explicit: list[str] | None, contact_email: str | None, billing_email: str | None) -> list[str]:
    """Explicit addresses, else the contact's email, else the client's billing email: trimmed, deduplicated."""
    for source in (explicit or [], [contact_email or ""], [billing_email or ""]):
        cleaned = list(dict.fromkeys(address.strip() for address in source if address and address.strip()))
        if cleaned:
            return cleaned
    return []


def send_quote(ctx: ActionContext, data: SendQuoteInput) -> SendQuoteOutput:
    quote = require_found(
        quotes_dal.lock_quote_for_send(ctx.connection, ctx.tenant_id, data.quote_id),
        "quote",
        data.quote_id,
        field="quote_id",
    )
    status = expire_on_access(ctx, quote.quote_id, quote.status, quote.valid_until)
    if status != quote.status:
        quote = replace(quote, status=status)
    refuse_template(quote.is_template, "sent to clients")
    ref = QuoteRef(
        quote_id=quote.quote_id,
        quote_number=quote.quote_number,
        status=quote.status,
        client_id=quote.client_id,
        title=quote.title,
    )
    if quote.status == "sent":
        return _already_sent(ctx, data, quote, ref)
    _require_sendable(quote)
    recipients = resolve_recipients(
        [str(a) for a in data.email_addresses or []], quote.contact_email, quote.billing_email
    )
    output = SendQuoteOutput(
        quote=ref.model_copy(update={"status": "sent"}),
        previous_status=quote.status,
        new_status="sent",
        sent_at=ctx.now,
        recipients=recipients,
        email_sent=False,
        message_id=None,
        no_op=False,
    )
    if ctx.dry_run:  # guards checked and the outcome computed: nothing rendered, stored or sent
        return output
    output.pdf, email_queued = _send(ctx, data, quote, recipients)
    ctx.audit(
        {
            "quote_id": quote.quote_id,
            "previous_status": quote.status,
            "new_status": "sent",
            "sent_at": ctx.now,
            "recipients": recipients,
            "email_sent": False,
            "email_queued": email_queued,
            "message_id": None,
        }
    )
    return output


def _already_sent(
    ctx: ActionContext, data: SendQuoteInput, quote: quotes_dal.QuoteForSend, ref: QuoteRef
) -> SendQuoteOutput:
    if not data.no_op_if_already_sent:
        raise guard_failed(
            "quote_not_already_sent",
            "Quote was already sent; resending is not supported by crm.send_quote v1",
            field="status",
            expected=["draft", "approved"],
            actual="sent",
        )
    ctx.audit({"quote_id": quote.quote_id, "no_op": True, "status": "sent"}, {"no_op": True})
    return SendQuoteOutput(
        quote=ref,
        previous_status="sent",
        new_status="sent",
        sent_at=quote.sent_at,
        recipients=[],
        email_sent=False,
        message_id=None,
        no_op=True,
    )


def _require_sendable(quote: quotes_dal.QuoteForSend) -> None:
    status = quote.status or "draft"
    if quote.approval_required and status != "approved":
        raise guard_failed(
            "quote_approved_before_send",
            "Only approved quotes can be sent when quote approval is required",
            field="status",
            expected=["approved"],
            actual=quote.status,
            approval_required=True,
        )
    require_status(
        status,
        ["draft", "approved"],
        "quote_sendable_status",
        "Only draft or approved quotes can be sent",
        approval_required=quote.approval_required,
    )


def _send(
    ctx: ActionContext, data: SendQuoteInput, quote: quotes_dal.QuoteForSend, recipients: list[str]
) -> tuple[StoredPdf, bool]:
    """Everything of a real send inside the transaction; returns the filed PDF and whether an email is queued."""
    settings = get_settings()
    bucket = settings.require("quote_bucket")
    items = quotes_dal.quote_items(ctx.connection, ctx.tenant_id, quote.quote_id)
    totals = totals_of(quote, items)
    quotes_dal.update_quote(
        ctx.writes,
        ctx.tenant_id,
        quote.quote_id,
        {
            "status": "sent",
            "sent_at": ctx.now,
            "updated_by": ctx.actor_user_id,
            "updated_at": ctx.now,
            "subtotal": totals.subtotal,
            "discount_total": totals.discount_total,
            "tax": totals.tax,
            "total_amount": totals.total_amount,
        },
    )
    number = quote.quote_number or str(quote.quote_id)
    pdf = render_quote_pdf(_pdf_data(quote, items, totals, number))
    send_stamp = ctx.now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    object_key = f"{ctx.tenant_id}/quotes/{quote.quote_id}/{send_stamp}/{pdf_file_name(number)}"
    document_id = quotes_dal.file_quote_document(
        ctx.writes,
        ctx.tenant_id,
        quote.quote_id,
        name=pdf_file_name(number),
        bucket=bucket,
        key=object_key,
        size=len(pdf),
        created_by=ctx.actor_user_id,
        now=ctx.now,
    )
    activity_id = quotes_dal.insert_quote_activity(
        ctx.writes,
        ctx.tenant_id,
        quote.quote_id,
        activity_type="sent",
        description="Quote published in client portal",
        performed_by=ctx.actor_user_id,
        metadata={
            "recipients": recipients,
            "email_sent": False,
            "message_id": None,
            "workflow_source": "crm.send_quote",
            "previous_status": quote.status,
            "document_id": str(document_id),
        },
        now=ctx.moment(),
    )
    ctx.store_document(
        f"quote_pdf:{quote.quote_id}:{send_stamp}",
        bucket=bucket,
        object_key=object_key,
        body=pdf,
        content_type="application/pdf",
        metadata={"quote-id": str(quote.quote_id), "tenant": str(ctx.tenant_id)},
        recorder=DOCUMENT_RECORDER,
    )
    if recipients:
        _queue_email(
            ctx,
            data=data,
            quote=quote,
            recipients=recipients,
            pdf=pdf,
            totals=totals,
            number=number,
            send_stamp=send_stamp,
            activity_id=activity_id,
        )
    url = S3DocumentStore().presigned_get_url(bucket=bucket, key=object_key, expires_in_seconds=PRESIGNED_URL_SECONDS)
    return StoredPdf(bucket=bucket, key=object_key, document_id=document_id, url=url), bool(recipients)


def _queue_email(
    ctx: ActionContext,
    *,
    data: SendQuoteInput,
    quote: quotes_dal.QuoteForSend,
    recipients: list[str],
    pdf: bytes,
    totals: QuoteTotals,
    number: str,
    send_stamp: str,
    activity_id: uuid.UUID,
) -> None:
    settings = get_settings()
    sender = settings.require("email_from")
    subject = (data.subject or "").strip() or default_subject(number)
    raw = build_quote_email(
        sender=sender,
        recipients=recipients,
        quote_number=number,
        total=format_money(totals.total_amount, quote.currency_code),
        company_name=quote.tenant_name or "",
        portal_url=portal_link(settings.require("portal_base_url")),
        valid_until=quote.valid_until.date() if quote.valid_until else None,
        subject=subject,
        message=data.message,
        pdf=pdf,
        sent_at=ctx.now,
    )
    key = f"quote_email:{quote.quote_id}:{send_stamp}"
    log_id = quotes_dal.insert_email_log(
        ctx.writes,
        ctx.tenant_id,
        delivery_key=key,
        sender=sender,
        recipients=recipients,
        subject=subject,
        entity_id=quote.quote_id,
        contact_id=quote.contact_id,
        now=ctx.now,
    )
    ctx.send_email(
        key,
        sender=sender,
        recipients=recipients,
        raw_message=raw,
        details={"quote_id": quote.quote_id, "activity_id": activity_id, "email_log_id": log_id},
        recorder=EMAIL_RECORDER,
    )


# What the PDF prints of the quote as the row holds it (the rest is numbered, reduced to dates or computed).
PRINTED_AS_STORED = (
    "title",
    "description",
    "client_name",
    "contact_name",
    "contact_email",
    "currency_code",
    "client_notes",
    "terms_and_conditions",
)


def _pdf_data(
    quote: quotes_dal.QuoteForSend, items: list[quotes_dal.QuoteItemRow], totals: QuoteTotals, number: str
) -> QuotePdfData:
    amounts = {line.item_id: line for line in totals.lines}
    lines = tuple(
        QuotePdfLine(
            description=item.description,
            quantity=item.quantity,
            unit_price=item.unit_price,
            line_total=abs(amounts[item.quote_item_id].total_price),
            is_optional=item.is_optional,
            is_selected=item.is_selected,
            is_discount=item.is_discount,
            discount_type=cast(DiscountType, item.discount_type),
            discount_percentage=item.discount_percentage,
        )
        for item in items
    )
    printed: dict[str, Any] = {name: getattr(quote, name) for name in PRINTED_AS_STORED} | totals.amounts()
    return QuotePdfData(
        **printed,
        tenant_name=quote.tenant_name or "",
        quote_number=number,
        quote_date=quote.quote_date.date() if quote.quote_date else None,
        valid_until=quote.valid_until.date() if quote.valid_until else None,
        lines=lines,
    )


@outcome_recorder(EMAIL_RECORDER)
def record_email_outcome(connection: Any, effect: EffectRow, outcome: EffectOutcome) -> dict[str, Any]:
    """After each send attempt: the activity, the email log and the call's output say how it went."""
    details = effect.payload
    sent = outcome.status == "DELIVERED"
    message_id = (outcome.result or {}).get("message_id") if sent else None
    recipients = list(details["to"])
    description = (
        f"Quote sent to {_join(recipients)} and published in client portal"
        if sent
        else "Quote published in client portal"
    )
    quotes_dal.update_quote_activity(
        connection,
        effect.tenant,
        uuid.UUID(details["activity_id"]),
        description=description,
        metadata={
            "email_sent": sent,
            "message_id": message_id,
            "email_error": outcome.error,
            "email_status": outcome.status.lower(),
            "email_attempts": outcome.attempts,
        },
    )
    quotes_dal.update_email_log(
        connection,
        effect.tenant,
        uuid.UUID(details["email_log_id"]),
        status={"DELIVERED": "sent", "RETRYING": "pending", "FAILED": "failed"}[outcome.status],
        message_id=message_id,
        error_message=outcome.error,
        attempts=outcome.attempts,
        sent_at=datetime.now(UTC) if sent else None,
    )
    return {"email_sent": sent, "message_id": message_id, "email_error": None if sent else outcome.error}


@outcome_recorder(DOCUMENT_RECORDER)
def record_document_outcome(connection: Any, effect: EffectRow, outcome: EffectOutcome) -> dict[str, Any] | None:
    """Once the PDF is in S3, the output's ``pdf_stored`` turns true (the relay stores a failed put later)."""
    return {"pdf_stored": True} if outcome.status == "DELIVERED" else None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


SPEC = action_spec(
    send_quote,
    label="Send Quote",
    description="Mark a quote sent, file its PDF in S3 and email it to the client with the PDF attached.",
    permissions=requires("billing:read", "billing:update"),
    rehearsal_input={"quote_id": REHEARSAL_ID},
    prepare=prepare_rendering,
    effect_services=("s3", "sesv2"),
)
