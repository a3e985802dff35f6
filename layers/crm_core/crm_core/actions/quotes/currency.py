"""ISO 4217 currencies and money formatting for quote documents and emails.

Quotes store every amount as an integer number of the currency's minor unit ("cents": 1 JPY = 1, 1 USD = 100,
1 KWD = 1000), so formatting is integer arithmetic only (with floats, ``int(0.29 * 100)`` is 28).

The table holds every active ISO 4217 code that has a minor unit (list one as of 2025, with XCG and ZWG). Codes
with no minor unit at all ("N.A." in the standard: the precious metals XAU/XAG/XPD/XPT, the bond-market units
XBA-XBD, XDR, XSU, XUA and the test/no-currency codes XTS/XXX) are left out: an amount of them in "cents" means
nothing, so they are rejected like any unknown code. Withdrawn codes (HRK, SLL, ZWL, ANG, ...) are unknown.

Formatting is English style (``,`` between thousands, ``.`` before the minor digits) with a symbol in front
where a common, unambiguous one exists (``$1,234.56``, ``€9.99``, ``¥1,500``, ``CA$5.00``) and the code
otherwise (``CHF 1,234.56``). Every symbol is printable in the bundled DejaVu Sans font.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["currency_symbol", "format_money", "is_known_currency", "minor_units"]

# Minor-unit digits per code. Most currencies have 2, so only the exceptions are listed apart.
_ZERO_DIGITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DIGITS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DIGITS = "CLF UYW"
_TWO_DIGITS = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF "
    "CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG "
    "HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK "
    "MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE "
    "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW "
    "ZWG"
)

MINOR_UNITS: MappingProxyType[str, int] = MappingProxyType(
    {
        code: digits
        for codes, digits in ((_TWO_DIGITS, 2), (_ZERO_DIGITS, 0), (_THREE_DIGITS, 3), (_FOUR_DIGITS, 4))
        for code in codes.split()
    }
)

# Display symbols. Dollar- and yen-like symbols shared by several currencies carry a prefix (CLDR's English
# symbols) so a quote never leaves the reader guessing which dollar is meant; USD and JPY keep the bare sign.
SYMBOLS: MappingProxyType[str, str] = MappingProxyType(
    {
        "USD": "$",
        "EUR": "€",
        "GBP": "£",
        "JPY": "¥",
        "CNY": "CN¥",
        "INR": "₹",
        "AUD": "A$",
        "CAD": "CA$",
        "NZD": "NZ$",
        "HKD": "HK$",
        "SGD": "S$",
        "MXN": "MX$",
        "BRL": "R$",
        "TWD": "NT$",
        "XCD": "EC$",
        "KRW": "₩",
        "ILS": "₪",
        "VND": "₫",
        "PHP": "₱",
        "NGN": "₦",
        "UAH": "₴",
        "KZT": "₸",
        "TRY": "₺",
        "RUB": "₽",
        "THB": "฿",
        "CRC": "₡",
        "PYG": "₲",
        "LAK": "₭",
        "MNT": "₮",
        "GHS": "GH₵",
        "ZAR": "R",
    }
)


def _normalise(code: object) -> str | None:
    """The upper-case code when ``code`` is a string naming a known currency, else None."""
    if not isinstance(code, str):
        return None
    upper = code.strip().upper()
    return upper if upper in MINOR_UNITS else None


def _require(code: str) -> str:
    normalised = _normalise(code)
    if normalised is None:
        raise ValueError(f"unknown currency code {code!r} (expected an active ISO 4217 code with a minor unit)")
    return normalised


def is_known_currency(code: object) -> bool:
    """True when ``code`` is an active ISO 4217 code with a minor unit (case and surrounding blanks ignored)."""
    return _normalise(code) is not None


def minor_units(code: str) -> int:
    """The number of minor-unit digits of ``code`` (JPY 0, USD 2, KWD 3, CLF 4). ValueError when unknown."""
    return MINOR_UNITS[_require(code)]


def currency_symbol(code: str) -> str:
    """The display symbol of ``code`` (``$``, ``€``, ``CA$``), or the code itself when none is common."""
    normalised = _require(code)
    return SYMBOLS.get(normalised, normalised)


def _group_thousands(units: int) -> str:
    """``1234567`` -> ``"1,234,567"`` for a non-negative integer."""
    return f"{units:,}"


def format_money(cents: int, code: str) -> str:
    """Format an amount stored in minor units: ``format_money(123456, "USD") == "$1,234.56"``.

    ``cents`` must be an int (bool and float are refused with TypeError, so no amount is ever rounded);
    ``code`` an active ISO 4217 code (ValueError otherwise). A negative amount puts the sign before the
    symbol (``-$12.00``). Zero-digit currencies have no decimal point (``¥1,500``); a symbol that ends in a
    letter, or a bare code, is followed by a space (``CHF 1,234.56``, ``R 10.00``).
    """
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"money amounts are integers of minor units, got {type(cents).__name__}")
    normalised = _require(code)
    digits = MINOR_UNITS[normalised]
    symbol = SYMBOLS.get(normalised, normalised)
    sign = "-" if cents < 0 else ""
    units, minor = divmod(abs(cents), 10**digits)
    number = _group_thousands(units)
    if digits:
        number = f"{number}.{minor:0{digits}d}"
    separator = " " if symbol[-1].isalpha() else ""
    return f"{sign}{symbol}{separator}{number}"
