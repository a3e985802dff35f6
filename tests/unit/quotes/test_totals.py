"""Quote totals in integer cents: hand-computed examples for every rule, and a property test over random quotes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.actions.quotes.totals import (
    TAX_RATE_BASIS_POINTS_PER_100_PERCENT,
    LineAmounts,
    PricedItem,
    QuoteTotals,
    calculate_totals,
    round_half_up_division,
)

SERVICE_1 = uuid.UUID(int=0x51)
SERVICE_2 = uuid.UUID(int=0x52)


def item_id(name: str) -> uuid.UUID:
    """A readable, stable id per test item name."""
    return uuid.uuid5(uuid.NAMESPACE_OID, name)


def base(name: str, quantity: int, unit_price: int, **fields: object) -> PricedItem:
    """A non-discount item."""
    return PricedItem(item_id=item_id(name), quantity=quantity, unit_price=unit_price, **fields)  # type: ignore[arg-type]


def fixed_discount(name: str, amount: int, **scope: object) -> PricedItem:
    """A fixed discount of ``amount`` cents (1 x amount)."""
    return PricedItem(
        item_id=item_id(name),
        quantity=1,
        unit_price=amount,
        is_discount=True,
        discount_type="fixed",
        **scope,  # type: ignore[arg-type]
    )


def percentage_discount(name: str, percentage: int, **scope: object) -> PricedItem:
    """A discount of ``percentage`` percent of its scope."""
    return PricedItem(
        item_id=item_id(name),
        quantity=1,
        unit_price=0,
        is_discount=True,
        discount_type="percentage",
        discount_percentage=percentage,
        **scope,  # type: ignore[arg-type]
    )


def internal(items: Iterable[PricedItem], **options: object) -> QuoteTotals:
    """Totals of a quote with a client and internal tax."""
    return calculate_totals(list(items), tax_source="internal", has_client=True, **options)  # type: ignore[arg-type]


def line(totals: QuoteTotals, name: str) -> LineAmounts:
    """The computed line of the item called ``name``."""
    return next(amounts for amounts in totals.lines if amounts.item_id == item_id(name))


def figures(totals: QuoteTotals) -> tuple[int, int, int, int]:
    """(subtotal, discount_total, tax, total_amount)."""
    return totals.subtotal, totals.discount_total, totals.tax, totals.total_amount


# --- the whole quote, by hand -------------------------------------------------------------------------------------


def full_quote() -> list[PricedItem]:
    """Optional (selected and not), discounted (every scope, fixed and percentage, oversized) and taxed items."""
    return [
        base("A", 3, 1999, service_id=SERVICE_1, tax_rate=825),  # 5997
        base("B", 1, 5000, service_id=SERVICE_1, tax_rate=825),  # 5000
        base("C", 2, 1250, service_id=SERVICE_2, is_taxable=False),  # 2500
        base("D", 1, 10006, is_optional=True, is_selected=True, tax_rate=825),  # 10006, included
        base("E", 1, 7777, is_optional=True, is_selected=False, tax_rate=825),  # not included
        fixed_discount("X1", 500, applies_to_item_id=item_id("A")),
        percentage_discount("X2", 10, applies_to_service_id=SERVICE_1),
        fixed_discount("X3", 3000, applies_to_item_id=item_id("C")),  # larger than C
        percentage_discount("X4", 5),  # whole subtotal
        fixed_discount("X5", 1000, applies_to_item_id=item_id("E")),  # aims at an unselected option
    ]


def test_a_full_quote_matches_the_hand_computed_cents() -> None:
    # subtotal = 5997 + 5000 + 2500 + 10006 = 23503 (E is an unselected option).
    # X1: 500 off A.                                         A left 5497.
    # X2: 10% of S1's base 10997 = 1099.7 -> 1100, over A 5497 / B 5000 (left 10497):
    #     A 1100*5497 = 6046700 = 576*10497 + 428;  B 1100*5000 = 5500000 = 523*10497 + 10069;
    #     floors 1099, the missing cent goes to B (larger remainder): A 576, B 524.   A left 4921, B left 4476.
    # X3: 3000 off C is capped at C's 2500.                  C left 0.
    # X4: 5% of 23503 = 1175.15 -> 1175, over A 4921 / B 4476 / C 0 / D 10006 (left 19403):
    #     A 1175*4921 = 5782175 = 298*19403 + 81;  B 1175*4476 = 5259300 = 271*19403 + 1087;
    #     D 1175*10006 = 11757050 = 605*19403 + 18235; floors 1174, the missing cent goes to D: 298, 271, 606.
    # X5: E is not included -> 0.
    # discount_total = 500 + 1100 + 2500 + 1175 = 5275.
    # net: A 5997-500-576-298 = 4623; B 5000-524-271 = 4205; C 0; D 10006-606 = 9400.
    # tax at 8.25%: A 4623*825/10000 = 381.3975 -> 381; B 346.9125 -> 347; C not taxable; D 775.5 -> 776 (half up).
    # tax = 381 + 347 + 776 = 1504; total = 23503 - 5275 + 1504 = 19732.
    totals = internal(full_quote())

    assert figures(totals) == (23503, 5275, 1504, 19732)
    assert [(amounts.total_price, amounts.net_amount, amounts.tax_amount) for amounts in totals.lines] == [
        (5997, 4623, 381),  # A
        (5000, 4205, 347),  # B
        (2500, 0, 0),  # C
        (10006, 9400, 776),  # D
        (7777, 0, 0),  # E: shows its price, adds nothing
        (-500, 0, 0),  # X1
        (-1100, 0, 0),  # X2
        (-2500, 0, 0),  # X3 capped
        (-1175, 0, 0),  # X4
        (0, 0, 0),  # X5
    ]
    assert [amounts.item_id for amounts in totals.lines] == [item.item_id for item in full_quote()]


def test_the_full_quote_with_external_tax_has_no_tax() -> None:
    for tax_source in ("external", "pending_external"):
        totals = calculate_totals(full_quote(), tax_source=tax_source, has_client=True)
        assert figures(totals) == (23503, 5275, 0, 18228)
        assert all(amounts.tax_amount == 0 for amounts in totals.lines)


def test_the_full_quote_without_a_client_has_no_tax() -> None:
    totals = calculate_totals(full_quote(), tax_source="internal", has_client=False)
    assert figures(totals) == (23503, 5275, 0, 18228)


# --- inclusion ----------------------------------------------------------------------------------------------------


def test_optional_items_count_only_when_selected() -> None:
    totals = internal(
        [
            base("required", 2, 1000),
            base("chosen", 1, 300, is_optional=True, is_selected=True),
            base("declined", 1, 700, is_optional=True, is_selected=False),
            base("required-even-if-unselected", 1, 50, is_optional=False, is_selected=False),
        ]
    )
    assert figures(totals) == (2350, 0, 0, 2350)
    assert line(totals, "declined") == LineAmounts(item_id("declined"), total_price=700, tax_amount=0, net_amount=0)


def test_an_empty_quote_is_all_zero() -> None:
    assert internal([]) == QuoteTotals(subtotal=0, discount_total=0, tax=0, total_amount=0, lines=())


# --- discounts ----------------------------------------------------------------------------------------------------


def test_a_fixed_item_discount_reduces_only_that_item() -> None:
    totals = internal(
        [base("A", 1, 1000), base("B", 1, 2000), fixed_discount("off-A", 250, applies_to_item_id=item_id("A"))]
    )
    assert figures(totals) == (3000, 250, 0, 2750)
    assert line(totals, "A").net_amount == 750
    assert line(totals, "B").net_amount == 2000
    assert line(totals, "off-A").total_price == -250


def test_a_fixed_discount_is_quantity_times_unit_price() -> None:
    discount = PricedItem(item_id=item_id("3x100"), quantity=3, unit_price=100, is_discount=True, discount_type="fixed")
    assert internal([base("A", 1, 1000), discount]).discount_total == 300


def test_a_discount_without_a_type_is_fixed() -> None:
    discount = PricedItem(item_id=item_id("untyped"), quantity=1, unit_price=120, is_discount=True)
    assert internal([base("A", 1, 1000), discount]).discount_total == 120


def test_a_percentage_discount_rounds_half_up() -> None:
    # 15% of 1050 = 157.5 -> 158.
    totals = internal([base("A", 1, 1050), percentage_discount("15%", 15, applies_to_item_id=item_id("A"))])
    assert figures(totals) == (1050, 158, 0, 892)


def test_a_percentage_discount_rounds_below_half_down() -> None:
    # 15% of 1049 = 157.35 -> 157.
    totals = internal([base("A", 1, 1049), percentage_discount("15%", 15)])
    assert totals.discount_total == 157


def test_a_service_discount_covers_only_that_services_included_lines() -> None:
    # 20% of S1's included lines (1000 + 500; the unselected 900 does not count) = 300, split 200 / 100.
    totals = internal(
        [
            base("S1-a", 1, 1000, service_id=SERVICE_1),
            base("S1-b", 1, 500, service_id=SERVICE_1),
            base("S1-declined", 1, 900, service_id=SERVICE_1, is_optional=True, is_selected=False),
            base("S2", 1, 4000, service_id=SERVICE_2),
            percentage_discount("S1 20%", 20, applies_to_service_id=SERVICE_1),
        ]
    )
    assert figures(totals) == (5500, 300, 0, 5200)
    assert [line(totals, name).net_amount for name in ("S1-a", "S1-b", "S1-declined", "S2")] == [800, 400, 0, 4000]


def test_a_whole_subtotal_discount_is_split_in_proportion_with_largest_remainders() -> None:
    # 100 over 1000 / 2000 / 3000 (6000): exact shares 16.67 / 33.33 / 50 -> floors 16 / 33 / 50 (99);
    # the missing cent goes to the largest remainder (1000*100 mod 6000 = 4000 vs 2000 vs 0): the first line.
    totals = internal([base("A", 1, 1000), base("B", 1, 2000), base("C", 1, 3000), fixed_discount("100 off", 100)])
    assert figures(totals) == (6000, 100, 0, 5900)
    assert [line(totals, name).net_amount for name in "ABC"] == [1000 - 17, 2000 - 33, 3000 - 50]


def test_the_rounding_remainder_never_takes_a_line_below_zero() -> None:
    # 2 cents over three 1-cent lines: floors 0 / 0 / 0, both missing cents go to the first two lines (ties to
    # the earlier line). Giving the remainder to the last line would have taken 2 cents off a 1-cent line.
    totals = internal([base("A", 1, 1), base("B", 1, 1), base("C", 1, 1), fixed_discount("2 off", 2)])
    assert [line(totals, name).net_amount for name in "ABC"] == [0, 0, 1]


def test_a_discount_larger_than_its_base_is_capped_at_the_base() -> None:
    totals = internal(
        [base("A", 1, 1000), base("B", 1, 500), fixed_discount("too much", 9999, applies_to_item_id=item_id("B"))]
    )
    assert figures(totals) == (1500, 500, 0, 1000)
    assert line(totals, "too much").total_price == -500
    assert line(totals, "B").net_amount == 0


def test_a_whole_subtotal_discount_larger_than_the_subtotal_takes_it_to_zero() -> None:
    totals = internal([base("A", 1, 1000), base("B", 1, 500), fixed_discount("too much", 9999)])
    assert figures(totals) == (1500, 1500, 0, 0)


def test_stacked_discounts_are_capped_at_what_is_left() -> None:
    # 60% of A's 1000 = 600, then another 60% of A's (undiscounted) 1000 = 600 but only 400 is left.
    totals = internal(
        [
            base("A", 1, 1000),
            percentage_discount("first", 60, applies_to_item_id=item_id("A")),
            percentage_discount("second", 60, applies_to_item_id=item_id("A")),
        ]
    )
    assert figures(totals) == (1000, 1000, 0, 0)
    assert [line(totals, name).total_price for name in ("first", "second")] == [-600, -400]


def test_a_whole_subtotal_discount_skips_lines_already_fully_discounted() -> None:
    # A is fully discounted by its own discount, so the 300 off the whole subtotal all lands on B.
    totals = internal(
        [
            base("A", 1, 1000, tax_rate=1000),
            base("B", 1, 1000, tax_rate=1000),
            fixed_discount("all of A", 1000, applies_to_item_id=item_id("A")),
            fixed_discount("300 off", 300),
        ]
    )
    assert [line(totals, name).net_amount for name in "AB"] == [0, 700]
    assert figures(totals) == (2000, 1300, 70, 770)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param({"applies_to_item_id": item_id("declined")}, id="unselected-item"),
        pytest.param({"applies_to_item_id": uuid.UUID(int=404)}, id="unknown-item"),
        pytest.param({"applies_to_item_id": item_id("other discount")}, id="another-discount"),
        pytest.param({"applies_to_service_id": uuid.UUID(int=404)}, id="service-without-lines"),
    ],
)
def test_a_discount_aimed_at_nothing_included_is_zero(target: dict[str, uuid.UUID]) -> None:
    totals = internal(
        [
            base("A", 1, 1000),
            base("declined", 1, 500, is_optional=True, is_selected=False),
            fixed_discount("other discount", 10),
            fixed_discount("aimless", 100, **target),
        ]
    )
    assert figures(totals) == (1000, 10, 0, 990)
    assert line(totals, "aimless").total_price == 0


def test_an_unselected_optional_discount_is_not_applied() -> None:
    discount = PricedItem(
        item_id=item_id("optional discount"),
        quantity=1,
        unit_price=100,
        is_discount=True,
        discount_type="fixed",
        is_optional=True,
        is_selected=False,
    )
    totals = internal([base("A", 1, 1000), discount])
    assert figures(totals) == (1000, 0, 0, 1000)
    assert line(totals, "optional discount").total_price == 0


def test_an_item_target_wins_over_a_service_target() -> None:
    totals = internal(
        [
            base("A", 1, 1000, service_id=SERVICE_1),
            base("B", 1, 1000, service_id=SERVICE_1),
            fixed_discount("both", 100, applies_to_item_id=item_id("B"), applies_to_service_id=SERVICE_1),
        ]
    )
    assert [line(totals, name).net_amount for name in "AB"] == [1000, 900]


# --- tax ------------------------------------------------------------------------------------------------------------


def test_tax_rates_are_basis_points() -> None:
    assert TAX_RATE_BASIS_POINTS_PER_100_PERCENT == 10_000
    # 10.00 at 8.25% = 0.825 -> 0.83: a half cent rounds up.
    totals = internal([base("A", 1, 1000, tax_rate=825)])
    assert figures(totals) == (1000, 0, 83, 1083)


def test_tax_is_rounded_per_line_then_summed() -> None:
    # Each line 82.5 -> 83, so 166; rounding the summed 165.0 once would give 165.
    totals = internal([base("A", 1, 1000, tax_rate=825), base("B", 1, 1000, tax_rate=825)])
    assert totals.tax == 166


def test_tax_is_on_the_line_after_its_discounts() -> None:
    # A: 2000 - 25% (500) = 1500; 1500 * 8.25% = 123.75 -> 124.
    totals = internal([base("A", 1, 2000, tax_rate=825), percentage_discount("25%", 25)])
    assert figures(totals) == (2000, 500, 124, 1624)
    assert line(totals, "A") == LineAmounts(item_id("A"), total_price=2000, tax_amount=124, net_amount=1500)


def test_each_line_uses_its_own_rate_and_the_default_when_it_has_none() -> None:
    # A at its own 5%: 50; B at the default 10%: 100; C not taxable.
    totals = internal(
        [base("A", 1, 1000, tax_rate=500), base("B", 1, 1000), base("C", 1, 1000, is_taxable=False, tax_rate=2000)],
        default_tax_rate=1000,
    )
    assert [line(totals, name).tax_amount for name in "ABC"] == [50, 100, 0]
    assert totals.tax == 150


def test_no_rate_at_all_means_no_tax() -> None:
    assert internal([base("A", 1, 1000)]).tax == 0


def test_unselected_options_carry_no_tax() -> None:
    totals = internal([base("A", 1, 1000, tax_rate=825, is_optional=True, is_selected=False)])
    assert figures(totals) == (0, 0, 0, 0)


# --- rounding and refusals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 7, 0), (5, 10, 1), (4, 10, 0), (15, 10, 2), (25, 10, 3), (14, 10, 1), (8250000, 10000, 825), (825, 10, 83)],
)
def test_round_half_up_division(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up_division(numerator, denominator) == expected


def test_round_half_up_division_refuses_negative_numerators_and_non_positive_denominators() -> None:
    with pytest.raises(ValueError):
        round_half_up_division(-5, 10)
    with pytest.raises(ValueError):
        round_half_up_division(5, 0)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"quantity": -1}, id="negative-quantity"),
        pytest.param({"unit_price": -1}, id="negative-price"),
        pytest.param({"unit_price": 10.5}, id="float-price"),
        pytest.param({"quantity": True}, id="bool-quantity"),
        pytest.param({"tax_rate": -825}, id="negative-tax-rate"),
        pytest.param({"discount_type": "amount"}, id="unknown-discount-type"),
        pytest.param({"is_discount": True, "discount_type": "percentage"}, id="percentage-without-percentage"),
        pytest.param({"is_discount": True, "discount_type": "percentage", "discount_percentage": 101}, id="over-100%"),
        pytest.param({"is_discount": True, "discount_type": "percentage", "discount_percentage": -1}, id="negative-%"),
    ],
)
def test_items_that_break_the_money_rule_are_refused(fields: dict[str, object]) -> None:
    values: dict[str, object] = {"item_id": item_id("bad"), "quantity": 1, "unit_price": 100, **fields}
    with pytest.raises(ValueError):
        PricedItem(**values)  # type: ignore[arg-type]


def test_unknown_tax_sources_and_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="tax_source"):
        calculate_totals([], tax_source="manual", has_client=True)
    with pytest.raises(ValueError, match="duplicate"):
        internal([base("A", 1, 1), base("A", 1, 2)])
    with pytest.raises(ValueError, match="default_tax_rate"):
        internal([], default_tax_rate=-1)


def test_inconsistent_totals_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        QuoteTotals(subtotal=100, discount_total=10, tax=5, total_amount=100, lines=())


# --- property: random quotes ----------------------------------------------------------------------------------------

SERVICES = [SERVICE_1, SERVICE_2, None]
# Discount targets may also name ids that are absent or belong to discounts or unselected options.
ITEM_POOL = [uuid.UUID(int=n) for n in range(1, 13)]


@st.composite
def random_item(draw: st.DrawFn, item_uuid: uuid.UUID) -> PricedItem:
    """A base or discount item with random money fields and, for discounts, a random scope."""
    is_discount = draw(st.booleans())
    is_optional = draw(st.booleans())
    common = {
        "item_id": item_uuid,
        "is_optional": is_optional,
        "is_selected": draw(st.booleans()) if is_optional else True,
        "quantity": draw(st.integers(0, 50)),
        "unit_price": draw(st.integers(0, 2_000_000)),
    }
    if not is_discount:
        return PricedItem(
            **common,  # type: ignore[arg-type]
            service_id=draw(st.sampled_from(SERVICES)),
            is_taxable=draw(st.booleans()),
            tax_rate=draw(st.none() | st.integers(0, 3000)),
        )
    discount_type = draw(st.sampled_from(["fixed", "percentage", None]))
    scope = draw(st.sampled_from(["item", "service", "whole"]))
    return PricedItem(
        **common,  # type: ignore[arg-type]
        is_discount=True,
        discount_type=discount_type,
        discount_percentage=draw(st.integers(0, 100)) if discount_type == "percentage" else None,
        applies_to_item_id=draw(st.sampled_from(ITEM_POOL)) if scope == "item" else None,
        applies_to_service_id=draw(st.sampled_from([SERVICE_1, SERVICE_2, uuid.UUID(int=404)]))
        if scope == "service"
        else None,
    )


@st.composite
def random_quote(draw: st.DrawFn) -> list[PricedItem]:
    """Up to 10 items with distinct ids from the pool."""
    ids = draw(st.lists(st.sampled_from(ITEM_POOL), max_size=10, unique=True))
    return [draw(random_item(item_uuid)) for item_uuid in ids]


def assert_consistent(items: list[PricedItem], totals: QuoteTotals) -> None:
    """The invariants every quote's totals must satisfy."""
    money = [totals.subtotal, totals.discount_total, totals.tax, totals.total_amount]
    money += [
        value for amounts in totals.lines for value in (amounts.total_price, amounts.tax_amount, amounts.net_amount)
    ]
    assert all(type(value) is int for value in money)

    assert totals.total_amount == totals.subtotal - totals.discount_total + totals.tax
    assert 0 <= totals.discount_total <= totals.subtotal
    assert totals.tax >= 0
    assert [amounts.item_id for amounts in totals.lines] == [item.item_id for item in items]

    pairs = list(zip(items, totals.lines, strict=True))
    included_bases = [(item, amounts) for item, amounts in pairs if item.is_included and not item.is_discount]
    discounts = [amounts for item, amounts in pairs if item.is_discount]
    assert sum(amounts.total_price for _, amounts in included_bases) == totals.subtotal
    assert -sum(amounts.total_price for amounts in discounts) == totals.discount_total
    assert sum(amounts.net_amount for amounts in totals.lines) == totals.subtotal - totals.discount_total
    assert sum(amounts.tax_amount for amounts in totals.lines) == totals.tax
    for item, amounts in pairs:
        if item.is_discount or not item.is_included:
            assert (amounts.net_amount, amounts.tax_amount) == (0, 0)
        else:
            assert 0 <= amounts.net_amount <= amounts.total_price == item.line_total


def assert_taxes_round_half_up(items: list[PricedItem], totals: QuoteTotals, default_tax_rate: int | None) -> None:
    """Each included taxable line's tax is its net times its rate, within half a cent, halves rounded up."""
    for item, amounts in zip(items, totals.lines, strict=True):
        if item.is_discount or not item.is_included or not item.is_taxable:
            continue
        rate = item.tax_rate if item.tax_rate is not None else (default_tax_rate or 0)
        error = amounts.tax_amount * TAX_RATE_BASIS_POINTS_PER_100_PERCENT - amounts.net_amount * rate
        assert -TAX_RATE_BASIS_POINTS_PER_100_PERCENT / 2 < error <= TAX_RATE_BASIS_POINTS_PER_100_PERCENT / 2


@settings(max_examples=400, deadline=None)
@given(
    items=random_quote(),
    tax_source=st.sampled_from(["internal", "external", "pending_external"]),
    has_client=st.booleans(),
    default_tax_rate=st.none() | st.integers(0, 3000),
)
def test_random_quotes_are_consistent(
    items: list[PricedItem], tax_source: str, has_client: bool, default_tax_rate: int | None
) -> None:
    totals = calculate_totals(items, tax_source=tax_source, has_client=has_client, default_tax_rate=default_tax_rate)

    assert_consistent(items, totals)
    if tax_source == "internal" and has_client:
        assert_taxes_round_half_up(items, totals, default_tax_rate)
    else:
        assert totals.tax == 0
    # Tax never changes the pre-tax figures.
    untaxed = calculate_totals(items, tax_source="external", has_client=has_client)
    assert (untaxed.subtotal, untaxed.discount_total) == (totals.subtotal, totals.discount_total)
