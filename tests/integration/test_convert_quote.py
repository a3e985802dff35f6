"""crm.convert_quote against real PostgreSQL: contract, invoice and both with the rows each creates (amounts
checked against hand-computed cents), converting again (no_op, error, the other target later), every guard,
concurrent conversions, another tenant, missing permissions, dry run."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.concurrency import run_in_threads
from tests.support.errors import broken_rule
from tests.support.quotes import NOW, add_quote, quote_activities, quote_row
from tests.support.rows import audit_rows, count_rows, execute, fetch_all, fetch_one, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.convert_quote"
ACCEPTED_AT = NOW - timedelta(days=2)


def recurring(description: str = "Managed endpoints", **values: Any) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": 40,
        "unit_price": 12_00,
        "is_recurring": True,
        "billing_frequency": "monthly",
        "billing_method": "per_unit",
        **values,
    }


def one_time(description: str = "Onboarding", **values: Any) -> dict[str, Any]:
    return {"description": description, "quantity": 1, "unit_price": 2_500_00, "billing_method": "fixed", **values}


def accepted_quote(tenant: Tenant, items: list[dict[str, Any]], **values: Any) -> uuid.UUID:
    values.setdefault("accepted_at", ACCEPTED_AT)
    return add_quote(tenant, status="accepted", items=items, **values)


def item_ids(engine, tenant: Tenant, quote_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = fetch_all(
        engine, tenant.id, "select quote_item_id, description from quote_items where quote_id = :q", q=quote_id
    )
    return {row["description"]: row["quote_item_id"] for row in rows}


def add_fixed_discount(
    engine, tenant: Tenant, quote_id: uuid.UUID, description: str, cents: int, target: uuid.UUID
) -> None:
    """A fixed discount of ``cents`` aimed at the item ``target``, added to the seeded quote as its last line."""
    execute(
        engine,
        tenant.id,
        "insert into quote_items (tenant, quote_item_id, quote_id, description, quantity, unit_price, is_discount, "
        "discount_type, applies_to_item_id, display_order) values (:tenant, :id, :q, :description, 1, "
        ":cents, true, 'fixed', :target, 9)",
        id=uuid.uuid4(),
        q=quote_id,
        description=description,
        cents=cents,
        target=target,
    )


def contract_rows(engine, tenant: Tenant, contract_id: str) -> tuple[dict, list[dict], list[dict]]:
    contract = fetch_one(engine, tenant.id, "select * from contracts where contract_id = :c", c=contract_id)
    lines = fetch_all(
        engine, tenant.id, "select * from contract_lines where contract_id = :c order by display_order", c=contract_id
    )
    assignments = fetch_all(engine, tenant.id, "select * from client_contracts where contract_id = :c", c=contract_id)
    return contract, lines, assignments


def invoice_rows(engine, tenant: Tenant, invoice_id: str) -> tuple[dict, list[dict]]:
    invoice = fetch_one(engine, tenant.id, "select * from invoices where invoice_id = :i", i=invoice_id)
    charges = fetch_all(
        engine, tenant.id, "select * from invoice_charges where invoice_id = :i order by description", i=invoice_id
    )
    return invoice, charges


def test_converts_to_a_draft_contract(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(
        tenant,
        [
            recurring("Managed endpoints"),
            recurring(
                "Helpdesk hours", quantity=10, unit_price=150_00, billing_method="hourly", billing_frequency="quarterly"
            ),
            recurring("Backup storage", quantity=500, unit_price=10, billing_method="usage", billing_frequency=None),
            recurring("Unselected option", is_optional=True, is_selected=False),
            recurring("Loyalty discount", is_discount=True, discount_type="fixed", unit_price=50_00, quantity=1),
            one_time("Onboarding"),
        ],
        title="Managed services 2027",
        description="Endpoints and helpdesk",
        quote_number="QUO-0042",
    )
    ids = item_ids(engine, tenant, quote_id)

    out = invoke(ACTION, {"quote_id": str(quote_id), "target": "contract"})

    assert out["no_op"] is False and out["invoice_id"] is None
    assert out["quote"]["status"] == "accepted"
    assert out["quote"]["converted_contract_id"] == out["contract_id"]
    contract, lines, [assignment] = contract_rows(engine, tenant, out["contract_id"])
    assert (contract["contract_name"], contract["contract_description"]) == (
        "Managed services 2027",
        "Endpoints and helpdesk",
    )
    assert (contract["status"], contract["is_active"], contract["owner_client_id"]) == ("draft", False, tenant.client)
    assert (contract["billing_frequency"], contract["currency_code"]) == ("monthly", "USD")
    assert contract["template_metadata"] == {
        "source_quote_id": str(quote_id),
        "source_quote_number": "QUO-0042",
        "conversion_kind": "quote_to_contract",
    }
    assert [
        (
            line["contract_line_name"],
            line["contract_line_type"],
            line["billing_timing"],
            line["billing_frequency"],
            line["quantity"],
            line["custom_rate"],
            line["minimum_billable_time"],
            line["round_up_to_nearest"],
            line["is_active"],
            line["source_quote_item_id"],
        )
        for line in lines
    ] == [
        ("Managed endpoints", "Fixed", "advance", "monthly", 40, 12_00, None, None, False, ids["Managed endpoints"]),
        ("Helpdesk hours", "Hourly", "arrears", "quarterly", 10, 150_00, 15, 15, False, ids["Helpdesk hours"]),
        ("Backup storage", "Usage", "arrears", "monthly", 500, 10, None, None, False, ids["Backup storage"]),
    ]
    assert (assignment["client_id"], assignment["is_active"], assignment["end_date"]) == (tenant.client, True, None)
    assert assignment["start_date"] == ACCEPTED_AT

    row = quote_row(engine, tenant.id, quote_id)
    assert (row["status"], str(row["converted_contract_id"]), row["converted_invoice_id"]) == (
        "accepted",
        out["contract_id"],
        None,
    )
    assert row["converted_at"] is None
    [activity] = quote_activities(engine, tenant.id, quote_id)
    assert (activity["activity_type"], activity["description"]) == (
        "converted_to_contract",
        "Quote converted to a draft contract",
    )
    assert activity["metadata"] == {"contract_id": out["contract_id"], "contract_lines": 3}
    assert activity["performed_by"] == tenant.actor
    assert count_rows(engine, tenant.id, "invoices") == 0
    [audit] = audit_rows(engine, tenant.id, ACTION)
    assert (audit["changed_data"]["target"], audit["changed_data"]["contract_id"]) == ("contract", out["contract_id"])


def test_contract_start_date_falls_back_to_quote_date(tenant: Tenant, engine, invoke) -> None:
    quote_date = NOW - timedelta(days=9)
    quote_id = accepted_quote(tenant, [recurring()], accepted_at=None, quote_date=quote_date)
    out = invoke(ACTION, {"quote_id": str(quote_id), "target": "contract"})
    _, _, [assignment] = contract_rows(engine, tenant, out["contract_id"])
    assert assignment["start_date"] == quote_date


def test_converts_to_a_draft_invoice_with_hand_computed_cents(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(
        tenant,
        [
            one_time("A setup", quantity=1, unit_price=2_500_00, tax_rate=1000),
            one_time("B cabling", quantity=2, unit_price=50_00, is_taxable=False),
            one_time("C unselected option", is_optional=True, is_selected=False, unit_price=999_00),
            one_time("D selected option", quantity=1, unit_price=10_00, is_optional=True, tax_rate=1000),
            recurring("R monitoring", quantity=1, unit_price=100_00),
            {
                "description": "X ten percent off",
                "is_discount": True,
                "discount_type": "percentage",
                "discount_percentage": 10,
                "quantity": 1,
                "unit_price": 0,
            },
        ],
        po_number="PO-77",
        currency_code="EUR",
    )
    # a fixed discount aimed at the recurring item does not reach the invoice
    ids = item_ids(engine, tenant, quote_id)
    add_fixed_discount(engine, tenant, quote_id, "Y monitoring discount", 2_000, ids["R monitoring"])

    out = invoke(ACTION, {"quote_id": str(quote_id), "target": "invoice"})

    assert out["no_op"] is False and out["contract_id"] is None
    invoice, charges = invoice_rows(engine, tenant, out["invoice_id"])
    # base lines A 2 500.00, B 100.00, D 10.00: 2 610.00; 10 % off the whole: 261.00 split 250.00 / 10.00 / 1.00;
    # tax 10 % of (2 500.00 - 250.00) = 225.00 and of (10.00 - 1.00) = 0.90; B is not taxable
    assert (invoice["subtotal"], invoice["tax"], invoice["total_amount"]) == (2_349_00, 225_90, 2_574_90)
    assert (invoice["invoice_number"], invoice["status"], invoice["is_manual"]) == ("INV-0001", "draft", True)
    assert (invoice["invoice_date"], invoice["due_date"]) == (ACCEPTED_AT, ACCEPTED_AT)
    assert (invoice["client_id"], invoice["currency_code"], invoice["tax_source"], invoice["po_number"]) == (
        tenant.client,
        "EUR",
        "internal",
        "PO-77",
    )
    summary = [
        (
            c["description"],
            c["quantity"],
            c["unit_price"],
            c["total_price"],
            c["net_amount"],
            c["tax_amount"],
            c["is_discount"],
        )
        for c in charges
    ]
    assert summary == [
        ("A setup", 1, 2_500_00, 2_500_00, 2_500_00, 225_00, False),
        ("B cabling", 2, 50_00, 100_00, 100_00, 0, False),
        ("D selected option", 1, 10_00, 10_00, 10_00, 90, False),
        ("X ten percent off", 1, -261_00, -261_00, -261_00, 0, True),
    ]
    assert sum(c["net_amount"] for c in charges) == invoice["subtotal"]
    assert sum(c["tax_amount"] for c in charges) == invoice["tax"]
    discount = charges[-1]
    assert (discount["discount_type"], discount["discount_percentage"], discount["applies_to_item_id"]) == (
        "percentage",
        10,
        None,
    )
    assert {c["source_quote_item_id"] for c in charges} == {
        ids["A setup"],
        ids["B cabling"],
        ids["D selected option"],
        ids["X ten percent off"],
    }

    row = quote_row(engine, tenant.id, quote_id)
    assert (row["status"], str(row["converted_invoice_id"]), row["converted_contract_id"]) == (
        "accepted",
        out["invoice_id"],
        None,
    )
    [activity] = quote_activities(engine, tenant.id, quote_id)
    assert (activity["activity_type"], activity["description"]) == (
        "converted_to_invoice",
        "Quote converted to draft invoice INV-0001",
    )
    assert activity["metadata"] == {
        "invoice_id": out["invoice_id"],
        "invoice_number": "INV-0001",
        "total_amount": 2_574_90,
    }
    assert count_rows(engine, tenant.id, "contracts") == 0


def test_an_item_discount_points_at_the_items_charge(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(tenant, [one_time("A setup", tax_rate=0), recurring()])
    ids = item_ids(engine, tenant, quote_id)
    add_fixed_discount(engine, tenant, quote_id, "Setup discount", 300_000, ids["A setup"])
    out = invoke(ACTION, {"quote_id": str(quote_id), "target": "invoice"})
    invoice, charges = invoice_rows(engine, tenant, out["invoice_id"])
    setup, discount = charges
    assert discount["applies_to_item_id"] == setup["item_id"]
    # a 3 000.00 discount on a 2 500.00 line is capped at the line
    assert (discount["net_amount"], invoice["subtotal"], invoice["total_amount"]) == (-2_500_00, 0, 0)


def test_converts_to_both_and_marks_the_quote_converted(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(tenant, [recurring(), one_time()])

    out = invoke(ACTION, {"quote_id": str(quote_id), "target": "contract_and_invoice"})

    assert out["no_op"] is False and out["contract_id"] and out["invoice_id"]
    assert (out["quote"]["status"], out["quote"]["total_amount"]) == ("converted", 2_980_00)
    assert (out["quote"]["converted_contract_id"], out["quote"]["converted_invoice_id"]) == (
        out["contract_id"],
        out["invoice_id"],
    )
    _, lines, [_] = contract_rows(engine, tenant, out["contract_id"])
    invoice, charges = invoice_rows(engine, tenant, out["invoice_id"])
    assert [line["contract_line_name"] for line in lines] == ["Managed endpoints"]
    assert [charge["description"] for charge in charges] == ["Onboarding"]
    assert (invoice["invoice_number"], invoice["total_amount"]) == ("INV-0001", 2_500_00)
    row = quote_row(engine, tenant.id, quote_id)
    assert (row["status"], row["converted_at"] is not None, row["total_amount"]) == ("converted", True, 2_980_00)
    activities = quote_activities(engine, tenant.id, quote_id)
    assert [a["activity_type"] for a in activities] == [
        "converted_to_contract",
        "converted_to_invoice",
        "status_changed",
        "converted",
    ]
    assert activities[2]["metadata"] == {"previous_status": "accepted", "next_status": "converted"}
    assert activities[3]["description"] == "Quote converted to a draft contract and draft invoice INV-0001"
    assert activities[3]["metadata"] == {
        "contract_id": out["contract_id"],
        "invoice_id": out["invoice_id"],
        "invoice_number": "INV-0001",
    }
    [audit] = audit_rows(engine, tenant.id, ACTION)
    assert (audit["changed_data"]["previous_status"], audit["changed_data"]["new_status"]) == ("accepted", "converted")


@pytest.mark.parametrize("target", ["contract", "invoice", "contract_and_invoice"])
def test_converting_again_is_a_no_op_or_an_error(tenant: Tenant, engine, invoke, target: str) -> None:
    quote_id = accepted_quote(tenant, [recurring(), one_time()])
    first = invoke(ACTION, {"quote_id": str(quote_id), "target": target})
    before = tenant_row_counts(engine, tenant.id)

    again = invoke(ACTION, {"quote_id": str(quote_id), "target": target})

    assert again["no_op"] is True
    assert (again["contract_id"], again["invoice_id"]) == (first["contract_id"], first["invoice_id"])
    assert again["quote"]["status"] == first["quote"]["status"]
    after = tenant_row_counts(engine, tenant.id)
    assert {t: n - before[t] for t, n in after.items() if n != before[t]} == {"workflow_action_invocations": 1}
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "target": target, "no_op_if_already_converted": False})
    details = caught.value.details
    assert (details["rule"], details["field"], details["target"]) == ("quote_not_already_converted", "target", target)
    assert details["actual"] == {
        "status": first["quote"]["status"],
        "converted_contract_id": first["contract_id"],
        "converted_invoice_id": first["invoice_id"],
    }


def test_contract_then_invoice_then_both_is_a_no_op(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(tenant, [recurring(), one_time()])
    contract = invoke(ACTION, {"quote_id": str(quote_id), "target": "contract"})
    invoice = invoke(ACTION, {"quote_id": str(quote_id), "target": "invoice"})
    assert (invoice["contract_id"], invoice["no_op"]) == (contract["contract_id"], False)
    assert invoice["quote"]["status"] == "accepted"

    both = invoke(ACTION, {"quote_id": str(quote_id), "target": "contract_and_invoice"})

    assert (both["no_op"], both["contract_id"], both["invoice_id"]) == (
        True,
        contract["contract_id"],
        invoice["invoice_id"],
    )
    assert quote_row(engine, tenant.id, quote_id)["status"] == "accepted"


def test_both_after_a_started_conversion_is_refused(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(tenant, [recurring(), one_time()])
    contract = invoke(ACTION, {"quote_id": str(quote_id), "target": "contract"})

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "target": "contract_and_invoice"})

    assert caught.value.details == {
        "rule": "quote_conversion_not_started",
        "field": "target",
        "expected": {"converted_contract_id": None, "converted_invoice_id": None},
        "actual": {
            "status": "accepted",
            "converted_contract_id": contract["contract_id"],
            "converted_invoice_id": None,
        },
    }


def test_a_converted_quote_is_a_no_op_for_any_target(tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, status="converted", items=[recurring(), one_time()], converted_at=NOW)
    out = invoke(ACTION, {"quote_id": str(quote_id), "target": "invoice"})
    assert (out["no_op"], out["contract_id"], out["invoice_id"]) == (True, None, None)


@pytest.mark.parametrize("status", ["draft", "pending_approval", "approved", "sent", "rejected", "cancelled"])
def test_only_accepted_quotes_are_converted(tenant: Tenant, engine, invoke, status: str) -> None:
    quote_id = add_quote(tenant, status=status, items=[recurring(), one_time()])
    before = tenant_row_counts(engine, tenant.id)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "target": "contract_and_invoice"})
    assert caught.value.details == broken_rule("quote_accepted_for_conversion", "status", ["accepted"], status)
    assert tenant_row_counts(engine, tenant.id) == before


def test_a_template_is_refused(tenant: Tenant, engine, invoke) -> None:
    template = tenant.seed.quote(client_id=None, title="Template", is_template=True, items=[recurring()])
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(template), "target": "contract"})
    assert caught.value.details == broken_rule("quote_is_not_template", "quote_id", False, True)


def test_a_quote_without_a_client_is_refused(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(tenant, [recurring()], client_id=None, contact_id=None)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "target": "contract"})
    assert caught.value.details == broken_rule("quote_has_client", "client_id", "a client", None)


@pytest.mark.parametrize(
    ("target", "items", "rule", "expected", "actual"),
    [
        (
            "contract_and_invoice",
            [recurring()],
            "quote_has_recurring_and_one_time_items",
            {"recurring": "at least 1", "one_time": "at least 1"},
            {"recurring": 1, "one_time": 0},
        ),
        (
            "contract_and_invoice",
            [one_time(), recurring("Unselected", is_optional=True, is_selected=False)],
            "quote_has_recurring_and_one_time_items",
            {"recurring": "at least 1", "one_time": "at least 1"},
            {"recurring": 0, "one_time": 1},
        ),
        ("contract", [one_time()], "quote_has_recurring_items", {"recurring": "at least 1"}, {"recurring": 0}),
        ("invoice", [recurring()], "quote_has_one_time_items", {"one_time": "at least 1"}, {"one_time": 0}),
    ],
)
def test_the_target_needs_its_items(tenant: Tenant, engine, invoke, target, items, rule, expected, actual) -> None:
    quote_id = accepted_quote(tenant, [dict(item) for item in items])
    before = tenant_row_counts(engine, tenant.id)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "target": target})
    assert caught.value.details == broken_rule(rule, "target", expected, actual, target=target)
    assert tenant_row_counts(engine, tenant.id) == before


def test_invoice_numbers_follow_each_other(tenant: Tenant, engine, invoke) -> None:
    numbers = [
        fetch_one(
            engine,
            tenant.id,
            "select invoice_number from invoices where invoice_id = :i",
            i=invoke(ACTION, {"quote_id": str(accepted_quote(tenant, [one_time()])), "target": "invoice"})[
                "invoice_id"
            ],
        )["invoice_number"]
        for _ in range(3)
    ]
    assert numbers == ["INV-0001", "INV-0002", "INV-0003"]


def test_concurrent_conversions_make_one_contract(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(tenant, [recurring(), one_time()])
    calls = [
        lambda i=i: invoke(ACTION, {"quote_id": str(quote_id), "target": "contract_and_invoice"}, run_id=f"run-{i}")
        for i in range(10)
    ]
    outputs, errors = run_in_threads(calls)
    assert errors == []
    assert sorted(o["no_op"] for o in outputs) == [False] + [True] * 9
    assert len({(o["contract_id"], o["invoice_id"]) for o in outputs}) == 1
    assert (count_rows(engine, tenant.id, "contracts"), count_rows(engine, tenant.id, "invoices")) == (1, 1)


def test_another_tenants_quote_is_not_found(tenant: Tenant, other_tenant: Tenant, engine, invoke) -> None:
    foreign = accepted_quote(other_tenant, [recurring()])
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {"quote_id": str(foreign), "target": "contract"})
    assert caught.value.details == {"resource": "quote", "id": str(foreign), "field": "quote_id"}
    assert quote_row(engine, other_tenant.id, foreign)["converted_contract_id"] is None
    assert count_rows(engine, other_tenant.id, "contracts") == 0


@pytest.mark.parametrize(
    ("grants", "missing"),
    [
        ([], ("billing", "read")),
        ([("billing", "read"), ("billing", "update")], ("billing", "create")),
        ([("billing", "read"), ("billing", "create")], ("billing", "update")),
    ],
)
def test_missing_billing_permissions_are_refused(tenant: Tenant, engine, invoke, grants, missing) -> None:
    actor = actor_with(tenant, *grants) if grants else tenant.seed.user(roles=["Technician"])
    quote_id = accepted_quote(tenant, [recurring()])
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "target": "contract"}, actor=actor)
    assert (caught.value.details["resource"], caught.value.details["action"]) == missing
    assert count_rows(engine, tenant.id, "contracts") == 0


def test_dry_run_writes_nothing_and_takes_no_number(tenant: Tenant, engine, invoke) -> None:
    quote_id = accepted_quote(tenant, [recurring(), one_time()])
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, {"quote_id": str(quote_id), "target": "contract_and_invoice"}, dry_run=True)

    assert out["no_op"] is False and out["contract_id"] and out["invoice_id"]
    assert out["quote"]["status"] == "converted"
    assert tenant_row_counts(engine, tenant.id) == before
    assert quote_row(engine, tenant.id, quote_id)["status"] == "accepted"
    real = invoke(ACTION, {"quote_id": str(quote_id), "target": "invoice"})
    assert (
        fetch_one(engine, tenant.id, "select invoice_number from invoices where invoice_id = :i", i=real["invoice_id"])[
            "invoice_number"
        ]
        == "INV-0001"
    )
