"""crm.create_interaction_type end to end: create or reuse, display order, conflicts, replay safety."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.errors import ConflictError, PermissionDeniedError, ValidationError
from tests.support.concurrency import run_in_threads
from tests.support.errors import broken_rule
from tests.support.events import published
from tests.support.handlers import invoke_action
from tests.support.rows import audit_rows, count_rows, fetch_one, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.create_interaction_type"


def create(invoke, type_name: str, *, envelope: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return invoke(ACTION, {"type_name": type_name, **fields}, **(envelope or {}))["interaction_type"]


def test_creates_a_tenant_type(invoke, tenant: Tenant, engine, aws) -> None:
    created = create(invoke, "  Site Visit ", icon="map-pin")

    assert created == {
        "type_id": created["type_id"],
        "type_name": "Site Visit",
        "icon": "map-pin",
        "display_order": 0,
        "created_by": str(tenant.actor),
        "created": True,
    }
    row = fetch_one(
        engine,
        tenant.id,
        "select * from interaction_types where tenant = :tenant and type_id = :id",
        id=created["type_id"],
    )
    assert (row["type_name"], row["icon"], row["display_order"], row["created_by"]) == (
        "Site Visit",
        "map-pin",
        0,
        tenant.actor,
    )
    (audit,) = audit_rows(engine, tenant.id, ACTION)
    assert audit["changed_data"] == {
        "type_id": created["type_id"],
        "type_name": "Site Visit",
        "icon": "map-pin",
        "display_order": 0,
    }
    assert published(aws) == []


def test_display_order_follows_the_highest(invoke, tenant: Tenant) -> None:
    tenant.seed.interaction_type("QBR", display_order=7)

    created = create(invoke, "Workshop")

    assert created["display_order"] == 8


def test_given_display_order_is_kept(invoke) -> None:
    assert create(invoke, "Workshop", display_order=42)["display_order"] == 42


def test_taken_display_order_is_conflict(invoke, tenant: Tenant, engine) -> None:
    qbr = tenant.seed.interaction_type("QBR", display_order=3)

    with pytest.raises(ConflictError) as caught:
        create(invoke, "Workshop", display_order=3)

    expected = "a display_order no other type of this tenant has"
    assert caught.value.details == broken_rule(
        "display_order_unique", "display_order", expected, 3, existing_type_id=str(qbr), existing_type_name="QBR"
    )
    assert count_rows(engine, tenant.id, "interaction_types") == 1


def test_existing_name_is_returned_ignoring_case_and_spacing(invoke, tenant: Tenant, engine) -> None:
    qbr = tenant.seed.interaction_type("Quarterly  Review", icon="calendar", display_order=2)

    found = create(invoke, " quarterly review ", icon="other")

    assert found == {
        "type_id": str(qbr),
        "type_name": "Quarterly  Review",
        "icon": "calendar",
        "display_order": 2,
        "created_by": None,
        "created": False,
    }
    assert count_rows(engine, tenant.id, "interaction_types") == 1
    assert audit_rows(engine, tenant.id, ACTION) == []


def test_existing_name_with_if_exists_error_is_conflict(invoke, tenant: Tenant) -> None:
    qbr = tenant.seed.interaction_type("QBR")

    with pytest.raises(ConflictError) as caught:
        create(invoke, "qbr", if_exists="error")

    assert caught.value.code == "CONFLICT"
    assert caught.value.message == "An interaction type named 'QBR' already exists"
    expected = "a name no other type of this tenant has (ignoring case and spacing)"
    assert caught.value.details == broken_rule(
        "type_name_unique", "type_name", expected, "qbr", existing_type_id=str(qbr), existing_type_name="QBR"
    )


def test_system_type_names_are_not_duplicates(invoke) -> None:
    created = create(invoke, "Call", if_exists="error")

    assert created["created"] is True


def test_types_of_another_tenant_do_not_count(invoke, other_tenant: Tenant, tenant: Tenant, engine) -> None:
    other_tenant.seed.interaction_type("Site Visit")

    created = create(invoke, "Site Visit", if_exists="error")

    assert created["created"] is True
    assert created["display_order"] == 0
    assert count_rows(engine, other_tenant.id, "interaction_types") == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type_name": "   "}, "input.type_name"),
        ({"type_name": "x" * 121}, "input.type_name"),
        ({"type_name": "Ok", "icon": "i" * 121}, "input.icon"),
        ({"type_name": "Ok", "display_order": -1}, "input.display_order"),
        ({"type_name": "Ok", "if_exists": "replace"}, "input.if_exists"),
        ({}, "input.type_name"),
    ],
)
def test_bad_input_is_validation_error(invoke, tenant: Tenant, engine, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, fields)

    assert caught.value.details["errors"][0]["field"] == field
    assert count_rows(engine, tenant.id, "interaction_types") == 0


def test_needs_settings_update(invoke, tenant: Tenant, engine) -> None:
    actor = actor_with(tenant, ("interaction", "create"), ("interaction", "update"), ("settings", "read"))

    with pytest.raises(PermissionDeniedError) as caught:
        create(invoke, "Site Visit", envelope={"actor": actor})

    assert caught.value.message == "Permission denied: settings:update"
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("settings", "update")
    assert count_rows(engine, tenant.id, "interaction_types") == 0


def test_settings_update_alone_is_enough(invoke, tenant: Tenant) -> None:
    actor = actor_with(tenant, ("settings", "update"))

    assert create(invoke, "Site Visit", envelope={"actor": actor})["created_by"] == str(actor)


def test_dry_run_writes_nothing(invoke, tenant: Tenant, engine, aws) -> None:
    before = tenant_row_counts(engine, tenant.id)

    created = create(invoke, "Site Visit", envelope={"dry_run": True})

    assert created["created"] is True
    assert tenant_row_counts(engine, tenant.id) == before
    assert published(aws) == []


def test_retry_with_idempotency_key_creates_once(invoke, tenant: Tenant, engine) -> None:
    first = create(invoke, "Site Visit", idempotency_key="type-1", envelope={"run_id": "a"})
    retried = create(invoke, "Site Visit", idempotency_key="type-1", envelope={"run_id": "b"})

    assert retried == first
    assert first["created"] is True
    assert count_rows(engine, tenant.id, "interaction_types") == 1
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1


def test_idempotency_key_with_another_input_is_conflict(invoke, tenant: Tenant, engine) -> None:
    create(invoke, "Site Visit", idempotency_key="type-2")

    with pytest.raises(ConflictError) as caught:
        create(invoke, "Workshop", idempotency_key="type-2")

    assert caught.value.details["rule"] == "idempotency_key_reuse"
    assert count_rows(engine, tenant.id, "interaction_types") == 1


def test_concurrent_creations_of_one_name_make_one_type(aws, tenant: Tenant, engine) -> None:
    calls = [
        lambda index=index: invoke_action(
            ACTION, tenant.id, tenant.actor, {"type_name": "Site Visit"}, run_id=f"parallel-{index}"
        )
        for index in range(4)
    ]

    results, errors = run_in_threads(calls)

    assert errors == []
    assert sorted(r["interaction_type"]["created"] for r in results) == [False, False, False, True]
    assert len({r["interaction_type"]["type_id"] for r in results}) == 1
    assert count_rows(engine, tenant.id, "interaction_types") == 1
