"""The quote PDF (crm_core.actions.quotes.document): rendered with reportlab, read back with pypdf. No database."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from crm_core.actions.quotes.document import QuotePdfData, QuotePdfLine, format_date, render_quote_pdf
from tests.support.imports import assert_not_loaded


def make_line(index: int, **overrides: Any) -> QuotePdfLine:
    values: dict[str, Any] = {
        "description": f"Managed backup seat {index:03d}",
        "quantity": 2,
        "unit_price": 1050,
        "line_total": 2100,
    }
    return QuotePdfLine(**{**values, **overrides})


def make_quote(line_count: int = 3, **overrides: Any) -> QuotePdfData:
    values: dict[str, Any] = {
        "tenant_name": "Acme IT Services",
        "quote_number": "Q-0042",
        "title": "Network refresh",
        "description": "Replace the office switches and add backup.",
        "client_name": "Globex Corporation",
        "contact_name": "Dana Scully",
        "contact_email": "dana@globex.test",
        "quote_date": date(2026, 3, 1),
        "valid_until": date(2026, 3, 31),
        "currency_code": "USD",
        "lines": tuple(make_line(i) for i in range(line_count)),
        "subtotal": 123456,
        "discount_total": 0,
        "tax": 0,
        "total_amount": 123456,
        "client_notes": "Prices include installation.",
        "terms_and_conditions": "Payment due within 30 days.",
    }
    return QuotePdfData(**{**values, **overrides})


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def base_fonts(pdf: bytes) -> set[str]:
    fonts: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        fonts.update(str(font.get_object()["/BaseFont"]) for font in resources["/Font"].values())
    return fonts


def test_the_pdf_shows_the_quote() -> None:
    pdf = render_quote_pdf(make_quote())
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(page_texts(pdf))
    for expected in (
        "Acme IT Services",
        "Quote Q-0042",
        "Network refresh",
        "Replace the office switches and add backup.",
        "Globex Corporation",
        "Dana Scully",
        "dana@globex.test",
        "1 March 2026",
        "31 March 2026",
        "Managed backup seat 000",
        "Managed backup seat 001",
        "Managed backup seat 002",
        "$10.50",
        "$21.00",
        "Subtotal",
        "Discounts",
        "Tax",
        "Total",
        "$1,234.56",
        "Prices include installation.",
        "Payment due within 30 days.",
        "Page 1",
    ):
        assert expected in text, expected


def test_absent_optional_fields_are_left_out() -> None:
    quote = make_quote(
        description=None,
        client_name=None,
        contact_name=None,
        contact_email=None,
        quote_date=None,
        valid_until=None,
        client_notes=None,
        terms_and_conditions="   ",
    )
    text = "\n".join(page_texts(render_quote_pdf(quote)))
    assert "Quote Q-0042" in text
    for label in ("Client", "Contact", "Quote date", "Valid until", "Notes", "Terms and conditions"):
        assert label not in text


def test_yen_amounts_have_no_decimals() -> None:
    lines = (make_line(1, unit_price=500, line_total=1500, quantity=3),)
    quote = make_quote(currency_code="JPY", lines=lines, subtotal=1500, tax=150, total_amount=1650)
    text = "\n".join(page_texts(render_quote_pdf(quote)))
    assert "¥500" in text
    assert "¥1,500" in text
    assert "¥1,650" in text
    assert re.search(r"¥[\d,]+\.", text) is None


def test_three_digit_currency_and_wide_amounts_stay_on_one_line() -> None:
    huge = 123456789012345
    lines = (make_line(1, quantity=1, unit_price=huge, line_total=huge),)
    quote = make_quote(currency_code="KWD", lines=lines, subtotal=huge, total_amount=huge)
    text = "\n".join(page_texts(render_quote_pdf(quote)))
    assert text.count("KWD 123,456,789,012.345") == 4  # unit price, line total, subtotal, total


def test_optional_and_discount_lines_are_marked() -> None:
    lines = (
        make_line(1, description="Core switch"),
        make_line(2, description="Spare power supply", is_optional=True),
        make_line(3, description="On-site training", is_optional=True, is_selected=False),
        make_line(
            4,
            description="Loyalty discount",
            quantity=1,
            unit_price=0,
            line_total=1000,
            is_discount=True,
            discount_type="percentage",
            discount_percentage=10,
        ),
        make_line(5, description="Launch credit", quantity=1, unit_price=2500, line_total=2500, is_discount=True),
    )
    quote = make_quote(lines=lines, subtotal=10000, discount_total=3500, tax=650, total_amount=7150)
    text = "\n".join(page_texts(render_quote_pdf(quote)))
    assert "Spare power supply\n(optional)" in text
    assert "On-site training\n(optional) · not selected" in text
    assert "Loyalty discount\nDiscount (10%)" in text
    assert "10%" in text
    assert "-$10.00" in text
    assert "Launch credit\nDiscount" in text
    assert "-$25.00" in text
    assert "-$35.00" in text  # the discounts row
    assert "$71.50" in text


def test_a_long_quote_flows_onto_more_pages_with_the_header_on_each() -> None:
    quote = make_quote(line_count=60)
    texts = page_texts(render_quote_pdf(quote))
    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        assert "Description" in text, f"page {number} has no table header"
        assert "Unit price" in text
        assert f"Page {number}" in text
    everything = "\n".join(texts)
    for line in quote.lines:
        assert line.description in everything
    assert everything.count("Managed backup seat") == 60


def test_a_description_longer_than_a_page_splits() -> None:
    words = " ".join(f"word{i}" for i in range(2500))
    quote = make_quote(line_count=1, title="Big", terms_and_conditions=None)
    quote = replace(quote, lines=(make_line(1, description=words),))
    texts = page_texts(render_quote_pdf(quote))
    assert len(texts) > 1
    joined = " ".join("\n".join(texts).split())
    assert "word0 " in joined
    assert "word2499" in joined


@pytest.mark.parametrize(
    "name",
    ["Ωμέγα Ltd", "Иван Петров", "Zoë Ünal", "Łódź Żółć Sp. z o.o.", "Ærøskøbing ApS", "Şişli Çiçek A.Ş."],
)
def test_non_latin_and_accented_names_print_in_dejavu(name: str) -> None:
    pdf = render_quote_pdf(make_quote(tenant_name=name, client_name=name, contact_name=name))
    assert name in page_texts(pdf)[0]
    assert base_fonts(pdf) & {"/HeiseiKakuGo-W5", "/STSong-Light", "/HYGothic-Medium"} == set()


@pytest.mark.parametrize(
    ("name", "cid_font"),
    [
        ("山田太郎", "/HeiseiKakuGo-W5"),
        ("やまだ たろう", "/HeiseiKakuGo-W5"),
        ("张伟有限公司", "/STSong-Light"),
        ("김민준", "/HYGothic-Medium"),
        ("Ωμέγα 山田 Zoë", "/HeiseiKakuGo-W5"),
    ],
)
def test_cjk_names_use_a_cid_font(name: str, cid_font: str) -> None:
    pdf = render_quote_pdf(make_quote(client_name=name, contact_name=name))
    fonts = base_fonts(pdf)
    assert cid_font in fonts
    assert "/AAAAAA+DejaVuSans" in fonts
    # Extraction of non-embedded CID text depends on the extractor; the pinned pypdf reads it back.
    assert name in page_texts(pdf)[0]


def test_markup_characters_print_literally() -> None:
    title = '<b>R&D</b> & "more" <br/> &amp;'
    pdf = render_quote_pdf(make_quote(title=title, client_notes="a < b\nb > c"))
    text = page_texts(pdf)[0]
    assert title in text
    assert "a < b\nb > c" in text


def test_control_characters_do_not_break_rendering() -> None:
    pdf = render_quote_pdf(make_quote(title="Bad\x00 title\x07\ttab\r\nline", client_name="\ud800Lone surrogate"))
    text = page_texts(pdf)[0]
    assert "Bad title tab\nline" in text
    assert "Lone surrogate" in text


def test_a_quote_without_lines_renders() -> None:
    text = "\n".join(page_texts(render_quote_pdf(make_quote(line_count=0, subtotal=0, total_amount=0))))
    assert "Description" in text
    assert "$0.00" in text


def test_the_same_data_renders_the_same_bytes() -> None:
    quote = make_quote(line_count=25, client_name="山田太郎")
    assert render_quote_pdf(quote) == render_quote_pdf(QuotePdfData.from_json(quote.to_json()))


def test_json_round_trip() -> None:
    quote = make_quote(line_count=2)
    quote = replace(quote, lines=(*quote.lines, make_line(9, is_discount=True, discount_type="fixed")))
    stored = json.loads(json.dumps(quote.to_json()))
    assert stored["quote_date"] == "2026-03-01"
    assert stored["lines"][2]["discount_type"] == "fixed"
    assert QuotePdfData.from_json(stored) == quote


def test_json_round_trip_without_dates() -> None:
    quote = make_quote(quote_date=None, valid_until=None)
    assert QuotePdfData.from_json(json.loads(json.dumps(quote.to_json()))) == quote


def test_from_json_refuses_unknown_fields() -> None:
    stored = make_quote().to_json()
    with pytest.raises(ValueError, match="unknown quote document fields"):
        QuotePdfData.from_json({**stored, "extra": 1})
    stored["lines"][0]["colour"] = "red"
    with pytest.raises(ValueError, match="unknown quote line fields"):
        QuotePdfData.from_json(stored)


def test_the_model_validates() -> None:
    with pytest.raises(ValueError, match="unknown currency code"):
        make_quote(currency_code="ABC")
    with pytest.raises(TypeError, match="total_amount must be an int"):
        make_quote(total_amount=12.5)
    with pytest.raises(TypeError, match="unit_price must be an int"):
        make_line(1, unit_price=10.5)
    with pytest.raises(ValueError, match="discount_type"):
        make_line(1, discount_type="bogus")
    with pytest.raises(TypeError, match="lines must be QuotePdfLine"):
        make_quote(lines=({"description": "x"},))


def test_lines_and_datetimes_are_normalised() -> None:
    quote = make_quote(line_count=0, quote_date=datetime(2026, 3, 1, 15, 30))
    quote = replace(quote, lines=[make_line(1)])  # type: ignore[arg-type]  # a list on purpose: kept as a tuple
    assert quote.quote_date == date(2026, 3, 1)
    assert isinstance(quote.lines, tuple)


def test_format_date() -> None:
    assert format_date(date(2026, 12, 5)) == "5 December 2026"
    assert format_date(None) == ""


@pytest.mark.parametrize("module", ["crm_core.actions.quotes.document", "crm_core.actions.quotes.email"])
def test_importing_the_quote_modules_does_not_load_reportlab(module: str) -> None:
    assert_not_loaded(f"import {module}", "reportlab")


def test_loading_every_action_does_not_load_reportlab() -> None:
    # The registry imports every module under crm_core.actions, in every Lambda of the layer.
    assert_not_loaded("from crm_core.runtime.registry import all_specs\nall_specs()", "reportlab")
