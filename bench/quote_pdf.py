"""Time to render a quote PDF (crm.send_quote's rendering step), for a 10-line and a 200-line quote.

Pure rendering in this process: no database, no AWS. The first render of the process is reported apart
("cold": it imports reportlab and registers the fonts, as the first send of a fresh Lambda does); then
``--warmup`` untimed renders and ``--runs`` timed ones per quote, reported as p50 and p95 with the page count
and size of the PDF.

    .venv/bin/python bench/quote_pdf.py                     # 20 timed renders of each quote
    .venv/bin/python bench/quote_pdf.py --png docs          # also docs/quote_first_page.png (needs pdftoppm)

``--png DIR`` writes the first page of the rendered 10-line quote as ``DIR/quote_first_page.png`` with
``pdftoppm`` (Debian package poppler-utils).
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from crm_core.actions.quotes.document import QuotePdfData, QuotePdfLine, render_quote_pdf

PNG_NAME = "quote_first_page"

_SERVICES = (
    ("Managed workstation support", 4500),
    ("Microsoft 365 Business Premium licence", 2200),
    ("Cloud backup, 1 TB with 30-day retention and weekly restore tests", 6900),
    ("Firewall appliance, installed and configured on site", 89900),
    ("Network switch, 24 ports PoE+", 45900),
    ("Quarterly security awareness training for all staff, including phishing simulation and a short report", 15000),
    ("Onboarding: documentation of the current network, accounts and licences", 120000),
)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (``fraction`` 0.5 for the median)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _line(index: int) -> QuotePdfLine:
    description, unit_price = _SERVICES[index % len(_SERVICES)]
    quantity = 1 + index % 12
    optional = index % 9 == 4
    return QuotePdfLine(
        description=f"{description} (item {index + 1})",
        quantity=quantity,
        unit_price=unit_price,
        line_total=quantity * unit_price,
        is_optional=optional,
        is_selected=not (optional and index % 2 == 0),
    )


def sample_quote(line_count: int) -> QuotePdfData:
    """A realistic quote of ``line_count`` item lines plus a 10% discount line, in US dollars."""
    items = [_line(index) for index in range(line_count)]
    subtotal = sum(line.line_total for line in items if not line.is_optional or line.is_selected)
    discount = subtotal // 10
    discount_line = QuotePdfLine(
        description="Multi-year agreement discount",
        quantity=1,
        unit_price=0,
        line_total=discount,
        is_discount=True,
        discount_type="percentage",
        discount_percentage=10,
    )
    tax = (subtotal - discount) * 8 // 100
    return QuotePdfData(
        tenant_name="Acme IT Services",
        quote_number="QUO-0042",
        title="Office network refresh and managed services",
        description="Hardware, licences and a year of managed services for the Springfield office.",
        client_name="Globex Corporation",
        contact_name="Zoë Ünal",
        contact_email="zoe.unal@globex.example",
        quote_date=date(2026, 3, 2),
        valid_until=date(2026, 4, 1),
        currency_code="USD",
        lines=(*items, discount_line),
        subtotal=subtotal,
        discount_total=discount,
        tax=tax,
        total_amount=subtotal - discount + tax,
        client_notes="Prices include installation at your office.\nHardware ships within 10 working days.",
        terms_and_conditions="Payment due within 30 days of invoice. Licences renew yearly unless cancelled.",
    )


def measure(quote: QuotePdfData, runs: int, warmup: int) -> tuple[list[float], bytes]:
    """Milliseconds of ``runs`` timed renders after ``warmup`` untimed ones, and the last PDF."""
    pdf = b""
    for _ in range(warmup):
        pdf = render_quote_pdf(quote)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        pdf = render_quote_pdf(quote)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, pdf


def page_count(pdf: bytes) -> int:
    """The number of pages of ``pdf``."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


def write_png(pdf: bytes, directory: Path) -> Path:
    """The first page of ``pdf`` as ``directory/quote_first_page.png`` (pdftoppm, 110 dpi)."""
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm not found: apt-get install -y poppler-utils")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "quote.pdf"
        source.write_bytes(pdf)
        target = directory / PNG_NAME
        command = ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(source), str(target)]
        subprocess.run(command, check=True)
    return target.with_suffix(".png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="timed renders per quote (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed renders per quote first (default 2)")
    parser.add_argument("--png", type=Path, metavar="DIR", help="write the 10-line quote's first page as a PNG")
    args = parser.parse_args(argv)

    quotes = {10: sample_quote(10), 200: sample_quote(200)}
    started = time.perf_counter()
    first_pdf = render_quote_pdf(quotes[10])
    cold_ms = (time.perf_counter() - started) * 1000

    print(f"quote PDF rendering: {args.runs} timed renders per quote after {args.warmup} warm-up renders")
    print(f"cold first render of the process (imports reportlab, registers fonts; 10 lines): {cold_ms:.1f} ms\n")
    print(f"{'lines':>5}  {'pages':>5}  {'size':>8}  {'p50 ms':>8}  {'p95 ms':>8}  {'min ms':>8}  {'max ms':>8}")
    for count, quote in quotes.items():
        samples, pdf = measure(quote, args.runs, args.warmup)
        pages = page_count(pdf)
        print(
            f"{count:>5}  {pages:>5}  {len(pdf) / 1024:>6.1f}KB  {percentile(samples, 0.5):>8.1f}  "
            f"{percentile(samples, 0.95):>8.1f}  {min(samples):>8.1f}  {max(samples):>8.1f}"
        )
    if args.png is not None:
        print(f"\nfirst page written to {write_png(first_pdf, args.png)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
