"""Seeding quotes for the quote action tests, the input their actions share, and reading them back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from crm_core.dal.quote_records import QuoteRecord
from tests.support.rows import fetch_all, fetch_one
from tests.support.tenants import Tenant

NOW = datetime.now(UTC)


def add_quote(tenant: Tenant, *, status: str = "draft", lines: int = 2, **values: Any) -> uuid.UUID:
    """A quote of the tenant's client and contact (``values`` override columns) with ``lines`` plain items
    (2 x 12.50, 2 x 25.00, ...), dated now and valid for 30 days; totals as stored (zero unless given)."""
    items = values.pop(
        "items",
        [
            {"description": f"Managed endpoint {i + 1}", "quantity": 2, "unit_price": 12_50 * (i + 1)}
            for i in range(lines)
        ],
    )
    values.setdefault("quote_number", f"QUO-{uuid.uuid4().hex[:8]}")
    values.setdefault("quote_date", NOW)
    values.setdefault("valid_until", NOW + timedelta(days=30))
    return tenant.seed.quote(
        client_id=values.pop("client_id", tenant.client),
        contact_id=values.pop("contact_id", tenant.contact),
        title=values.pop("title", "Managed services"),
        status=status,
        items=items,
        **values,
    )


def quote_header_input(tenant: Tenant, defaults: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A quote action's input for the tenant's client and contact, dated 2026-06-01: ``defaults`` (the action's own
    fields), then ``changes``; a field set to None is left out of the input."""
    values = {"client_id": str(tenant.client), "contact_id": str(tenant.contact), "quote_date": "2026-06-01"}
    values.update(defaults)
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def quote_row(engine: Engine, tenant_id: uuid.UUID, quote_id: uuid.UUID) -> dict[str, Any]:
    """The ``quotes`` row."""
    return fetch_one(engine, tenant_id, "select * from quotes where quote_id = :q", q=quote_id)


def quote_items(engine: Engine, tenant_id: uuid.UUID, quote_id: uuid.UUID) -> list[dict[str, Any]]:
    """The quote's ``quote_items`` rows in display order."""
    return fetch_all(
        engine,
        tenant_id,
        "select * from quote_items where quote_id = :q order by display_order, created_at",
        q=quote_id,
    )


def quote_activities(engine: Engine, tenant_id: uuid.UUID, quote_id: uuid.UUID) -> list[dict[str, Any]]:
    """The quote's ``quote_activities`` rows, oldest first."""
    return fetch_all(
        engine, tenant_id, "select * from quote_activities where quote_id = :q order by created_at", q=quote_id
    )


def quote_record(**changes: Any) -> QuoteRecord:
    """A draft quote's record (as ``dal.quote_records.get_quote`` returns it) for the pure rules' tests, with
    ``changes``."""
    fields: dict[str, Any] = dict.fromkeys(QuoteRecord.__dataclass_fields__)
    fields.update(
        quote_id=uuid.UUID(int=4),
        quote_number="QUO-0001",
        client_id=uuid.UUID(int=0xC1),
        title="Quote",
        status="draft",
        is_template=False,
        currency_code="USD",
        tax_source="internal",
        subtotal=0,
        discount_total=0,
        tax=0,
        total_amount=0,
        items_count=0,
    )
    fields.update(changes)
    return QuoteRecord(**fields)
