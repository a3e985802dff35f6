"""The quote email: a raw MIME message for SES ``SendRawEmail``, with the quote PDF attached.

The message is ``multipart/mixed``: a ``multipart/alternative`` (plain text, then HTML) and, when given, the PDF
as ``Quote_{number}.pdf``. The text follows the reference's fallback ``quote-email`` template: the workflow's
message (or "Your quote is available in the client portal."), the quote number, total and valid-until date, the
client-portal link and the company (tenant) name. All user text is escaped in the HTML part.

Pure: no AWS, no clock (the ``Date`` header is set only when the caller passes the send time).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from urllib.parse import urlsplit

from crm_core.actions.quotes.document import format_date

__all__ = ["DEFAULT_MESSAGE", "PORTAL_PATH", "build_quote_email", "default_subject", "pdf_file_name", "portal_link"]

DEFAULT_MESSAGE = "Your quote is available in the client portal."
PORTAL_PATH = "/client-portal/billing?tab=quotes"

# Characters no file name may hold on common systems (and path separators), replaced by "_".
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def portal_link(base_url: str) -> str:
    """The client portal's quotes page: ``{base_url}/client-portal/billing?tab=quotes``.

    ``base_url`` is the portal's origin (``PORTAL_BASE_URL``), with or without a trailing slash; it must be an
    absolute http(s) URL (ValueError otherwise), because the link is clicked from a mail client.
    """
    base = base_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"portal base URL must be an absolute http(s) URL, got {base_url!r}")
    return f"{base}{PORTAL_PATH}"


def pdf_file_name(quote_number: str) -> str:
    """``Quote_{quote_number}.pdf``, with characters unsafe in file names replaced by ``_``."""
    number = quote_number.strip()
    if not number:
        raise ValueError("a quote number is needed to name its PDF")
    return f"Quote_{_UNSAFE_FILE_CHARS.sub('_', number)}.pdf"


def default_subject(quote_number: str) -> str:
    """The subject when the workflow gives none: ``Quote {quote_number} is ready``."""
    return f"Quote {quote_number} is ready"


def _one_line(text: str) -> str:
    """Whitespace runs (line breaks included) collapsed to one space: a header may not hold a line break."""
    return " ".join(text.split())


def _paragraphs(text: str) -> list[str]:
    """The message's lines with control characters other than line breaks dropped."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = "".join(ch for ch in normalised if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return cleaned.strip().split("\n")


def _facts(quote_number: str, total: str, valid_until: date | None) -> list[tuple[str, str]]:
    facts = [("Quote", quote_number), ("Total", total)]
    if valid_until is not None:
        facts.append(("Valid until", format_date(valid_until)))
    return facts


def _text_body(lines: list[str], facts: list[tuple[str, str]], link: str, company_name: str) -> str:
    fact_lines = [f"{label}: {value}" for label, value in facts]
    parts = ["\n".join(lines), "\n".join(fact_lines), f"View your quote in the client portal:\n{link}", company_name]
    return "\n\n".join(part for part in parts if part.strip()) + "\n"


def _html_body(lines: list[str], facts: list[tuple[str, str]], link: str, company_name: str) -> str:
    esc = html.escape
    message = "<br>\n".join(esc(line) for line in lines)
    label_style = "padding:2px 16px 2px 0;color:#555"
    rows = "\n".join(
        f'<tr><td style="{label_style}">{esc(label)}</td><td><strong>{esc(value)}</strong></td></tr>'
        for label, value in facts
    )
    company = f"<p>{esc(company_name)}</p>" if company_name.strip() else ""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">\n'
        f"<p>{message}</p>\n<table>\n{rows}\n</table>\n"
        f'<p><a href="{esc(link, quote=True)}">View your quote in the client portal</a></p>\n'
        f"{company}\n</body></html>\n"
    )


def _address_headers(message: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
    addresses = [Address(addr_spec=recipient.strip()) for recipient in recipients if recipient.strip()]
    if not addresses:
        raise ValueError("a quote email needs at least one recipient")
    if not sender.strip():
        raise ValueError("a quote email needs a sender address")
    # The sender may carry a display name ("Acme Billing <billing@acme.test>"): the header parser keeps it.
    message["From"] = sender.strip()
    message["To"] = addresses


def build_quote_email(
    *,
    sender: str,
    recipients: Sequence[str],
    quote_number: str,
    total: str,
    company_name: str,
    portal_url: str,
    valid_until: date | None = None,
    subject: str | None = None,
    message: str | None = None,
    pdf: bytes | None = None,
    sent_at: datetime | None = None,
) -> bytes:
    """The raw MIME bytes (CRLF line ends) of the email that sends a quote, ready for SES ``SendRawEmail``.

    ``total`` is already formatted (``currency.format_money``); ``portal_url`` is the full link
    (``portal_link(base_url)``). A blank ``subject`` or ``message`` falls back to ``default_subject`` and
    ``DEFAULT_MESSAGE``. ``pdf``, when given, is attached as ``pdf_file_name(quote_number)``. ``sent_at``, when
    given (timezone-aware), becomes the ``Date`` header. Invalid or missing addresses raise ValueError (or the
    email package's HeaderParseError, a ValueError subclass).
    """
    mime = EmailMessage(policy=SMTP)
    _address_headers(mime, sender, recipients)
    mime["Subject"] = _one_line(subject or "") or _one_line(default_subject(quote_number))
    if sent_at is not None:
        mime["Date"] = format_datetime(sent_at)
    lines = _paragraphs(message or "") if (message or "").strip() else [DEFAULT_MESSAGE]
    facts = _facts(quote_number, total, valid_until)
    # quoted-printable keeps every part 7-bit clean whatever the script of the names in it.
    mime.set_content(_text_body(lines, facts, portal_url, company_name), cte="quoted-printable")
    mime.add_alternative(_html_body(lines, facts, portal_url, company_name), subtype="html", cte="quoted-printable")
    if pdf is not None:
        mime.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_file_name(quote_number))
    return mime.as_bytes()
