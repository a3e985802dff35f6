"""The quote PDF: a plain data model of what the document shows, and its rendering with reportlab.

``QuotePdfData`` holds everything the PDF prints, already resolved (names rather than ids, amounts in integer
minor units as stored), so rendering needs no database and the model can be stored as JSON next to the
document (``to_json``/``from_json``) and rendered again to the same bytes.

reportlab is imported inside ``render_quote_pdf`` only: every Lambda of the layer imports this module through the
action registry, and only crm.send_quote ships reportlab.

Fonts: text prints in the bundled DejaVu Sans (Latin, Greek, Cyrillic and much more, embedded as a subset).
Characters DejaVu lacks that are Chinese, Japanese or Korean print in reportlab's built-in Adobe CID fonts
(Korean Gothic, Japanese Gothic or Simplified Chinese Song, see ``_cjk_font_for``). CID fonts are not embedded:
the PDF viewer supplies the glyphs (Acrobat, browsers and poppler with a CJK font installed do), and text
extraction of them depends on the extractor. Other characters missing from DejaVu (Thai, Devanagari,
supplementary-plane ideographs) print as DejaVu's missing-glyph box; right-to-left text is not reordered.
"""

from __future__ import annotations

import io
import itertools
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from xml.sax.saxutils import escape

from crm_core.actions.quotes.currency import format_money, is_known_currency

__all__ = ["FONT_DIR", "QuotePdfData", "QuotePdfLine", "format_date", "render_quote_pdf"]

FONT_DIR = Path(__file__).resolve().parent / "fonts"

DiscountType = Literal["percentage", "fixed"]
_DISCOUNT_TYPES = ("percentage", "fixed")

# Font names as registered with reportlab (prefixed so they cannot clash with another user of its registry).
_REGULAR = "CrmDejaVuSans"
_BOLD = "CrmDejaVuSans-Bold"
_FONT_FILES = {_REGULAR: "DejaVuSans.ttf", _BOLD: "DejaVuSans-Bold.ttf"}
_CJK_KOREAN = "HYGothic-Medium"
_CJK_JAPANESE = "HeiseiKakuGo-W5"
_CJK_CHINESE = "STSong-Light"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# BMP ranges printed with a CID font when DejaVu lacks the glyph (the CID fonts' UCS-2 encodings stop at U+FFFF).
_HANGUL_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF), (0xD7B0, 0xD7FF))
_KANA_RANGES = ((0x3040, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_CJK_RANGES = (
    (0x2E80, 0x2FDF),  # radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3100, 0x312F),  # bopomofo
    (0x3200, 0x33FF),  # enclosed letters, compatibility
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFE30, 0xFE4F),  # compatibility forms
    (0xFF00, 0xFFEF),  # half- and full-width forms
    *_HANGUL_RANGES,
    *_KANA_RANGES,
)


# --------------------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------------------


def _require_int(name: str, value: object) -> None:
    # bool is an int subclass: True would print as quantity 1, so it is refused like a float.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")


def _require_text(name: str, value: object, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")


def _check_keys(kind: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown {kind} fields: {sorted(unknown)}")


@dataclass(frozen=True, kw_only=True)
class QuotePdfLine:
    """One quote item as printed. Amounts are integer minor units of the quote's currency.

    For a discount line (``is_discount``) ``unit_price`` and ``line_total`` are the amount the discount takes
    off; they print negated whatever their stored sign. A percentage discount prints its percentage.
    """

    description: str
    quantity: int
    unit_price: int
    line_total: int
    is_optional: bool = False
    is_selected: bool = True
    is_discount: bool = False
    discount_type: DiscountType | None = None
    discount_percentage: int | None = None

    def __post_init__(self) -> None:
        _require_text("description", self.description, optional=False)
        for name in ("quantity", "unit_price", "line_total"):
            _require_int(name, getattr(self, name))
        for name in ("is_optional", "is_selected", "is_discount"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool")
        if self.discount_type is not None and self.discount_type not in _DISCOUNT_TYPES:
            raise ValueError(f"discount_type must be one of {_DISCOUNT_TYPES} or None, got {self.discount_type!r}")
        if self.discount_percentage is not None:
            _require_int("discount_percentage", self.discount_percentage)

    def to_json(self) -> dict[str, Any]:
        """The line as a JSON-able dict (the inverse of ``from_json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuotePdfLine:
        """A line from ``to_json`` output. Unknown keys raise ValueError, wrong types TypeError."""
        _check_keys("quote line", data, {f.name for f in fields(cls)})
        return cls(**data)


def _parse_date(name: str, value: object) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be an ISO date string or null, got {type(value).__name__}")
    return date.fromisoformat(value)


@dataclass(frozen=True, kw_only=True)
class QuotePdfData:
    """Everything the quote PDF prints. Amounts are integer minor units of ``currency_code``, as stored.

    ``quote_date`` and ``valid_until`` are calendar dates: a datetime given for either is reduced to its date.
    ``lines`` may be given as any sequence; it is kept as a tuple.
    """

    tenant_name: str
    quote_number: str
    title: str
    description: str | None = None
    client_name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    quote_date: date | None = None
    valid_until: date | None = None
    currency_code: str
    lines: tuple[QuotePdfLine, ...]
    subtotal: int
    discount_total: int
    tax: int
    total_amount: int
    client_notes: str | None = None
    terms_and_conditions: str | None = None

    def __post_init__(self) -> None:
        for name in ("tenant_name", "quote_number", "title"):
            _require_text(name, getattr(self, name), optional=False)
        for name in ("description", "client_name", "contact_name", "contact_email", "client_notes"):
            _require_text(name, getattr(self, name), optional=True)
        _require_text("terms_and_conditions", self.terms_and_conditions, optional=True)
        if not is_known_currency(self.currency_code):
            raise ValueError(f"unknown currency code {self.currency_code!r}")
        for name in ("subtotal", "discount_total", "tax", "total_amount"):
            _require_int(name, getattr(self, name))
        self._normalise_dates()
        lines = tuple(self.lines)
        if not all(isinstance(line, QuotePdfLine) for line in lines):
            raise TypeError("lines must be QuotePdfLine instances")
        object.__setattr__(self, "lines", lines)

    def _normalise_dates(self) -> None:
        for name in ("quote_date", "valid_until"):
            value = getattr(self, name)
            if isinstance(value, datetime):
                # A frozen dataclass: __post_init__ is the one place a field may still be set.
                object.__setattr__(self, name, value.date())
            elif value is not None and not isinstance(value, date):
                raise TypeError(f"{name} must be a date or None, got {type(value).__name__}")

    def to_json(self) -> dict[str, Any]:
        """A plain JSON-able dict (dates as ISO strings, lines as dicts); ``from_json`` reads it back."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "lines"}
        for name in ("quote_date", "valid_until"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        data["lines"] = [line.to_json() for line in self.lines]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuotePdfData:
        """The model from ``to_json`` output. Unknown keys raise ValueError, wrong types TypeError."""
        _check_keys("quote document", data, {f.name for f in fields(cls)})
        values = dict(data)
        for name in ("quote_date", "valid_until"):
            values[name] = _parse_date(name, values.get(name))
        raw_lines = values.get("lines")
        if not isinstance(raw_lines, list | tuple):
            raise TypeError("lines must be a list")
        values["lines"] = tuple(QuotePdfLine.from_json(line) for line in raw_lines)
        return cls(**values)


# --------------------------------------------------------------------------------------------------------------
# Text: cleaning, font runs and Paragraph markup (pure Python; the font coverage comes from reportlab)
# --------------------------------------------------------------------------------------------------------------


def _in_ranges(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


def _clean(text: str) -> str:
    """Line breaks normalised to ``\\n``, tabs to spaces, other control characters and lone surrogates dropped.

    Paragraph markup and the PDF encoders choke on control characters, and user text may hold any of them.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs"))


def _in_jis(text: str) -> bool:
    """True when every character of ``text`` is in JIS X 0208, which any Adobe-Japan1 font covers."""
    try:
        text.encode("shift_jis")
    except UnicodeEncodeError:
        return False
    return True


def _cjk_font_for(text: str) -> str:
    """The CID font for the CJK characters of ``text``, chosen once for the whole text so its runs match.

    Hangul means Korean and kana Japanese. Ideographs alone print in the Japanese Gothic when all of them are in
    JIS X 0208 (a sans face like DejaVu Sans, and more viewers substitute it well), else in the Simplified Chinese
    font, whose character collection covers every BMP ideograph.
    """
    codes = [ord(ch) for ch in text]
    if any(_in_ranges(code, _HANGUL_RANGES) for code in codes):
        return _CJK_KOREAN
    if any(_in_ranges(code, _KANA_RANGES) for code in codes):
        return _CJK_JAPANESE
    cjk = "".join(ch for ch in text if _in_ranges(ord(ch), _CJK_RANGES))
    return _CJK_JAPANESE if _in_jis(cjk) else _CJK_CHINESE


def _font_runs(text: str, covered: frozenset[int]) -> Iterator[tuple[str | None, str]]:
    """``(font, run)`` pairs: font None where the base (DejaVu) font prints the run, else a CID font name."""
    if covered.issuperset(map(ord, text)):
        # The common case, and the cheap one: every cell of a long quote passes here.
        yield None, text
        return
    cjk_font = _cjk_font_for(text)

    def font_of(ch: str) -> str | None:
        code = ord(ch)
        if ch == "\n" or code in covered or not _in_ranges(code, _CJK_RANGES):
            return None
        return cjk_font

    for font, chars in itertools.groupby(text, key=font_of):
        yield font, "".join(chars)


def _markup(text: str, covered: frozenset[int]) -> str:
    """Paragraph markup of plain user text: escaped, line breaks kept, CJK runs wrapped in a CID ``<font>``."""
    parts = []
    for font, run in _font_runs(_clean(text), covered):
        escaped = escape(run).replace("\n", "<br/>")
        parts.append(escaped if font is None else f'<font name="{font}">{escaped}</font>')
    return "".join(parts)


def format_date(value: date | None) -> str:
    """A quote date as printed: ``14 March 2026`` (no locale involved); ``""`` for None."""
    if value is None:
        return ""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


# --------------------------------------------------------------------------------------------------------------
# Rendering (reportlab is imported below this line only inside functions)
# --------------------------------------------------------------------------------------------------------------


@cache
def _register_fonts() -> Mapping[str, frozenset[int]]:
    """Register DejaVu Sans (regular, bold) and the three CID fonts with reportlab, once per process.

    Returns the code points each DejaVu face has a glyph for, by registered font name.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    coverage: dict[str, frozenset[int]] = {}
    for name, file_name in _FONT_FILES.items():
        font = TTFont(name, str(FONT_DIR / file_name))
        pdfmetrics.registerFont(font)
        coverage[name] = frozenset(font.face.charToGlyph)
    for cid_name in (_CJK_KOREAN, _CJK_JAPANESE, _CJK_CHINESE):
        pdfmetrics.registerFont(UnicodeCIDFont(cid_name))
    return MappingProxyType(coverage)


@dataclass(frozen=True)
class _Kit:
    """What the story builders share: the data, the fonts' coverage, paragraph styles and the frame width."""

    data: QuotePdfData
    coverage: Mapping[str, frozenset[int]]
    styles: Mapping[str, Any]
    width: float

    def para(self, text: str, style: str = "body") -> Any:
        """A Paragraph of plain user text in one of the kit's styles."""
        from reportlab.platypus import Paragraph

        font_name = self.styles[style].fontName
        return Paragraph(_markup(text, self.coverage[font_name]), self.styles[style])


_MARGIN = 50.0
_FRAME_PADDING = 6.0  # SimpleDocTemplate's frame pads its content by 6 points on each side
_FOOTER_Y = 28.0
_GREY = "#6b6b6b"
_RULE = "#c8c8c8"
_HEADER_BG = "#2f3b4c"
_STRIPE = "#f3f5f8"


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName=_REGULAR, fontSize=9.5, leading=12.5)
    bold = ParagraphStyle("bold", parent=body, fontName=_BOLD)
    return {
        "body": body,
        "bold": bold,
        "tenant": ParagraphStyle("tenant", parent=bold, fontSize=16, leading=20, spaceAfter=10),
        "heading": ParagraphStyle("heading", parent=bold, fontSize=14, leading=18),
        "title": ParagraphStyle("title", parent=body, fontSize=11.5, leading=15, spaceAfter=4),
        "section": ParagraphStyle("section", parent=bold, fontSize=10.5, leading=14, spaceBefore=14, spaceAfter=4),
        "note": ParagraphStyle("note", parent=body, fontSize=8, leading=10, textColor=_GREY),
        "muted": ParagraphStyle("muted", parent=body, textColor=_GREY),
    }


def _header_story(kit: _Kit) -> list[Any]:
    """Tenant name, "Quote {number}", title and description."""
    from reportlab.platypus import Spacer

    data = kit.data
    story = [kit.para(data.tenant_name, "tenant"), kit.para(f"Quote {data.quote_number}", "heading")]
    story.append(kit.para(data.title, "title"))
    if data.description:
        story.append(kit.para(data.description))
    story.append(Spacer(1, 10))
    return story


def _details_rows(kit: _Kit) -> list[list[Any]]:
    data = kit.data
    contact = "\n".join(part for part in (data.contact_name, data.contact_email) if part)
    pairs = [
        ("Client", data.client_name or ""),
        ("Contact", contact),
        ("Quote date", format_date(data.quote_date)),
        ("Valid until", format_date(data.valid_until)),
    ]
    return [[kit.para(label, "bold"), kit.para(value)] for label, value in pairs if value]


def _details_story(kit: _Kit) -> list[Any]:
    """Client, contact, quote date and valid-until as a two-column block (absent values left out)."""
    from reportlab.platypus import Spacer, Table, TableStyle

    rows = _details_rows(kit)
    if not rows:
        return []
    table = Table(rows, colWidths=[80, kit.width - 80], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return [table, Spacer(1, 14)]


def _line_note(line: QuotePdfLine) -> str:
    """The small print under a line's description: optional/not selected, or the kind of discount."""
    if line.is_discount:
        if line.discount_type == "percentage" and line.discount_percentage is not None:
            return f"Discount ({line.discount_percentage}%)"
        return "Discount"
    if line.is_optional:
        return "(optional)" if line.is_selected else "(optional) · not selected"
    return ""


def _number_cells(data: QuotePdfData, line: QuotePdfLine) -> tuple[str, str, str]:
    """A line's quantity, unit price and total as printed (a discount: its percentage or amount, negated)."""
    code = data.currency_code
    if not line.is_discount:
        return f"{line.quantity:,}", format_money(line.unit_price, code), format_money(line.line_total, code)
    if line.discount_type == "percentage" and line.discount_percentage is not None:
        unit = f"{line.discount_percentage}%"
    else:
        unit = format_money(-abs(line.unit_price), code)
    return "", unit, format_money(-abs(line.line_total), code)


def _description_cell(kit: _Kit, line: QuotePdfLine, muted: bool) -> list[Any]:
    """The description Paragraph, with the line's note (optional, discount) in small print under it."""
    cell = [kit.para(line.description, "muted" if muted else "body")]
    note = _line_note(line)
    if note:
        cell.append(kit.para(note, "note"))
    return cell


_NUMBER_HEADERS = ("Qty", "Unit price", "Total")
_NUMBER_MIN_WIDTHS = (34.0, 70.0, 70.0)
_CELL_PADDING = 6.0


def _number_widths(kit: _Kit, number_rows: list[tuple[str, str, str]]) -> list[float]:
    """Widths of the quantity, unit price and total columns: the widest text of each, so amounts never wrap.

    Number cells are plain strings drawn directly (no Paragraph), several times cheaper on a long quote. Their
    characters are digits, separators and currency symbols, all in DejaVu Sans (tested).
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    body = kit.styles["body"]
    widths = []
    for column, minimum in enumerate(_NUMBER_MIN_WIDTHS):
        header = stringWidth(_NUMBER_HEADERS[column], _BOLD, 9)
        cells = (stringWidth(row[column], _REGULAR, body.fontSize) for row in number_rows)
        widths.append(max(minimum, header + 2 * _CELL_PADDING, *(width + 2 * _CELL_PADDING for width in cells)))
    return widths


def _lines_story(kit: _Kit) -> list[Any]:
    """The items table; its header row repeats on every page and a very long description splits across pages."""
    from reportlab.platypus import Table, TableStyle

    lines = kit.data.lines
    number_rows = [_number_cells(kit.data, line) for line in lines]
    # An optional line the client has not selected is not in the totals: it prints greyed out.
    muted = [line.is_optional and not line.is_selected for line in lines]
    rows: list[list[Any]] = [["Description", *_NUMBER_HEADERS]]
    for line, grey, cells in zip(lines, muted, number_rows, strict=True):
        rows.append([_description_cell(kit, line, grey), *cells])
    number_widths = _number_widths(kit, number_rows)
    # The description keeps at least 40% of the width; only an absurd amount could push a number past its cell.
    widths = [max(kit.width * 0.4, kit.width - sum(number_widths)), *number_widths]
    body = kit.styles["body"]
    table = Table(rows, colWidths=widths, repeatRows=1, splitInRow=1)
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
        ("FONT", (0, 0), (-1, 0), _BOLD, 9),
        ("TEXTCOLOR", (0, 0), (-1, 0), "#ffffff"),
        ("FONT", (1, 1), (-1, -1), _REGULAR, body.fontSize, body.leading),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    commands.extend(("BACKGROUND", (0, row), (-1, row), _STRIPE) for row in range(2, len(rows), 2))
    commands.extend(("TEXTCOLOR", (1, row), (-1, row), _GREY) for row, grey in enumerate(muted, start=1) if grey)
    table.setStyle(TableStyle(commands))
    return [table]


def _totals_story(kit: _Kit) -> list[Any]:
    """Subtotal, discounts, tax and total, right-aligned under the items, the amount column as wide as needed."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Spacer, Table, TableStyle

    data = kit.data
    amounts = [data.subtotal, -abs(data.discount_total), data.tax, data.total_amount]
    rows = [
        [label, format_money(amount, data.currency_code)]
        for label, amount in zip(("Subtotal", "Discounts", "Tax", "Total"), amounts, strict=True)
    ]
    body = kit.styles["body"]
    widest = max(stringWidth(row[1], _BOLD, body.fontSize) for row in rows)
    table = Table(rows, colWidths=[110, max(110, widest + 2 * _CELL_PADDING)], hAlign="RIGHT")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -2), _REGULAR, body.fontSize, body.leading),
        ("FONT", (0, -1), (-1, -1), _BOLD, body.fontSize, body.leading),
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, "#000000"),
        ("TOPPADDING", (0, -1), (-1, -1), 5),
    ]
    table.setStyle(TableStyle(commands))
    return [Spacer(1, 8), table]


def _notes_story(kit: _Kit) -> list[Any]:
    """Client notes and terms and conditions, each under its heading, when present."""
    story: list[Any] = []
    for heading, text in (("Notes", kit.data.client_notes), ("Terms and conditions", kit.data.terms_and_conditions)):
        if text and text.strip():
            story += [kit.para(heading, "section"), kit.para(text.strip())]
    return story


def _footer_drawer(kit: _Kit) -> Any:
    """The page callback: "Quote {number}" on the left (when DejaVu prints it) and "Page N" on the right."""
    from reportlab.lib.pagesizes import A4

    page_width = A4[0]
    label = f"Quote {_clean(kit.data.quote_number)}"
    printable = all(ord(ch) in kit.coverage[_REGULAR] for ch in label)

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_REGULAR, 8)
        canvas.setFillColor(_GREY)
        if printable:
            canvas.drawString(_MARGIN + _FRAME_PADDING, _FOOTER_Y, label)
        canvas.drawRightString(page_width - _MARGIN - _FRAME_PADDING, _FOOTER_Y, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def render_quote_pdf(data: QuotePdfData) -> bytes:
    """The quote as a PDF (A4): header, client details, items, totals, notes and terms, "Page N" footers.

    The same data renders to the same bytes (reportlab's invariant mode: no timestamps or random ids), so a
    retried send stores an identical object under its key.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    width = A4[0] - 2 * (_MARGIN + _FRAME_PADDING)
    kit = _Kit(data=data, coverage=_register_fonts(), styles=_styles(), width=width)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 10,
        title=f"Quote {_clean(data.quote_number)}",
        author=_clean(data.tenant_name),
        subject=_clean(data.title),
        creator="crm_core",
        invariant=1,
    )
    story = [*_header_story(kit), *_details_story(kit), *_lines_story(kit), *_totals_story(kit), *_notes_story(kit)]
    footer = _footer_drawer(kit)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def prepare_rendering() -> None:
    """Load reportlab and the fonts and render a one-line quote, discarding it: the init phase of crm.send_quote
    calls this (``spec.prepare``) so that its first call renders as fast as later ones (about 200 ms sooner)."""
    line = QuotePdfLine(description="Rehearsal", quantity=1, unit_price=100, line_total=100)
    render_quote_pdf(
        QuotePdfData(
            tenant_name="Rehearsal",
            quote_number="Q-0",
            title="Rehearsal",
            currency_code="USD",
            lines=(line,),
            subtotal=100,
            discount_total=0,
            tax=0,
            total_amount=100,
        )
    )
