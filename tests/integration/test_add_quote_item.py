"""crm.add_quote_item against real PostgreSQL and moto: items and positions, totals recalculated after every
item (optional, discounted in each scope, taxable) against hand-computed cents, the editable-quote and item
guards, another tenant, permissions, idempotency keys, dry run and the audit row."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from crm_core.errors import PermissionDeniedError, ValidationError
from tests.support.errors import assert_each_not_found, broken_rule
from tests.support.quotes import NOW, add_quote, quote_activities, quote_items, quote_row
from tests.support.rows import audit_rows, count_rows, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.add_quote_item"


def item_input(quote_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    return {
        "quote_id": str(quote_id),
        "description": "Firewall appliance",
        "quantity": 2,
        "unit_price": 500_00,
        **changes,
    }


def test_adds_an_item_after_the_last_and_recalculates_the_quote(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, lines=2)  # 2 x 12.50 and 2 x 25.00, display_order 0 and 1, stored totals 0
    activities_before = quote_activities(engine, tenant.id, quote_id)

    out = invoke(ACTION, item_input(quote_id, unit_of_measure="device", phase="Phase 1", billing_method="fixed"))

    item = out["quote_item"]
    assert item["quote_id"] == str(quote_id)
    assert (item["description"], item["quantity"], item["unit_price"]) == ("Firewall appliance", 2, 500_00)
    assert (item["display_order"], item["total_price"], item["net_amount"], item["tax_amount"]) == (
        2,
        1000_00,
        1000_00,
        0,
    )
    assert (item["unit_of_measure"], item["phase"], item["billing_method"]) == ("device", "Phase 1", "fixed")
    assert (item["is_optional"], item["is_selected"], item["is_recurring"], item["is_discount"]) == (
        False,
        True,
        False,
        False,
    )
    quote = out["quote"]
    assert (quote["subtotal"], quote["discount_total"], quote["tax"], quote["total_amount"]) == (
        1075_00,
        0,
        0,
        1075_00,
    )
    assert (quote["items_count"], quote["status"], quote["quote_id"]) == (3, "draft", str(quote_id))

    row = quote_row(engine, tenant.id, quote_id)
    assert (row["subtotal"], row["total_amount"], row["updated_by"]) == (1075_00, 1075_00, tenant.actor)
    items = quote_items(engine, tenant.id, quote_id)
    assert [i["total_price"] for i in items] == [25_00, 50_00, 1000_00]
    assert [i["net_amount"] for i in items] == [25_00, 50_00, 1000_00]
    assert str(items[2]["quote_item_id"]) == item["quote_item_id"]
    assert (items[2]["created_by"], items[2]["updated_by"]) == (tenant.actor, tenant.actor)
    assert quote_activities(engine, tenant.id, quote_id) == activities_before  # items write no quote activity
    [audit] = audit_rows(engine, tenant.id, ACTION)
    assert audit["changed_data"]["quote_item_id"] == item["quote_item_id"]
    assert audit["details"]["totals"]["total_amount"] == 1075_00


def test_the_first_item_of_an_empty_quote_is_at_position_0_and_an_explicit_position_is_kept(
    tenant: Tenant, invoke
) -> None:
    quote_id = add_quote(tenant, lines=0)

    first = invoke(ACTION, item_input(quote_id))["quote_item"]
    placed = invoke(ACTION, item_input(quote_id, display_order=10))["quote_item"]
    after = invoke(ACTION, item_input(quote_id))["quote_item"]

    assert (first["display_order"], placed["display_order"], after["display_order"]) == (0, 10, 11)


def test_totals_of_optional_discounted_and_taxable_items_match_hand_computed_cents(
    tenant: Tenant, engine, invoke
) -> None:
    quote_id = add_quote(tenant, lines=0)
    firewall_service, setup_service = uuid.uuid4(), uuid.uuid4()

    def add(**values: Any) -> dict[str, Any]:
        return invoke(ACTION, {"quote_id": str(quote_id), **values})

    a = add(description="Firewall", quantity=2, unit_price=500_00, service_id=str(firewall_service), tax_rate=825)
    b = add(description="Setup", quantity=1, unit_price=300_00, service_id=str(setup_service), tax_rate=1000)
    c = add(
        description="Extra access points",
        quantity=3,
        unit_price=100_00,
        service_id=str(setup_service),
        is_optional=True,
        is_selected=True,
        tax_rate=500,
    )
    d = add(
        description="Premium support", quantity=1, unit_price=999_99, is_optional=True, is_selected=False, tax_rate=1000
    )
    e = add(description="Training", quantity=1, unit_price=200_00, is_taxable=False, tax_rate=1000)
    f = add(
        description="Firewall promotion",
        quantity=1,
        unit_price=50_00,
        is_discount=True,
        discount_type="fixed",
        applies_to_item_id=a["quote_item"]["quote_item_id"],
    )
    g = add(
        description="10 % off setup",
        is_discount=True,
        discount_type="percentage",
        discount_percentage=10,
        applies_to_service_id=str(setup_service),
    )
    h = add(description="5 % loyalty", is_discount=True, discount_type="percentage", discount_percentage=5)
    j = add(description="Goodwill", quantity=1, unit_price=16_00, is_discount=True, discount_type="fixed")

    # By hand (integer cents; tax_rate in basis points, rounded half-up per line):
    # base lines A 100000, B 30000, C 30000 (optional, selected), E 20000; D is an unselected option.
    # subtotal = 180000. F: 5000 off A. G: 10 % of B+C (60000) = 6000 -> 3000 each.
    # H: 5 % of 180000 = 9000 over what is left (A 95000, B 27000, C 27000, E 20000; 169000), largest
    #    remainders: A 5059, B 1438, C 1438, E 1065. J: 1600 over what is left (89941, 25562, 25562, 18935;
    #    160000): A 899, B 256, C 256, E 189.
    # net: A 89042, B 25306, C 25306, E 18746 -> 158400 = 180000 - 21600.
    # tax: A 89042 x 8.25 % = 7345.965 -> 7346; B 25306 x 10 % = 2530.6 -> 2531; C 25306 x 5 % = 1265.3 -> 1265;
    #      E not taxable -> 0. tax = 11142; total = 158400 + 11142 = 169542.
    quote = j["quote"]
    assert (quote["subtotal"], quote["discount_total"], quote["tax"], quote["total_amount"]) == (
        180000,
        21600,
        11142,
        169542,
    )
    assert quote["items_count"] == 9
    rows = {str(row["quote_item_id"]): row for row in quote_items(engine, tenant.id, quote_id)}
    expected = [  # item: (total_price, net_amount, tax_amount)
        (a, (100000, 89042, 7346)),
        (b, (30000, 25306, 2531)),
        (c, (30000, 25306, 1265)),
        (d, (99999, 0, 0)),
        (e, (20000, 18746, 0)),
        (f, (-5000, 0, 0)),
        (g, (-6000, 0, 0)),
        (h, (-9000, 0, 0)),
        (j, (-1600, 0, 0)),
    ]
    for out, amounts in expected:
        row = rows[out["quote_item"]["quote_item_id"]]
        assert (row["total_price"], row["net_amount"], row["tax_amount"]) == amounts, row["description"]
    stored = quote_row(engine, tenant.id, quote_id)
    assert (stored["subtotal"], stored["discount_total"], stored["tax"], stored["total_amount"]) == (
        180000,
        21600,
        11142,
        169542,
    )
    # every call recalculated: after the first two items the quote stood at A + B with their tax
    assert b["quote"]["subtotal"] == 130000 and b["quote"]["tax"] == 8250 + 3000


def test_tax_only_with_tax_source_internal(tenant: Tenant, invoke) -> None:
    quote_id = add_quote(tenant, lines=0, tax_source="external")
    out = invoke(ACTION, item_input(quote_id, tax_rate=1000))
    assert (out["quote"]["tax"], out["quote"]["total_amount"], out["quote_item"]["tax_amount"]) == (0, 1000_00, 0)


def test_a_template_is_not_editable(tenant: Tenant, engine, invoke) -> None:
    template_id = add_quote(tenant, status=None, is_template=True, quote_number=None, client_id=None, contact_id=None)

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, item_input(template_id))

    assert caught.value.details == broken_rule("quote_is_not_template", "quote_id", False, True)
    assert len(quote_items(engine, tenant.id, template_id)) == 2


@pytest.mark.parametrize(
    "status", ["pending_approval", "approved", "sent", "accepted", "rejected", "expired", "converted", "cancelled"]
)
def test_a_quote_not_in_draft_is_not_editable(tenant: Tenant, engine, invoke, status: str) -> None:
    quote_id = add_quote(tenant, status=status)

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, item_input(quote_id))

    assert caught.value.details == broken_rule("quote_editable_status", "status", ["draft"], status)
    assert status in caught.value.message
    assert len(quote_items(engine, tenant.id, quote_id)) == 2


def test_a_sent_quote_past_valid_until_is_expired_on_access_and_refused(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(
        tenant, status="sent", quote_date=NOW - timedelta(days=40), valid_until=NOW - timedelta(days=10)
    )

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, item_input(quote_id))

    assert caught.value.details["actual"] == "expired"
    assert quote_row(engine, tenant.id, quote_id)["status"] == "sent"  # the failed call rolled everything back


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"is_recurring": True}, "recurring_item_needs_billing_frequency", "billing_frequency"),
        (
            {"is_recurring": True, "billing_frequency": "  "},
            "recurring_item_needs_billing_frequency",
            "billing_frequency",
        ),
        ({"is_discount": True}, "discount_needs_discount_type", "discount_type"),
        (
            {"is_discount": True, "discount_type": "percentage"},
            "percentage_discount_needs_percentage",
            "discount_percentage",
        ),
        ({"cost": 100, "cost_currency": "ABC"}, "currency_code_iso4217", "cost_currency"),
    ],
)
def test_item_rules(tenant: Tenant, engine, invoke, changes: dict[str, Any], rule: str, field: str) -> None:
    quote_id = add_quote(tenant)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, item_input(quote_id, **changes))
    assert (caught.value.details["rule"], caught.value.details["field"]) == (rule, field)
    assert len(quote_items(engine, tenant.id, quote_id)) == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": 0},
        {"unit_price": -1},
        {"discount_percentage": 101},
        {"discount_type": "bogus"},
        {"billing_method": "weekly"},
        {"description": "  "},
        {"tax_rate": -5},
        {"unexpected": 1},
    ],
)
def test_schema_errors(tenant: Tenant, invoke, changes: dict[str, Any]) -> None:
    quote_id = add_quote(tenant)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, item_input(quote_id, **changes))
    assert caught.value.details["rule"] == "schema"


def test_a_recurring_item_with_frequency_and_a_percentage_discount_are_accepted(tenant: Tenant, invoke) -> None:
    quote_id = add_quote(tenant, lines=1)  # 2 x 12.50
    recurring = invoke(
        ACTION, item_input(quote_id, is_recurring=True, billing_frequency="monthly", cost=300_00, cost_currency="eur")
    )
    discount = invoke(
        ACTION,
        item_input(
            quote_id, description="Half off", is_discount=True, discount_type="percentage", discount_percentage=50
        ),
    )
    assert (recurring["quote_item"]["billing_frequency"], recurring["quote_item"]["cost_currency"]) == (
        "monthly",
        "EUR",
    )
    assert discount["quote"]["discount_total"] == (25_00 + 1000_00) // 2
    assert discount["quote_item"]["total_price"] == -(1025_00 // 2)


def test_a_discount_aimed_at_an_item_of_another_quote_is_refused(tenant: Tenant, engine, invoke) -> None:
    quote_id, other_id = add_quote(tenant), add_quote(tenant)
    [foreign_item, _] = quote_items(engine, tenant.id, other_id)

    with pytest.raises(ValidationError) as caught:
        invoke(
            ACTION,
            item_input(
                quote_id, is_discount=True, discount_type="fixed", applies_to_item_id=str(foreign_item["quote_item_id"])
            ),
        )

    assert caught.value.details == broken_rule(
        "applies_to_item_on_quote",
        "applies_to_item_id",
        "the id of an item of this quote",
        str(foreign_item["quote_item_id"]),
    )


def test_a_missing_quote_and_another_tenants_quote_are_not_found(
    tenant: Tenant, other_tenant: Tenant, engine, invoke
) -> None:
    foreign = add_quote(other_tenant)
    assert_each_not_found(
        lambda quote_id: invoke(ACTION, item_input(quote_id)), [uuid.uuid4(), foreign], "quote", "quote_id"
    )
    assert len(quote_items(engine, other_tenant.id, foreign)) == 2


@pytest.mark.parametrize(
    ("grants", "missing"),
    [((("billing", "read"),), "update"), ((("billing", "update"),), "read"), ((("billing", "create"),), "update")],
)
def test_missing_billing_permissions_are_refused(
    tenant: Tenant, engine, invoke, grants: tuple[tuple[str, str], ...], missing: str
) -> None:
    quote_id = add_quote(tenant)
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, item_input(quote_id), actor=actor_with(tenant, *grants))
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("billing", missing)
    assert len(quote_items(engine, tenant.id, quote_id)) == 2


def test_the_same_idempotency_key_adds_once(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    first = invoke(ACTION, item_input(quote_id, idempotency_key="add-once"), run_id="run-1")
    again = invoke(ACTION, item_input(quote_id, idempotency_key="add-once"), run_id="run-2")

    assert again == first
    assert len(quote_items(engine, tenant.id, quote_id)) == 3
    assert count_rows(engine, tenant.id, "audit_logs", "operation = :op", op=f"workflow_action:{ACTION}") == 1


def test_dry_run_returns_the_would_be_item_and_totals_and_writes_nothing(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, item_input(quote_id, tax_rate=1000), dry_run=True)

    assert (out["quote_item"]["display_order"], out["quote_item"]["total_price"], out["quote_item"]["tax_amount"]) == (
        2,
        1000_00,
        100_00,
    )
    assert (
        out["quote"]["subtotal"],
        out["quote"]["tax"],
        out["quote"]["total_amount"],
        out["quote"]["items_count"],
    ) == (
        1075_00,
        100_00,
        1175_00,
        3,
    )
    assert tenant_row_counts(engine, tenant.id) == before
    assert quote_row(engine, tenant.id, quote_id)["total_amount"] == 0
