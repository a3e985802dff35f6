"""The pure rules of crm.convert_quote: which items a contract and an invoice take, how a contract line bills,
the contract's billing frequency, and what counts as already converted."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from crm_core.actions.quotes.convert_quote import (
    LineKind,
    already_converted,
    contract_billing_frequency,
    contract_line_kind,
    invoice_items,
    one_time_items,
    recurring_items,
)
from crm_core.dal.quote_records import QuoteRecord
from crm_core.dal.quotes import QuoteItemRow
from tests.support.quotes import quote_record

SERVICE = uuid.uuid4()
OTHER_SERVICE = uuid.uuid4()


def item(description: str, **values: object) -> QuoteItemRow:
    fields: dict[str, object] = {
        "quote_item_id": uuid.uuid4(),
        "quote_id": uuid.uuid4(),
        "service_id": None,
        "service_item_kind": None,
        "service_name": None,
        "service_sku": None,
        "billing_method": "fixed",
        "description": description,
        "quantity": 1,
        "unit_price": 100,
        "total_price": 100,
        "tax_amount": 0,
        "net_amount": 100,
        "unit_of_measure": None,
        "display_order": 0,
        "phase": None,
        "is_optional": False,
        "is_selected": True,
        "is_recurring": False,
        "billing_frequency": None,
        "is_discount": False,
        "discount_type": None,
        "discount_percentage": None,
        "applies_to_item_id": None,
        "applies_to_service_id": None,
        "is_taxable": True,
        "tax_region": None,
        "tax_rate": None,
        "location_id": None,
        "cost": None,
        "cost_currency": None,
    }
    fields.update(values)
    return QuoteItemRow(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("hourly", LineKind("Hourly", "arrears", 15, 15)),
        ("usage", LineKind("Usage", "arrears")),
        ("fixed", LineKind("Fixed", "advance")),
        ("per_unit", LineKind("Fixed", "advance")),
        (None, LineKind("Fixed", "advance")),
    ],
)
def test_contract_line_kind_follows_the_billing_method(method: str | None, kind: LineKind) -> None:
    assert contract_line_kind(method) == kind


def test_selection_splits_recurring_and_one_time_items() -> None:
    monthly = item("monthly", is_recurring=True, billing_frequency="monthly")
    unselected = item("unselected option", is_recurring=True, is_optional=True, is_selected=False)
    selected = item("selected option", is_optional=True, is_selected=True)
    discount = item("discount", is_recurring=True, is_discount=True)
    setup = item("setup")
    items = [monthly, unselected, selected, discount, setup]
    assert recurring_items(items) == [monthly]
    assert one_time_items(items) == [selected, setup]


def test_invoice_takes_the_discounts_that_apply_to_its_items() -> None:
    setup = item("setup", service_id=SERVICE)
    monthly = item("monthly", is_recurring=True, service_id=OTHER_SERVICE)
    on_setup = item("on setup", is_discount=True, applies_to_item_id=setup.quote_item_id)
    on_monthly = item("on monthly", is_discount=True, applies_to_item_id=monthly.quote_item_id)
    on_service = item("on service", is_discount=True, applies_to_service_id=SERVICE)
    on_other_service = item("on other service", is_discount=True, applies_to_service_id=OTHER_SERVICE)
    on_everything = item("on everything", is_discount=True)
    unselected = item("unselected", is_discount=True, is_optional=True, is_selected=False)
    items = [setup, monthly, on_setup, on_monthly, on_service, on_other_service, on_everything, unselected]
    assert invoice_items(items) == [setup, on_setup, on_service, on_everything]


def test_contract_billing_frequency_is_the_first_recurring_items() -> None:
    assert contract_billing_frequency([item("a"), item("b", billing_frequency="quarterly")]) == "quarterly"
    assert contract_billing_frequency([item("a")]) == "monthly"
    assert contract_billing_frequency([]) == "monthly"


def quote(status: str = "accepted", contract: bool = False, invoice: bool = False) -> QuoteRecord:
    now = datetime.now(UTC)
    return quote_record(
        quote_id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        title="t",
        quote_date=now,
        valid_until=now,
        status=status,
        accepted_at=now,
        converted_contract_id=uuid.uuid4() if contract else None,
        converted_invoice_id=uuid.uuid4() if invoice else None,
    )


@pytest.mark.parametrize(
    ("contract", "invoice", "expected"),
    [
        (False, False, {"contract": False, "invoice": False, "contract_and_invoice": False}),
        (True, False, {"contract": True, "invoice": False, "contract_and_invoice": False}),
        (False, True, {"contract": False, "invoice": True, "contract_and_invoice": False}),
        (True, True, {"contract": True, "invoice": True, "contract_and_invoice": True}),
    ],
)
def test_already_converted_is_per_target(contract: bool, invoice: bool, expected: dict[str, bool]) -> None:
    record = quote(contract=contract, invoice=invoice)
    assert {target: already_converted(record, target) for target in expected} == expected


def test_a_converted_status_is_converted_for_every_target() -> None:
    record = replace(quote(), status="converted")
    assert all(already_converted(record, t) for t in ("contract", "invoice", "contract_and_invoice"))
