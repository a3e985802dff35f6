"""Quote totals: subtotal, discounts, tax and total of a quote from its items, in integer cents.

This module is pure (no database, no clock). The actions load a quote's items in display order
(``display_order``, then ``created_at``), call :func:`calculate_totals`, and write the figures back to
``quotes`` and ``quote_items`` in the same transaction as the change that triggered the recalculation.

The money rule
==============

Every amount is an integer number of cents, and so is every intermediate value: there are no floats anywhere.
Where a division is needed it is done on integers, rounding half-up (``x.5`` cents goes up to ``x+1``); all
rounded quantities are non-negative, so half-up and half-away-from-zero agree. Python's ``round()`` is never
used because it rounds half to even.

1. **Inclusion.** An item is *included* when it is not optional, or when it is optional and selected. Items
   that are not included contribute nothing to any total (an unselected option still reports its own price).
2. **Base lines.** Every non-discount item is a base line with ``line total = quantity * unit_price``.
   ``subtotal`` is the sum of the line totals of the *included* base lines.
3. **Discounts.** Each included discount item (``is_discount``) is resolved in display order:

   - *Scope*: ``applies_to_item_id`` set → that one included base line (a discount aimed at an item that is
     not included, is unknown, or is itself a discount resolves to 0); else ``applies_to_service_id`` set →
     every included base line with that ``service_id``; else → every included base line (the whole subtotal).
     When both targets are set the item target wins.
   - *Nominal amount*: ``fixed`` (or no ``discount_type``, as in AlgaPSA) → ``quantity * unit_price`` of the
     discount item, a positive number that reduces the quote; ``percentage`` → ``discount_percentage``
     (a whole percent, 0 to 100) of the scope's base, i.e. the sum of the scope's line totals before any
     discount, rounded half-up; a percentage discount's own quantity and unit price are ignored.
   - *Cap*: the amount is the nominal amount capped at what is left of the scope, i.e. the scope's line totals
     minus the discounts already allocated to those lines by earlier discounts. So a discount larger than its
     base, or several discounts stacked on one line, never take a line (or the quote) below zero, and
     ``discount_total <= subtotal`` always holds.
   - *Allocation*: the amount is split over the scope's lines in proportion to what is left of each line,
     by the largest-remainder method on integers: line *i* first gets ``floor(amount * left_i / left_scope)``;
     the cents still missing (fewer than the number of lines) go one each to the lines with the largest
     remainders ``(amount * left_i) mod left_scope``, ties to the earlier line. The shares sum exactly to the
     amount and no share exceeds what is left of its line. (Giving the whole rounding remainder to the last
     line would also sum exactly, but can hand the last line more than it has left when it is small, making
     its taxable base negative; AlgaPSA's own allocator uses largest remainders for the same reason.)

   ``discount_total`` is the sum of the resolved discount amounts.
4. **Tax.** Only when ``tax_source == 'internal'`` and the quote has a client; otherwise every line's tax is 0.
   For each included, taxable base line: ``taxable base = line total - discounts allocated to it`` and
   ``tax = round_half_up(taxable base * rate / 10 000)``, where ``rate`` is the item's ``tax_rate``, else the
   caller's ``default_tax_rate``, else 0. **Tax rates are basis points** (hundredths of a percent):
   ``825`` means 8.25 % (see :data:`TAX_RATE_BASIS_POINTS_PER_100_PERCENT`). Tax is rounded per line, then
   summed into ``tax``; discount lines carry no tax of their own.
5. **Total.** ``total_amount = subtotal - discount_total + tax``, checked whenever a :class:`QuoteTotals` is made.

Per line (:class:`LineAmounts`, one per item, in the order given):

- ``total_price``: a base line's line total (``quantity * unit_price``, also for an unselected option); for a
  discount line, minus its resolved amount (negative, or 0 when it resolved to nothing or is not included).
- ``net_amount``: what the line adds to the quote before tax: for an included base line, its line total minus
  the discounts allocated to it (its taxable base); 0 for lines that are not included and for discount lines,
  whose effect is already in the net amounts of the lines they were allocated to. Hence
  ``sum(net_amount) == subtotal - discount_total``.
- ``tax_amount``: the line's tax from rule 4 (0 for discount lines and lines not included), so
  ``sum(tax_amount) == tax``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DISCOUNT_TYPES",
    "QUOTE_TAX_SOURCES",
    "TAX_RATE_BASIS_POINTS_PER_100_PERCENT",
    "LineAmounts",
    "PricedItem",
    "QuoteTotals",
    "calculate_totals",
    "round_half_up_division",
]

# tax_rate is in basis points: tax = base * tax_rate / 10 000, so 825 is 8.25 %.
TAX_RATE_BASIS_POINTS_PER_100_PERCENT = 10_000
# discount_percentage is a whole percent: 15 is 15 %.
PERCENT_PER_WHOLE = 100

DISCOUNT_TYPES = ("percentage", "fixed")
# The values the quotes.tax_source CHECK constraint allows; only 'internal' computes tax here.
QUOTE_TAX_SOURCES = ("internal", "external", "pending_external")
TAX_SOURCE_INTERNAL = "internal"


@dataclass(frozen=True, kw_only=True)
class PricedItem:
    """The money-relevant fields of one quote item (a ``quote_items`` row). Amounts are integer cents.

    Defaults follow the column defaults. Values that would break the money rule (negative amounts, floats, an
    unknown discount type, a percentage outside 0..100, a negative tax rate) raise ValueError: the actions'
    input validation must have refused them already, so meeting one here is a programming error.
    """

    item_id: uuid.UUID
    quantity: int
    unit_price: int
    service_id: uuid.UUID | None = None
    is_optional: bool = False
    is_selected: bool = True
    is_discount: bool = False
    discount_type: str | None = None
    discount_percentage: int | None = None
    applies_to_item_id: uuid.UUID | None = None
    applies_to_service_id: uuid.UUID | None = None
    is_taxable: bool = True
    # Basis points (1/100 of a percent): 825 = 8.25 %. None: the caller's default rate applies.
    tax_rate: int | None = None

    def __post_init__(self) -> None:
        _require_non_negative_int(self.quantity, "quantity")
        _require_non_negative_int(self.unit_price, "unit_price")
        if self.discount_type is not None and self.discount_type not in DISCOUNT_TYPES:
            raise ValueError(f"discount_type must be one of {DISCOUNT_TYPES} or None, got {self.discount_type!r}")
        if self.is_discount and self.discount_type == "percentage":
            _require_percentage(self.discount_percentage)
        if self.tax_rate is not None:
            _require_non_negative_int(self.tax_rate, "tax_rate")

    @property
    def is_included(self) -> bool:
        """Whether the item counts towards the quote: not optional, or optional and selected."""
        return not self.is_optional or self.is_selected

    @property
    def line_total(self) -> int:
        """``quantity * unit_price`` in cents."""
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class LineAmounts:
    """One item's computed figures, in cents (see the module docstring for what each one means)."""

    item_id: uuid.UUID
    total_price: int
    tax_amount: int
    net_amount: int


# The figures a quote stores and prints, by their column names.
AMOUNT_NAMES = ("subtotal", "discount_total", "tax", "total_amount")


@dataclass(frozen=True)
class QuoteTotals:
    """A quote's computed figures, in cents. Making one checks ``total_amount == subtotal - discount_total + tax``."""

    subtotal: int
    discount_total: int
    tax: int
    total_amount: int
    lines: tuple[LineAmounts, ...]

    def __post_init__(self) -> None:
        # Raised rather than asserted so the check survives ``python -O``.
        if self.total_amount != self.subtotal - self.discount_total + self.tax:
            raise ValueError(
                f"inconsistent quote totals: {self.total_amount} != "
                f"{self.subtotal} - {self.discount_total} + {self.tax}"
            )

    def amounts(self) -> dict[str, int]:
        """The four figures by name, as the quote's columns (and its PDF) call them."""
        return {name: getattr(self, name) for name in AMOUNT_NAMES}


def round_half_up_division(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up to an integer, for ``numerator >= 0`` and ``denominator > 0``."""
    if numerator < 0 or denominator <= 0:
        raise ValueError(f"needs numerator >= 0 and denominator > 0, got {numerator}/{denominator}")
    quotient, remainder = divmod(numerator, denominator)
    return quotient + 1 if 2 * remainder >= denominator else quotient


def calculate_totals(
    items: Sequence[PricedItem],
    *,
    tax_source: str,
    has_client: bool,
    default_tax_rate: int | None = None,
) -> QuoteTotals:
    """The quote's subtotal, discount total, tax, total and per-line figures, by the module's money rule.

    ``items`` must be in display order (discounts resolve in that order). ``default_tax_rate`` (basis points)
    applies to taxable items whose own ``tax_rate`` is None.
    """
    _require_known_tax_source(tax_source)
    if default_tax_rate is not None:
        _require_non_negative_int(default_tax_rate, "default_tax_rate")
    _require_unique_ids(items)

    bases = {item.item_id: item for item in items if item.is_included and not item.is_discount}
    ledger = _DiscountLedger(bases)
    # A dict comprehension runs in display order, which is the order discounts must resolve in.
    resolved_discounts = {item.item_id: ledger.apply(item) for item in items if item.is_discount and item.is_included}

    taxes_apply = tax_source == TAX_SOURCE_INTERNAL and has_client
    lines = tuple(_line_amounts(item, ledger, resolved_discounts, taxes_apply, default_tax_rate) for item in items)
    subtotal = sum(base.line_total for base in bases.values())
    discount_total = sum(resolved_discounts.values())
    tax = sum(line.tax_amount for line in lines)
    return QuoteTotals(
        subtotal=subtotal,
        discount_total=discount_total,
        tax=tax,
        total_amount=subtotal - discount_total + tax,
        lines=lines,
    )


class _DiscountLedger:
    """The included base lines and the discounts allocated to each so far, as discounts resolve in display order."""

    def __init__(self, bases: dict[uuid.UUID, PricedItem]) -> None:
        self._bases = bases
        self._allocated: dict[uuid.UUID, int] = dict.fromkeys(bases, 0)

    def allocated_to(self, item_id: uuid.UUID) -> int:
        """The discounts allocated to the base line ``item_id`` (0 for any other item)."""
        return self._allocated.get(item_id, 0)

    def apply(self, discount: PricedItem) -> int:
        """Resolve one included discount: allocate it over its scope and return the amount it takes off."""
        scope = self._scope_of(discount)
        left = [self._bases[item_id].line_total - self._allocated[item_id] for item_id in scope]
        amount = min(_nominal_discount(discount, self._base_of(scope)), sum(left))
        for item_id, share in zip(scope, _largest_remainder_shares(amount, left), strict=True):
            self._allocated[item_id] += share
        return amount

    def _scope_of(self, discount: PricedItem) -> list[uuid.UUID]:
        """The included base lines a discount applies to, in display order (empty when its target is absent)."""
        if discount.applies_to_item_id is not None:
            return [discount.applies_to_item_id] if discount.applies_to_item_id in self._bases else []
        if discount.applies_to_service_id is not None:
            target = discount.applies_to_service_id
            return [item_id for item_id, base in self._bases.items() if base.service_id == target]
        return list(self._bases)

    def _base_of(self, scope: list[uuid.UUID]) -> int:
        """The sum of the scope's line totals before any discount: what a percentage discount is a percentage of."""
        return sum(self._bases[item_id].line_total for item_id in scope)


def _nominal_discount(discount: PricedItem, scope_base: int) -> int:
    """The discount before capping: its own amount when fixed, a half-up percentage of its scope's base otherwise."""
    if discount.discount_type != "percentage":
        return discount.line_total
    # PricedItem guarantees a percentage discount carries its percentage.
    assert discount.discount_percentage is not None
    return round_half_up_division(scope_base * discount.discount_percentage, PERCENT_PER_WHOLE)


def _largest_remainder_shares(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` in proportion to ``weights`` (``0 <= amount <= sum(weights)``) into integer shares.

    Each share is the floor of its exact share; the cents still missing go one each to the largest remainders,
    ties to the earlier weight. The shares sum to ``amount`` and none exceeds its weight.
    """
    total_weight = sum(weights)
    if amount == 0 or total_weight == 0:
        return [0] * len(weights)
    exact = [divmod(amount * weight, total_weight) for weight in weights]
    shares = [quotient for quotient, _ in exact]
    missing = amount - sum(shares)
    by_largest_remainder = sorted(range(len(weights)), key=lambda index: (-exact[index][1], index))
    for index in by_largest_remainder[:missing]:
        shares[index] += 1
    return shares


def _line_amounts(
    item: PricedItem,
    ledger: _DiscountLedger,
    resolved_discounts: dict[uuid.UUID, int],
    taxes_apply: bool,
    default_tax_rate: int | None,
) -> LineAmounts:
    """One item's total_price, tax_amount and net_amount."""
    if item.is_discount:
        return LineAmounts(
            item_id=item.item_id,
            total_price=-resolved_discounts.get(item.item_id, 0),
            tax_amount=0,
            net_amount=0,
        )
    if not item.is_included:
        return LineAmounts(item_id=item.item_id, total_price=item.line_total, tax_amount=0, net_amount=0)
    net_amount = item.line_total - ledger.allocated_to(item.item_id)
    return LineAmounts(
        item_id=item.item_id,
        total_price=item.line_total,
        tax_amount=_line_tax(item, net_amount, taxes_apply, default_tax_rate),
        net_amount=net_amount,
    )


def _line_tax(item: PricedItem, taxable_base: int, taxes_apply: bool, default_tax_rate: int | None) -> int:
    """The tax of one included base line: its taxable base times its rate in basis points, rounded half-up."""
    if not taxes_apply or not item.is_taxable:
        return 0
    rate = item.tax_rate if item.tax_rate is not None else (default_tax_rate or 0)
    return round_half_up_division(taxable_base * rate, TAX_RATE_BASIS_POINTS_PER_100_PERCENT)


def _require_non_negative_int(value: object, name: str) -> None:
    """ValueError unless ``value`` is a non-negative int (bool and float are refused: money stays integer)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def _require_percentage(value: int | None) -> None:
    """ValueError unless a percentage discount's percentage is an int from 0 to 100."""
    if value is None:
        raise ValueError("a percentage discount needs its discount_percentage")
    _require_non_negative_int(value, "discount_percentage")
    if value > PERCENT_PER_WHOLE:
        raise ValueError(f"discount_percentage must be at most {PERCENT_PER_WHOLE}, got {value}")


def _require_known_tax_source(tax_source: str) -> None:
    """ValueError for a tax_source the quotes table would not accept."""
    if tax_source not in QUOTE_TAX_SOURCES:
        raise ValueError(f"tax_source must be one of {QUOTE_TAX_SOURCES}, got {tax_source!r}")


def _require_unique_ids(items: Sequence[PricedItem]) -> None:
    """ValueError when two items share an id: discounts target items by id, so ids must be unambiguous."""
    seen: set[uuid.UUID] = set()
    for item in items:
        if item.item_id in seen:
            raise ValueError(f"duplicate quote item id {item.item_id}")
        seen.add(item.item_id)
