"""ISO 4217 minor units and money formatting (crm_core.actions.quotes.currency): pure, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.actions.quotes.currency import (
    MINOR_UNITS,
    SYMBOLS,
    currency_symbol,
    format_money,
    is_known_currency,
    minor_units,
)
from crm_core.actions.quotes.document import FONT_DIR


@pytest.mark.parametrize(
    ("cents", "code", "expected"),
    [
        (123456, "USD", "$1,234.56"),
        (1500, "JPY", "¥1,500"),
        (-1200, "USD", "-$12.00"),
        (0, "USD", "$0.00"),
        (5, "USD", "$0.05"),
        (-1, "JPY", "-¥1"),
        (100, "EUR", "€1.00"),
        (123456789, "GBP", "£1,234,567.89"),
        (1234567, "KWD", "KWD 1,234.567"),
        (1000, "BHD", "BHD 1.000"),
        (12345, "CLF", "CLF 1.2345"),
        (10000, "CHF", "CHF 100.00"),
        (250000, "INR", "₹2,500.00"),
        (999, "CAD", "CA$9.99"),
        (1000000, "KRW", "₩1,000,000"),
        (99, "usd", "$0.99"),
        (100000, "ZAR", "R 1,000.00"),
    ],
)
def test_format_money_examples(cents: int, code: str, expected: str) -> None:
    assert format_money(cents, code) == expected


@pytest.mark.parametrize(
    ("code", "digits"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("VND", 0),
        ("CLP", 0),
        ("ISK", 0),
        ("XOF", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("JOD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("LYD", 3),
        ("IQD", 3),
        ("CLF", 4),
        ("UYW", 4),
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("XCG", 2),
        ("ZWG", 2),
    ],
)
def test_minor_units(code: str, digits: int) -> None:
    assert minor_units(code) == digits


@pytest.mark.parametrize("code", ["XXX", "XAU", "XDR", "ABC", "HRK", "ZWL", "", "US", "USDX", None, 840])
def test_unknown_codes_are_refused(code: object) -> None:
    assert not is_known_currency(code)
    with pytest.raises(ValueError, match="unknown currency code"):
        format_money(100, code)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown currency code"):
        minor_units(code)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [12.5, 12.0, True, Decimal("12"), "12"])
def test_only_integer_amounts_are_formatted(amount: object) -> None:
    with pytest.raises(TypeError, match="integers of minor units"):
        format_money(amount, "USD")  # type: ignore[arg-type]


def test_known_codes_are_case_and_blank_insensitive() -> None:
    assert is_known_currency(" eur ")
    assert currency_symbol("eur") == "€"
    assert currency_symbol("SEK") == "SEK"


def test_the_table_is_iso_shaped() -> None:
    assert len(MINOR_UNITS) > 150
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in MINOR_UNITS)
    assert set(MINOR_UNITS.values()) == {0, 2, 3, 4}
    assert set(SYMBOLS) <= set(MINOR_UNITS)


def test_every_symbol_prints_in_the_bundled_font() -> None:
    from reportlab.pdfbase.ttfonts import TTFont

    for file_name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        covered = TTFont("CurrencyProbe", str(FONT_DIR / file_name)).face.charToGlyph
        missing = {code: sym for code, sym in SYMBOLS.items() if any(ord(ch) not in covered for ch in sym)}
        assert missing == {}, file_name


def _parse(text: str, code: str) -> int:
    """The inverse of format_money for one code: the number of minor units the text shows."""
    sign = -1 if text.startswith("-") else 1
    number = text.lstrip("-").removeprefix(currency_symbol(code)).strip().replace(",", "")
    units, _, minor = number.partition(".")
    assert len(minor) == minor_units(code)
    return sign * int(units + minor)


@given(cents=st.integers(min_value=-(10**15), max_value=10**15), code=st.sampled_from(sorted(MINOR_UNITS)))
def test_formatting_loses_nothing(cents: int, code: str) -> None:
    text = format_money(cents, code)
    assert _parse(text, code) == cents
    assert (minor_units(code) == 0) == ("." not in text)
