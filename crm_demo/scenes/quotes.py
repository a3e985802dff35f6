"""Scene: a quote from draft to cash: created, items added with its totals, submitted, approved, sent with its PDF
and email, accepted by the client, converted into a draft contract and invoice."""

from __future__ import annotations

import email
import email.policy
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from sqlalchemy import text

from crm_core.actions.quotes.currency import format_money
from crm_core.db.engine import get_engine, tenant_transaction
from crm_core.errors import ActionFailure
from crm_demo import ids
from crm_demo.stage import Stage

OUTPUT = Path(__file__).resolve().parents[2] / ".local" / "demo-output"


def _money(cents: int) -> str:
    return format_money(cents, "USD")


def _accept_in_portal(quote_id: str) -> None:
    """The client accepts the quote in the portal: that happens outside these actions, so the demo writes it."""
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        session.execute(
            text("update quotes set status = 'accepted', accepted_at = now() where tenant = :t and quote_id = :q"),
            {"t": ids.TENANT, "q": quote_id},
        )


def save_artifacts(sent: dict[str, Any]) -> list[str]:
    """Write the stored PDF (read back from S3) and the sent email (from the emulator) to the output folder."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"))
    pdf_path = OUTPUT / Path(sent["pdf"]["key"]).name
    pdf_path.write_bytes(s3.get_object(Bucket=sent["pdf"]["bucket"], Key=sent["pdf"]["key"])["Body"].read())
    lines = [f"PDF   : {pdf_path}"]
    raw = _sent_email(sent["message_id"])
    if raw is not None:
        eml_path = OUTPUT / f"{pdf_path.stem}.eml"
        eml_path.write_text(raw)
        parsed = email.message_from_string(raw, policy=email.policy.default)
        lines.append(f"email : {eml_path} (to {parsed['To']}, subject {parsed['Subject']!r})")
    return lines


def _sent_email(message_id: str | None) -> str | None:
    """The raw message SES accepted: the demo's moto server runs in this process, so its backend is read directly
    (``/moto-api/data.json`` fails once Lambda functions exist: it asks Docker about them)."""
    if not message_id:
        return None
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_REGION", "us-east-1")]
    for message in backend.sent_messages:
        if message.id == message_id and getattr(message, "raw_data", None) is not None:
            return str(message.raw_data)
    return None


def play(stage: Stage) -> None:
    stage.scene("Quote to cash (create, add items, submit, approve, send, convert)")
    today = datetime.now(UTC).date()
    created = stage.invoke(
        "crm.create_quote",
        {
            "client_id": ids.INITECH,
            "contact_id": ids.INITECH_PETER,
            "title": "Managed IT for Initech",
            "quote_date": today.isoformat(),
            "valid_until": (today + timedelta(days=30)).isoformat(),
            "client_notes": "Prices include onboarding of up to 40 devices.",
            "terms_and_conditions": "Net 30. Monthly services renew each month until cancelled.",
        },
        idempotency_key="demo-initech-quote",
    )["quote"]
    quote_id = created["quote_id"]
    items = [
        {"description": "Managed endpoints (per device, monthly)", "quantity": 40, "unit_price": 45_00,
         "is_recurring": True, "billing_frequency": "monthly", "billing_method": "per_unit", "tax_rate": 825},
        {"description": "Onboarding and documentation", "quantity": 1, "unit_price": 1_500_00, "tax_rate": 825},
        {"description": "After-hours support (optional)", "quantity": 1, "unit_price": 300_00,
         "is_optional": True, "is_selected": False},
        {"description": "New client discount", "is_discount": True, "discount_type": "percentage",
         "discount_percentage": 10},
    ]  # fmt: skip
    quote = created
    for n, item in enumerate(items):
        quote = stage.invoke("crm.add_quote_item", {"quote_id": quote_id, **item}, idempotency_key=f"demo-item-{n}")[
            "quote"
        ]
    stage.show(
        f"Quote {quote['quote_number']} created and priced (integer cents, tax per line)",
        [
            stage.ok(f"{quote['items_count']} items; subtotal {_money(quote['subtotal'])}, "
                     f"discounts {_money(quote['discount_total'])}, tax {_money(quote['tax'])}, "
                     f"total {_money(quote['total_amount'])}"),
            stage.dim("the optional after-hours line is not selected, so it does not count"),
        ],
    )  # fmt: skip

    submitted = stage.invoke(
        "crm.submit_quote_for_approval", {"quote_id": quote_id, "comment": "Standard MSP pricing"}, actor=ids.FINANCE
    )
    own = stage.attempt("crm.approve_quote", {"quote_id": quote_id, "decision": "approve"}, actor=ids.FINANCE)
    approved = stage.invoke("crm.approve_quote", {"quote_id": quote_id, "decision": "approve", "comment": "OK"})
    stage.show(
        "Approval",
        [
            stage.ok(f"submitted by Finance: {submitted['previous_status']} -> {submitted['new_status']}"),
            stage.refused(own) if isinstance(own, ActionFailure) else f"unexpected success: {own}",
            stage.ok(f"approved by the Admin: {approved['previous_status']} -> {approved['new_status']}"),
        ],
    )

    sent = stage.invoke("crm.send_quote", {"quote_id": quote_id, "subject": f"Your quote {quote['quote_number']}"})
    stage.show(
        "Sent: PDF stored in S3, email through SES, after the commit",
        [
            stage.ok(f"{sent['previous_status']} -> {sent['new_status']} to {', '.join(sent['recipients'])}; "
                     f"email sent: {sent['email_sent']} (message {sent['message_id']})"),
            *[stage.ok(line) for line in save_artifacts(sent)],
        ],
    )  # fmt: skip

    _accept_in_portal(quote_id)
    converted = stage.invoke("crm.convert_quote", {"quote_id": quote_id, "target": "contract_and_invoice"})
    again = stage.invoke("crm.convert_quote", {"quote_id": quote_id, "target": "contract_and_invoice"})
    stage.show(
        "Accepted in the client portal, then converted",
        [
            stage.ok(f"draft contract {converted['contract_id']} (the monthly endpoints)"),
            stage.ok(f"draft invoice {converted['invoice_id']} (onboarding, less the discount)"),
            stage.ok(f"quote status now {converted['quote']['status']}; converting again is a no-op: {again['no_op']}"),
        ],
    )
    print(f"    {stage.dim(f'quote PDF and email written to {OUTPUT}')}")
