"""Pure input rules of crm.create_quote, crm.add_quote_item and crm.create_quote_from_template: dates (with offset
or plain), currency resolution, valid_until after quote_date, item rules and which quotes are editable."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest

from crm_core.actions.quotes.add_quote_item import AddQuoteItemInput, check_item_rules, require_editable
from crm_core.actions.quotes.create_quote import (
    CreateQuoteInput,
    require_valid_until_not_before,
    resolve_currency,
)
from crm_core.actions.quotes.create_quote_from_template import CreateQuoteFromTemplateInput
from crm_core.errors import ValidationError
from tests.support.errors import broken_rule
from tests.support.quotes import quote_record

CLIENT = uuid.UUID(int=1)


def create_input(**changes: Any) -> CreateQuoteInput:
    values: dict[str, Any] = {
        "client_id": str(CLIENT),
        "title": "Network refresh",
        "quote_date": "2026-06-01",
        "valid_until": "2026-06-30",
        **changes,
    }
    return CreateQuoteInput.model_validate(values)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-06-01", datetime(2026, 6, 1, tzinfo=UTC)),
        ("2026-06-01T09:30:00Z", datetime(2026, 6, 1, 9, 30, tzinfo=UTC)),
        ("2026-06-01T09:30:00+02:00", datetime(2026, 6, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_dates_are_date_times_with_offset_or_plain_dates_at_midnight_utc(given: str, expected: datetime) -> None:
    assert create_input(quote_date=given).quote_date == expected
    assert create_input(valid_until=given).valid_until == expected


@pytest.mark.parametrize(
    "given",
    [
        "2026-06-01T09:30:00",
        "2026-06-01T09:30Z",
        " 2026-06-01 ",
        "2026-02-30",
        "June 1st",
        "20260601",
        "",
        "1780000000",
        1_780_000_000,
        1.5,
        True,
        None,
    ],
)
def test_naive_date_times_numbers_and_non_dates_are_refused(given: object) -> None:
    with pytest.raises(pydantic.ValidationError):
        create_input(quote_date=given)


def test_template_dates_are_optional_and_read_the_same_way() -> None:
    data = CreateQuoteFromTemplateInput.model_validate(
        {"template_id": str(uuid.UUID(int=2)), "client_id": str(CLIENT), "valid_until": "2026-06-30"}
    )
    assert (data.quote_date, data.valid_until) == (None, datetime(2026, 6, 30, tzinfo=UTC))


def test_the_date_inputs_schema_offers_both_forms() -> None:
    schema = CreateQuoteInput.model_json_schema()["properties"]["quote_date"]
    assert [(form["type"], form["format"]) for form in schema["anyOf"]] == [("string", "date-time"), ("string", "date")]


@pytest.mark.parametrize(
    ("explicit", "fallback", "expected"),
    [
        ("eur", "CAD", "EUR"),
        (" usd", None, "USD"),
        (None, "cad", "CAD"),
        (None, None, "USD"),
        (None, "  ", "USD"),
        ("JPY", None, "JPY"),
        ("KWD", None, "KWD"),
    ],
)
def test_currency_is_the_input_else_the_fallback_else_usd(
    explicit: str | None, fallback: str | None, expected: str
) -> None:
    assert resolve_currency(explicit, fallback) == expected


@pytest.mark.parametrize(
    ("explicit", "fallback", "source"),
    [("ABC", None, "input"), ("XAU", "USD", "input"), (None, "ITL", "client_default"), ("HRK", None, "input")],
)
def test_an_unknown_or_withdrawn_currency_is_a_validation_error(
    explicit: str | None, fallback: str | None, source: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        resolve_currency(explicit, fallback)
    assert caught.value.details["rule"] == "currency_code_iso4217"
    assert (caught.value.details["field"], caught.value.details["source"]) == ("currency_code", source)


def test_the_fallbacks_source_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        resolve_currency(None, "ZZZ", fallback_source="template")
    assert caught.value.details["source"] == "template"
    assert "template" in caught.value.message


def test_valid_until_may_equal_but_not_precede_quote_date() -> None:
    day = datetime(2026, 6, 1, tzinfo=UTC)
    require_valid_until_not_before(day, day)
    require_valid_until_not_before(day, day + timedelta(seconds=1))
    require_valid_until_not_before(None, day)
    require_valid_until_not_before(day, None)
    with pytest.raises(ValidationError) as caught:
        require_valid_until_not_before(day, datetime(2026, 6, 1, 1, 59, tzinfo=timezone(timedelta(hours=2))))
    assert caught.value.details == broken_rule(
        "valid_until_not_before_quote_date", "valid_until", "on or after 2026-06-01T00:00:00Z", "2026-05-31T23:59:00Z"
    )


def item(**changes: Any) -> AddQuoteItemInput:
    return AddQuoteItemInput.model_validate({"quote_id": str(uuid.UUID(int=3)), "description": "Line", **changes})


def test_item_defaults() -> None:
    data = item()
    assert (data.quantity, data.unit_price, data.is_selected, data.is_taxable, data.display_order) == (
        1,
        0,
        True,
        True,
        None,
    )
    check_item_rules(data)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"is_recurring": True}, "recurring_item_needs_billing_frequency"),
        ({"is_recurring": True, "billing_frequency": " "}, "recurring_item_needs_billing_frequency"),
        ({"is_discount": True}, "discount_needs_discount_type"),
        ({"is_discount": True, "discount_type": "percentage"}, "percentage_discount_needs_percentage"),
        ({"cost_currency": "QQQ"}, "currency_code_iso4217"),
    ],
)
def test_item_rules(changes: dict[str, Any], rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_item_rules(item(**changes))
    assert caught.value.details["rule"] == rule


@pytest.mark.parametrize(
    "changes",
    [
        {"is_recurring": True, "billing_frequency": "monthly"},
        {"is_discount": True, "discount_type": "fixed", "unit_price": 500},
        {"is_discount": True, "discount_type": "percentage", "discount_percentage": 0},
        {"is_discount": True, "discount_type": "percentage", "discount_percentage": 100},
        {"discount_type": "percentage"},  # not a discount line: the type is stored and has no effect
        {"cost": 100, "cost_currency": "eur"},
    ],
)
def test_items_that_follow_the_rules(changes: dict[str, Any]) -> None:
    check_item_rules(item(**changes))


@pytest.mark.parametrize(
    "changes",
    [{"quantity": 0}, {"unit_price": -1}, {"discount_percentage": 101}, {"tax_rate": 10_001}, {"cost": -1}],
)
def test_item_numbers_out_of_range_are_schema_errors(changes: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        item(**changes)


DRAFT = quote_record(client_id=CLIENT)


def test_draft_quotes_and_quotes_without_status_are_editable() -> None:
    require_editable(DRAFT)
    require_editable(replace(DRAFT, status=None))


def test_templates_are_not_editable() -> None:
    with pytest.raises(ValidationError) as caught:
        require_editable(replace(DRAFT, status=None, is_template=True))
    assert caught.value.details["rule"] == "quote_is_not_template"


@pytest.mark.parametrize("status", ["pending_approval", "approved", "sent", "accepted", "cancelled", "archived"])
def test_other_statuses_are_not_editable(status: str) -> None:
    with pytest.raises(ValidationError) as caught:
        require_editable(replace(DRAFT, status=status))
    assert (caught.value.details["rule"], caught.value.details["actual"]) == ("quote_editable_status", status)
    assert status in caught.value.message
