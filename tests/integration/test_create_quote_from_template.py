"""crm.create_quote_from_template against real PostgreSQL and moto: the quote and a copy of every template item
(discounts re-aimed at the copies), values from the input else the template, the template, date, client and
contact guards, another tenant, permissions, idempotency keys, dry run, the quote activity and the audit row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.errors import assert_each_not_found, broken_rule
from tests.support.quotes import add_quote, quote_activities, quote_header_input, quote_items, quote_row
from tests.support.rows import audit_rows, count_rows, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.create_quote_from_template"
SERVICE = uuid.UUID("5e000000-0000-4000-8000-000000000001")
LOCATION = uuid.UUID("10c00000-0000-4000-8000-000000000001")
COPIED = (
    "service_id",
    "service_item_kind",
    "service_name",
    "service_sku",
    "billing_method",
    "description",
    "quantity",
    "unit_price",
    "unit_of_measure",
    "display_order",
    "phase",
    "is_optional",
    "is_selected",
    "is_recurring",
    "billing_frequency",
    "is_discount",
    "discount_type",
    "discount_percentage",
    "applies_to_service_id",
    "is_taxable",
    "tax_region",
    "tax_rate",
    "location_id",
    "cost",
    "cost_currency",
)


def add_template(tenant: Tenant, **values: Any) -> uuid.UUID:
    """A template with a managed service (recurring), an optional unselected add-on, a one-off setup and a 10 %
    discount aimed at the setup line; no client, no number, no status, no dates unless given."""
    setup_id = uuid.uuid4()
    items = values.pop(
        "items",
        [
            {
                "description": "Managed endpoint",
                "quantity": 10,
                "unit_price": 48_00,
                "service_id": SERVICE,
                "service_name": "Managed endpoint",
                "service_sku": "ME-1",
                "service_item_kind": "service",
                "billing_method": "per_unit",
                "is_recurring": True,
                "billing_frequency": "monthly",
                "unit_of_measure": "device",
                "tax_rate": 825,
                "tax_region": "NY",
                "cost": 20_00,
                "cost_currency": "USD",
                "location_id": LOCATION,
            },
            {
                "description": "24/7 phone line",
                "quantity": 1,
                "unit_price": 99_00,
                "is_optional": True,
                "is_selected": False,
            },
            {
                "quote_item_id": setup_id,
                "description": "Setup",
                "quantity": 1,
                "unit_price": 250_00,
                "phase": "Onboarding",
            },
            {
                "description": "10 % off setup",
                "is_discount": True,
                "discount_type": "percentage",
                "discount_percentage": 10,
                "applies_to_item_id": setup_id,
            },
        ],
    )
    values.setdefault("quote_date", None)
    values.setdefault("valid_until", None)
    return add_quote(
        tenant,
        status=None,
        is_template=True,
        quote_number=None,
        client_id=None,
        contact_id=None,
        title=values.pop("title", "Standard managed services"),
        items=items,
        **values,
    )


def from_template(tenant: Tenant, template_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    return quote_header_input(tenant, {"template_id": str(template_id), "valid_until": "2026-07-01"}, changes)


def test_creates_a_quote_with_a_copy_of_every_template_item(tenant: Tenant, engine, invoke) -> None:
    template_id = add_template(
        tenant,
        description="Per-device pricing",
        terms_and_conditions="12 months",
        client_notes="Thanks",
        po_number="T-PO",
    )
    template_items = quote_items(engine, tenant.id, template_id)

    out = invoke(ACTION, from_template(tenant, template_id))

    quote = out["quote"]
    assert (quote["quote_number"], quote["status"], quote["is_template"], quote["title"]) == (
        "QUO-0001",
        "draft",
        False,
        "Standard managed services",
    )
    assert (quote["client_id"], quote["contact_id"], quote["currency_code"]) == (
        str(tenant.client),
        str(tenant.contact),
        "USD",
    )
    assert (quote["quote_date"], quote["valid_until"], quote["items_count"]) == (
        "2026-06-01T00:00:00Z",
        "2026-07-01T00:00:00Z",
        4,
    )
    # By hand: managed 10 x 48.00 = 48000, setup 25000, the add-on is not selected: subtotal 73000.
    # 10 % of the setup line = 2500; tax 8.25 % of 48000 = 3960 (the other lines have no rate): 73000 - 2500 + 3960.
    assert (quote["subtotal"], quote["discount_total"], quote["tax"], quote["total_amount"]) == (
        73000,
        2500,
        3960,
        74460,
    )

    quote_id = uuid.UUID(quote["quote_id"])
    row = quote_row(engine, tenant.id, quote_id)
    assert (row["template_id"], row["description"], row["terms_and_conditions"]) == (
        template_id,
        "Per-device pricing",
        "12 months",
    )
    assert (row["client_notes"], row["po_number"], row["tax_source"], row["version"]) == (
        "Thanks",
        "T-PO",
        "internal",
        1,
    )
    assert row["created_by"] == tenant.actor

    copies = quote_items(engine, tenant.id, quote_id)
    assert [{k: c[k] for k in COPIED} for c in copies] == [{k: t[k] for k in COPIED} for t in template_items]
    assert not {c["quote_item_id"] for c in copies} & {t["quote_item_id"] for t in template_items}
    assert copies[3]["applies_to_item_id"] == copies[2]["quote_item_id"]  # the discount aims at the setup copy
    assert [c["net_amount"] for c in copies] == [48000, 0, 22500, 0]
    assert [i["quote_item_id"] for i in out["quote_items"]] == [str(c["quote_item_id"]) for c in copies]
    assert out["quote_items"][3]["total_price"] == -2500
    assert out["quote_items"][0]["location_id"] == str(LOCATION)

    [activity] = quote_activities(engine, tenant.id, quote_id)
    assert (activity["activity_type"], activity["description"], activity["metadata"]) == (
        "created",
        "Quote created",
        {"is_template": False},
    )
    assert activity["performed_by"] == tenant.actor
    [audit] = audit_rows(engine, tenant.id, ACTION)
    assert audit["changed_data"]["quote_id"] == quote["quote_id"]
    assert audit["details"]["template_id"] == str(template_id)
    assert len(audit["changed_data"]["items"]) == 4

    template = quote_row(engine, tenant.id, template_id)  # the template is left as it was
    assert (template["is_template"], template["quote_number"], template["status"], template["total_amount"]) == (
        True,
        None,
        None,
        0,
    )
    assert quote_activities(engine, tenant.id, template_id) == []
    assert quote_items(engine, tenant.id, template_id) == template_items


def test_values_come_from_the_input_else_the_template(tenant: Tenant, engine, invoke) -> None:
    template_id = add_template(
        tenant,
        quote_date=datetime(2026, 3, 1, tzinfo=UTC),
        valid_until=datetime(2026, 3, 31, tzinfo=UTC),
        currency_code="EUR",
        internal_notes="template internal",
        client_notes="template client",
        po_number="T-PO",
        tax_source="external",
    )

    defaults = invoke(ACTION, from_template(tenant, template_id, quote_date=None, valid_until=None, contact_id=None))[
        "quote"
    ]
    overridden = invoke(
        ACTION,
        from_template(
            tenant,
            template_id,
            title="Acme managed services",
            quote_date="2026-04-01T08:00:00-04:00",
            valid_until="2026-04-30",
            po_number="PO-9",
            internal_notes="mine",
            client_notes="yours",
            currency_code="jpy",
        ),
    )["quote"]

    assert (defaults["title"], defaults["quote_date"], defaults["valid_until"], defaults["currency_code"]) == (
        "Standard managed services",
        "2026-03-01T00:00:00Z",
        "2026-03-31T00:00:00Z",
        "EUR",
    )
    assert defaults["tax"] == 0  # tax_source external comes from the template
    assert defaults["contact_id"] is None
    row = quote_row(engine, tenant.id, uuid.UUID(defaults["quote_id"]))
    assert (row["po_number"], row["internal_notes"], row["client_notes"], row["tax_source"]) == (
        "T-PO",
        "template internal",
        "template client",
        "external",
    )
    assert (overridden["title"], overridden["quote_date"], overridden["valid_until"], overridden["currency_code"]) == (
        "Acme managed services",
        "2026-04-01T12:00:00Z",
        "2026-04-30T00:00:00Z",
        "JPY",
    )
    row = quote_row(engine, tenant.id, uuid.UUID(overridden["quote_id"]))
    assert (row["po_number"], row["internal_notes"], row["client_notes"]) == ("PO-9", "mine", "yours")
    assert (defaults["quote_number"], overridden["quote_number"]) == ("QUO-0001", "QUO-0002")


@pytest.mark.parametrize(
    ("template_dates", "given", "missing"),
    [
        ({}, {"quote_date": None, "valid_until": None}, ["quote_date", "valid_until"]),
        ({}, {"valid_until": None}, ["valid_until"]),
        ({"valid_until": datetime(2026, 3, 31, tzinfo=UTC)}, {"quote_date": None}, ["quote_date"]),
    ],
)
def test_dates_must_come_from_the_input_or_the_template(
    tenant: Tenant, engine, invoke, template_dates: dict[str, Any], given: dict[str, Any], missing: list[str]
) -> None:
    template_id = add_template(tenant, **template_dates)

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, from_template(tenant, template_id, **given))

    assert caught.value.details == broken_rule(
        "quote_dates_required", missing[0], "a date in the input or on the template", None, missing=missing
    )
    assert count_rows(engine, tenant.id, "quotes") == 1


def test_valid_until_before_quote_date_is_refused(tenant: Tenant, engine, invoke) -> None:
    template_id = add_template(tenant, valid_until=datetime(2026, 3, 31, tzinfo=UTC))

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, from_template(tenant, template_id, quote_date="2026-04-01", valid_until=None))

    assert caught.value.details == broken_rule(
        "valid_until_not_before_quote_date", "valid_until", "on or after 2026-04-01T00:00:00Z", "2026-03-31T00:00:00Z"
    )
    assert count_rows(engine, tenant.id, "quotes") == 1


def test_a_quote_that_is_not_a_template_is_refused(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, from_template(tenant, quote_id))

    assert caught.value.details == broken_rule("quote_is_template", "template_id", True, False)
    assert count_rows(engine, tenant.id, "quotes") == 1


def test_a_missing_template_and_another_tenants_template_are_not_found(
    tenant: Tenant, other_tenant: Tenant, engine, invoke
) -> None:
    foreign = add_template(other_tenant)
    assert_each_not_found(
        lambda template_id: invoke(ACTION, from_template(tenant, template_id)),
        [uuid.uuid4(), foreign],
        "quote",
        "template_id",
    )
    assert count_rows(engine, tenant.id, "quotes") == 0
    assert count_rows(engine, other_tenant.id, "quotes") == 1


def test_client_and_contact_guards(tenant: Tenant, other_tenant: Tenant, engine, invoke) -> None:
    template_id = add_template(tenant)
    globex = tenant.seed.client("Globex")
    hank = tenant.seed.contact(globex, "Hank Scorpio")

    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, from_template(tenant, template_id, client_id=str(other_tenant.client), contact_id=None))
    assert caught.value.details == {"resource": "client", "id": str(other_tenant.client), "field": "client_id"}
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, from_template(tenant, template_id, contact_id=str(uuid.UUID(int=7))))
    assert caught.value.details["resource"] == "contact"
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, from_template(tenant, template_id, contact_id=str(hank)))
    assert caught.value.details == broken_rule(
        "contact_belongs_to_client", "contact_id", str(tenant.client), str(globex)
    )
    assert count_rows(engine, tenant.id, "quotes") == 1


def test_an_unknown_currency_is_refused(tenant: Tenant, invoke) -> None:
    template_id = add_template(tenant)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, from_template(tenant, template_id, currency_code="ZZZ"))
    assert (caught.value.details["rule"], caught.value.details["actual"]) == ("currency_code_iso4217", "ZZZ")


def test_a_template_without_items_gives_a_quote_without_items(tenant: Tenant, invoke) -> None:
    out = invoke(ACTION, from_template(tenant, add_template(tenant, items=[])))
    assert (out["quote_items"], out["quote"]["items_count"], out["quote"]["total_amount"]) == ([], 0, 0)


@pytest.mark.parametrize(
    ("grants", "missing"), [((("billing", "read"),), "create"), ((("billing", "create"),), "read")]
)
def test_missing_billing_permissions_are_refused(
    tenant: Tenant, engine, invoke, grants: tuple[tuple[str, str], ...], missing: str
) -> None:
    template_id = add_template(tenant)
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, from_template(tenant, template_id), actor=actor_with(tenant, *grants))
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("billing", missing)
    assert count_rows(engine, tenant.id, "quotes") == 1


def test_the_same_idempotency_key_creates_once(tenant: Tenant, engine, invoke) -> None:
    template_id = add_template(tenant)
    first = invoke(ACTION, from_template(tenant, template_id, idempotency_key="from-template"), run_id="run-1")
    again = invoke(ACTION, from_template(tenant, template_id, idempotency_key="from-template"), run_id="run-2")

    assert again == first
    assert count_rows(engine, tenant.id, "quotes") == 2
    assert count_rows(engine, tenant.id, "quote_items") == 8


def test_dry_run_returns_the_would_be_quote_items_and_totals_and_writes_nothing(tenant: Tenant, engine, invoke) -> None:
    template_id = add_template(tenant)
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, from_template(tenant, template_id), dry_run=True)

    assert (out["quote"]["quote_number"], out["quote"]["status"], out["quote"]["total_amount"]) == (
        None,
        "draft",
        74460,
    )
    assert len(out["quote_items"]) == 4
    assert tenant_row_counts(engine, tenant.id) == before
    assert invoke(ACTION, from_template(tenant, template_id))["quote"]["quote_number"] == "QUO-0001"
