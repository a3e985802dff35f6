"""crm.create_quote against real PostgreSQL and moto: numbering (also 20 at once), currency, client and contact
guards, dates, permissions, idempotency keys, another tenant, dry run, the quote activity and the audit row."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from crm_core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tests.support.concurrency import run_in_threads
from tests.support.errors import broken_rule
from tests.support.quotes import quote_activities, quote_header_input, quote_row
from tests.support.rows import audit_rows, count_rows, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.create_quote"


def quote_input(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    return quote_header_input(tenant, {"title": "Network refresh", "valid_until": "2026-06-30T23:59:59+02:00"}, changes)


def test_creates_a_numbered_draft_quote_with_its_activity_and_audit(tenant: Tenant, engine, invoke) -> None:
    out = invoke(
        ACTION,
        quote_input(
            tenant,
            description="Core switches",
            po_number="PO-1",
            internal_notes="margin 30%",
            client_notes="Installation included",
            terms_and_conditions="Net 30",
        ),
    )

    quote = out["quote"]
    assert quote == {
        "quote_id": quote["quote_id"],
        "quote_number": "QUO-0001",
        "status": "draft",
        "client_id": str(tenant.client),
        "contact_id": str(tenant.contact),
        "title": "Network refresh",
        "quote_date": "2026-06-01T00:00:00Z",
        "valid_until": "2026-06-30T21:59:59Z",
        "currency_code": "USD",
        "subtotal": 0,
        "discount_total": 0,
        "tax": 0,
        "total_amount": 0,
        "sent_at": None,
        "converted_contract_id": None,
        "converted_invoice_id": None,
        "is_template": False,
        "items_count": 0,
    }
    quote_id = uuid.UUID(quote["quote_id"])
    row = quote_row(engine, tenant.id, quote_id)
    assert (row["status"], row["version"], row["tax_source"], row["is_template"]) == ("draft", 1, "internal", False)
    assert (row["po_number"], row["internal_notes"], row["client_notes"], row["terms_and_conditions"]) == (
        "PO-1",
        "margin 30%",
        "Installation included",
        "Net 30",
    )
    assert row["description"] == "Core switches"
    assert (row["created_by"], row["updated_by"], row["template_id"]) == (tenant.actor, tenant.actor, None)
    [activity] = quote_activities(engine, tenant.id, quote_id)
    assert (activity["activity_type"], activity["description"]) == ("created", "Quote created")
    assert (activity["metadata"], activity["performed_by"]) == ({"is_template": False}, tenant.actor)
    [audit] = audit_rows(engine, tenant.id, ACTION)
    assert audit["changed_data"]["quote_id"] == quote["quote_id"]
    assert audit["changed_data"]["quote_number"] == "QUO-0001"
    assert audit["user_id"] == str(tenant.actor)


def test_numbers_follow_each_other_per_tenant(tenant: Tenant, other_tenant: Tenant, invoke) -> None:
    first = invoke(ACTION, quote_input(tenant))["quote"]["quote_number"]
    second = invoke(ACTION, quote_input(tenant))["quote"]["quote_number"]
    elsewhere = invoke(ACTION, quote_input(other_tenant), as_tenant=other_tenant)["quote"]["quote_number"]

    assert (first, second, elsewhere) == ("QUO-0001", "QUO-0002", "QUO-0001")


def test_twenty_concurrent_creates_get_twenty_consecutive_numbers(tenant: Tenant, engine, invoke) -> None:
    invoke(ACTION, quote_input(tenant))  # the tenant's counter exists: QUO-0001

    outputs, errors = run_in_threads(
        [
            (lambda n=n: invoke(ACTION, quote_input(tenant, title=f"Quote {n}", idempotency_key=f"parallel-{n}")))
            for n in range(20)
        ]
    )

    assert errors == []
    numbers = sorted(int(out["quote"]["quote_number"].removeprefix("QUO-")) for out in outputs)
    assert numbers == list(range(2, 22))
    assert count_rows(engine, tenant.id, "quotes") == 21


def test_the_first_creates_of_a_tenant_racing_on_a_new_counter_all_succeed(tenant: Tenant, invoke) -> None:
    outputs, errors = run_in_threads(
        [(lambda n=n: invoke(ACTION, quote_input(tenant, idempotency_key=f"first-{n}"))) for n in range(20)]
    )

    assert errors == []
    assert sorted(out["quote"]["quote_number"] for out in outputs) == [f"QUO-{n:04d}" for n in range(1, 21)]


@pytest.mark.parametrize(
    ("given", "client_default", "expected"),
    [
        ("eur", None, "EUR"),
        ("JPY", "CAD", "JPY"),
        (None, "CAD", "CAD"),
        (None, None, "USD"),
    ],
)
def test_currency_is_the_input_else_the_clients_default_else_usd(
    tenant: Tenant, invoke, given: str | None, client_default: str | None, expected: str
) -> None:
    client = tenant.seed.client("Maple Ltd", default_currency_code=client_default)

    out = invoke(ACTION, quote_input(tenant, client_id=str(client), contact_id=None, currency_code=given))

    assert out["quote"]["currency_code"] == expected


def test_an_unknown_currency_code_is_refused(tenant: Tenant, engine, invoke) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, quote_input(tenant, currency_code="ABC"))

    assert caught.value.details == broken_rule(
        "currency_code_iso4217", "currency_code", "an active ISO 4217 currency code, e.g. USD", "ABC", source="input"
    )
    assert count_rows(engine, tenant.id, "quotes") == 0


def test_a_clients_unknown_default_currency_is_refused(tenant: Tenant, invoke) -> None:
    client = tenant.seed.client("Old Lira Co", default_currency_code="ITL")

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, quote_input(tenant, client_id=str(client), contact_id=None))

    assert (caught.value.details["rule"], caught.value.details["source"]) == ("currency_code_iso4217", "client_default")
    assert caught.value.details["actual"] == "ITL"


@pytest.mark.parametrize("code", ["US", "USDX", "U$D"])
def test_a_currency_code_not_of_three_letters_is_a_schema_error(tenant: Tenant, invoke, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, quote_input(tenant, currency_code=code))
    assert caught.value.details["rule"] == "schema"


def test_a_missing_client_is_not_found(tenant: Tenant, engine, invoke) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, quote_input(tenant, client_id=str(missing), contact_id=None))
    assert caught.value.details == {"resource": "client", "id": str(missing), "field": "client_id"}


def test_another_tenants_client_and_contact_are_not_found(tenant: Tenant, other_tenant: Tenant, engine, invoke) -> None:
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, quote_input(tenant, client_id=str(other_tenant.client), contact_id=None))
    assert caught.value.details == {"resource": "client", "id": str(other_tenant.client), "field": "client_id"}

    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, quote_input(tenant, contact_id=str(other_tenant.contact)))
    assert caught.value.details == {"resource": "contact", "id": str(other_tenant.contact), "field": "contact_id"}
    assert count_rows(engine, other_tenant.id, "quotes") == 0


def test_a_contact_of_another_client_is_refused(tenant: Tenant, engine, invoke) -> None:
    globex = tenant.seed.client("Globex")
    hank = tenant.seed.contact(globex, "Hank Scorpio")

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, quote_input(tenant, contact_id=str(hank)))

    assert caught.value.details == broken_rule(
        "contact_belongs_to_client", "contact_id", str(tenant.client), str(globex)
    )
    assert count_rows(engine, tenant.id, "quotes") == 0


def test_valid_until_before_quote_date_is_refused(tenant: Tenant, engine, invoke) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, quote_input(tenant, quote_date="2026-06-01T09:00:00Z", valid_until="2026-06-01T08:59:59Z"))

    assert caught.value.details == broken_rule(
        "valid_until_not_before_quote_date", "valid_until", "on or after 2026-06-01T09:00:00Z", "2026-06-01T08:59:59Z"
    )
    assert count_rows(engine, tenant.id, "quotes") == 0


def test_valid_until_on_the_quote_date_is_allowed(tenant: Tenant, invoke) -> None:
    out = invoke(ACTION, quote_input(tenant, quote_date="2026-06-01", valid_until="2026-06-01"))
    assert out["quote"]["quote_date"] == out["quote"]["valid_until"] == "2026-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("field", "value"),
    [("quote_date", "2026-06-01T09:00:00"), ("valid_until", "next week"), ("quote_date", "2026-13-01")],
)
def test_a_date_time_without_offset_or_a_bad_date_is_a_schema_error(
    tenant: Tenant, invoke, field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, quote_input(tenant, **{field: value}))
    assert caught.value.details["rule"] == "schema"


@pytest.mark.parametrize("title", ["", "   "])
def test_a_blank_title_is_a_schema_error(tenant: Tenant, invoke, title: str) -> None:
    with pytest.raises(ValidationError):
        invoke(ACTION, quote_input(tenant, title=title))


@pytest.mark.parametrize(
    ("grants", "missing"),
    [
        ((("billing", "read"),), "create"),
        ((("billing", "create"),), "read"),
    ],
)
def test_missing_billing_permissions_are_refused(
    tenant: Tenant, engine, invoke, grants: tuple[tuple[str, str], ...], missing: str
) -> None:
    actor = actor_with(tenant, *grants)
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, quote_input(tenant), actor=actor)
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("billing", missing)
    assert count_rows(engine, tenant.id, "quotes") == 0


def test_a_technician_is_refused_and_finance_may_create(tenant: Tenant, invoke) -> None:
    technician = tenant.seed.user(roles=["Technician"], first_name="Tess")
    finance = tenant.seed.user(roles=["Finance"], first_name="Fiona")

    with pytest.raises(PermissionDeniedError):
        invoke(ACTION, quote_input(tenant), actor=technician)
    assert invoke(ACTION, quote_input(tenant), actor=finance)["quote"]["quote_number"] == "QUO-0001"


def test_the_same_idempotency_key_creates_once(tenant: Tenant, engine, invoke) -> None:
    first = invoke(ACTION, quote_input(tenant, idempotency_key="create-once"), run_id="run-1")
    again = invoke(ACTION, quote_input(tenant, idempotency_key="create-once"), run_id="run-2")

    assert again == first
    assert count_rows(engine, tenant.id, "quotes") == 1
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1


def test_an_idempotency_key_reused_with_another_input_is_a_conflict(tenant: Tenant, engine, invoke) -> None:
    invoke(ACTION, quote_input(tenant, idempotency_key="create-once"))
    with pytest.raises(ConflictError):
        invoke(ACTION, quote_input(tenant, title="Something else", idempotency_key="create-once"))
    assert count_rows(engine, tenant.id, "quotes") == 1


def test_dry_run_returns_the_would_be_quote_writes_nothing_and_takes_no_number(tenant: Tenant, engine, invoke) -> None:
    invoke(ACTION, quote_input(tenant))  # QUO-0001
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, quote_input(tenant, currency_code="gbp"), dry_run=True)

    assert out["quote"]["quote_number"] is None
    assert (out["quote"]["status"], out["quote"]["currency_code"], out["quote"]["total_amount"]) == ("draft", "GBP", 0)
    assert re.fullmatch(r"[0-9a-f-]{36}", out["quote"]["quote_id"])
    assert tenant_row_counts(engine, tenant.id) == before
    assert invoke(ACTION, quote_input(tenant))["quote"]["quote_number"] == "QUO-0002"


def test_dry_run_still_checks_the_guards(tenant: Tenant, engine, invoke) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, quote_input(tenant, currency_code="XYZ"), dry_run=True)
    assert caught.value.details["rule"] == "currency_code_iso4217"
