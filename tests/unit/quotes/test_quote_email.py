"""The quote email (crm_core.actions.quotes.email): raw MIME bytes parsed back with the stdlib. No AWS."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any, cast

import pytest
from pypdf import PdfReader

from crm_core.actions.quotes.document import QuotePdfData, QuotePdfLine, render_quote_pdf
from crm_core.actions.quotes.email import (
    DEFAULT_MESSAGE,
    build_quote_email,
    default_subject,
    pdf_file_name,
    portal_link,
)

PORTAL = "https://portal.acme.test/client-portal/billing?tab=quotes"
PDF = b"%PDF-1.4\n% not a real quote, just bytes\n%%EOF\n"


def build(**overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "sender": "Acme Billing <billing@acme.test>",
        "recipients": ["dana@globex.test", "fox@globex.test"],
        "quote_number": "Q-0042",
        "total": "$1,234.56",
        "company_name": "Acme IT Services",
        "portal_url": PORTAL,
        "valid_until": date(2026, 3, 31),
        "pdf": PDF,
    }
    return build_quote_email(**{**values, **overrides})


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, kind
    assert part.get_content_type() == f"text/{kind}"
    # Text travels with CRLF line ends (policy SMTP); compare with "\n".
    return cast(str, part.get_content()).replace("\r\n", "\n")


def test_the_message_has_headers_both_parts_and_the_pdf() -> None:
    raw = build()
    message = parse(raw)
    assert message["From"] == "Acme Billing <billing@acme.test>"
    assert [a.addr_spec for a in message["To"].addresses] == ["dana@globex.test", "fox@globex.test"]
    assert message["Subject"] == "Quote Q-0042 is ready"
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(part for part in message.walk() if part.get_content_type() == "multipart/alternative")
    assert [part.get_content_type() for part in alternative.iter_parts()] == ["text/plain", "text/html"]

    text = body(message, "plain")
    for expected in (DEFAULT_MESSAGE, "Quote: Q-0042", "Total: $1,234.56", "Valid until: 31 March 2026", PORTAL):
        assert expected in text
    assert text.rstrip().endswith("Acme IT Services")

    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_filename() == "Quote_Q-0042.pdf"
    assert attachments[0].get_content() == PDF


def test_the_raw_message_is_smtp_shaped() -> None:
    raw = build(company_name="Ωμέγα Ltd", message="Zoë, here it is")
    assert raw.isascii()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_html_escapes_user_text_and_links_the_portal() -> None:
    message = parse(
        build(
            message='<script>alert("x")</script>\nSecond & last line',
            company_name="<b>Acme</b> & Sons",
            quote_number="Q-<7>",
            total="$1 <i>",
        )
    )
    html = body(message, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>" in html
    assert "Second &amp; last line" in html
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Sons" in html
    assert "Q-&lt;7&gt;" in html
    assert "$1 &lt;i&gt;" in html
    assert '<a href="https://portal.acme.test/client-portal/billing?tab=quotes">' in html
    text = body(message, "plain")
    assert '<script>alert("x")</script>\nSecond & last line' in text
    assert "<b>Acme</b> & Sons" in text


def test_a_link_with_quotes_cannot_break_out_of_the_href() -> None:
    html = body(parse(build(portal_url='https://p.test/x?a="><script>')), "html")
    assert 'href="https://p.test/x?a=&quot;&gt;&lt;script&gt;"' in html


def test_the_workflow_subject_and_message_win() -> None:
    message = parse(build(subject="Your  new\r\nquote", message="Hello Dana,\n\nplease review."))
    assert message["Subject"] == "Your new quote"
    text = body(message, "plain")
    assert text.startswith("Hello Dana,\n\nplease review.\n")
    assert DEFAULT_MESSAGE not in text


@pytest.mark.parametrize("blank", [None, "", "   \n"])
def test_blank_subject_and_message_fall_back(blank: str | None) -> None:
    message = parse(build(subject=blank, message=blank))
    assert message["Subject"] == default_subject("Q-0042") == "Quote Q-0042 is ready"
    assert body(message, "plain").startswith(DEFAULT_MESSAGE)
    assert DEFAULT_MESSAGE in body(message, "html")


def test_unicode_subject_and_names_survive() -> None:
    message = parse(build(subject="Angebot für Zoë Ünal: 山田", company_name="Ωμέγα Ltd"))
    assert message["Subject"] == "Angebot für Zoë Ünal: 山田"
    assert "Ωμέγα Ltd" in body(message, "plain")
    assert "Ωμέγα Ltd" in body(message, "html")


def test_without_a_pdf_there_is_no_attachment() -> None:
    message = parse(build(pdf=None))
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []


def test_without_valid_until_the_line_is_left_out() -> None:
    assert "Valid until" not in body(parse(build(valid_until=None)), "plain")


def test_date_header_only_when_the_send_time_is_given() -> None:
    assert parse(build())["Date"] is None
    sent = parse(build(sent_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC)))
    assert sent["Date"].datetime == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_recipients_are_trimmed_and_required() -> None:
    message = parse(build(recipients=["  dana@globex.test  ", ""]))
    assert [a.addr_spec for a in message["To"].addresses] == ["dana@globex.test"]
    with pytest.raises(ValueError, match="at least one recipient"):
        build(recipients=[])
    with pytest.raises(ValueError, match="at least one recipient"):
        build(recipients=["  "])
    with pytest.raises(ValueError):
        build(recipients=["not an address"])
    with pytest.raises(ValueError, match="sender"):
        build(sender=" ")


def test_a_rendered_quote_travels_intact() -> None:
    quote = QuotePdfData(
        tenant_name="Acme IT Services",
        quote_number="Q-0042",
        title="Network refresh",
        currency_code="EUR",
        lines=(QuotePdfLine(description="Core switch", quantity=1, unit_price=99900, line_total=99900),),
        subtotal=99900,
        discount_total=0,
        tax=0,
        total_amount=99900,
    )
    pdf = render_quote_pdf(quote)
    attachment = next(parse(build(pdf=pdf)).iter_attachments())
    content = attachment.get_content()
    assert content == pdf
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Core switch" in text
    assert "€999.00" in text


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://portal.acme.test", PORTAL),
        ("https://portal.acme.test/", PORTAL),
        (" http://localhost:3000 ", "http://localhost:3000/client-portal/billing?tab=quotes"),
        ("https://acme.test/psa", "https://acme.test/psa/client-portal/billing?tab=quotes"),
    ],
)
def test_portal_link(base: str, expected: str) -> None:
    assert portal_link(base) == expected


@pytest.mark.parametrize("base", ["", "portal.acme.test", "ftp://acme.test", "https://", "javascript:alert(1)"])
def test_portal_link_needs_an_absolute_http_url(base: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        portal_link(base)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("Q-0001", "Quote_Q-0001.pdf"),
        ("QUO-0042", "Quote_QUO-0042.pdf"),
        (" Q-7 ", "Quote_Q-7.pdf"),
        ("A/B\\C:D", "Quote_A_B_C_D.pdf"),
        ("Nº 5", "Quote_Nº 5.pdf"),
    ],
)
def test_pdf_file_name(number: str, expected: str) -> None:
    assert pdf_file_name(number) == expected


def test_pdf_file_name_needs_a_number() -> None:
    with pytest.raises(ValueError, match="quote number"):
        pdf_file_name("  ")


def test_a_non_ascii_file_name_survives_the_round_trip() -> None:
    attachment = next(parse(build(quote_number="Nº 5")).iter_attachments())
    assert attachment.get_filename() == "Quote_Nº 5.pdf"
