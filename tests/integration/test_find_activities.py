"""crm.find_activities end to end: real PostgreSQL, moto, the real Lambda handler."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.activities import CALL_TYPE, EMAIL_TYPE, add_activity, at, iso
from tests.support.errors import broken_rule
from tests.support.rows import execute
from tests.support.searches import (
    assert_120_matches_in_pages_of_25,
    assert_records_nothing,
    assert_total_counts_every_match,
)
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.find_activities"


@dataclass
class World:
    """A tenant with two clients, three contacts, two tickets, two users, three types and ten activities."""

    tenant: Tenant
    globex: uuid.UUID
    dave: uuid.UUID
    hank: uuid.UUID
    globex_ticket: uuid.UUID
    bob: uuid.UUID
    qbr_type: uuid.UUID
    planned: uuid.UUID
    completed: uuid.UUID
    activities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, when: datetime, **values: Any) -> uuid.UUID:
        values.setdefault("type_id", CALL_TYPE)
        values.setdefault("user_id", self.tenant.actor)
        values.setdefault("client_id", self.tenant.client)
        activity_id = add_activity(self.tenant, when=when, **values)
        self.activities.append({"id": activity_id, "when": when, **values})
        return activity_id

    def expected(self, **conditions: Any) -> list[str]:
        """Ids of the activities matching ``conditions`` (column -> value), newest first."""
        rows = [a for a in self.activities if all(a.get(k) == v for k, v in conditions.items())]
        rows.sort(key=lambda a: (a["when"], a["id"]), reverse=True)
        return [str(a["id"]) for a in rows]


@pytest.fixture
def world(tenant: Tenant) -> World:
    seed = tenant.seed
    globex = seed.client("Globex", timezone="Europe/Berlin")
    w = World(
        tenant=tenant,
        globex=globex,
        dave=seed.contact(tenant.client, "Dave Contact"),
        hank=seed.contact(globex, "Hank Contact"),
        globex_ticket=seed.ticket(globex, None, title="VPN down", number="T-2001"),
        bob=seed.user(roles=["Technician"], first_name="Bob", last_name="Tech"),
        qbr_type=seed.interaction_type("QBR", icon="calendar"),
        planned=seed.status_ids["Planned"],
        completed=seed.status_ids["Completed"],
    )
    t = tenant
    w.add(at(0), contact_name_id=t.contact, ticket_id=t.ticket, status_id=w.planned)
    w.add(at(1), contact_name_id=w.dave, type_id=EMAIL_TYPE, status_id=w.completed)
    w.add(at(2), user_id=w.bob, type_id=w.qbr_type, status_id=w.planned)
    w.add(at(3), client_id=globex, contact_name_id=w.hank, ticket_id=w.globex_ticket, status_id=w.completed)
    w.add(at(4), client_id=globex, user_id=w.bob, type_id=EMAIL_TYPE)
    w.add(at(5), contact_name_id=t.contact, type_id=w.qbr_type, status_id=w.completed)
    w.add(at(6), ticket_id=t.ticket, user_id=w.bob, status_id=w.planned)
    w.add(at(7), client_id=globex, type_id=w.qbr_type, status_id=w.planned)
    w.add(at(8), contact_name_id=w.dave, status_id=w.completed)
    w.add(at(9), user_id=w.bob, contact_name_id=t.contact, ticket_id=t.ticket)
    return w


def ids(*pages: dict[str, Any]) -> list[str]:
    """The activity ids of ``pages``, in order."""
    return [a["activity_id"] for page in pages for a in page["activities"]]


def pages_after(invoke, request: dict[str, Any], first: dict[str, Any]) -> list[dict[str, Any]]:
    """The pages that follow ``first`` (the page of ``request``), each asked for with the previous next_cursor."""
    pages = []
    cursor = first["next_cursor"]
    while cursor:
        pages.append(invoke(ACTION, {**request, "cursor": cursor}))
        cursor = pages[-1]["next_cursor"]
    return pages


FILTERS = {
    "client_id": ("client_id", lambda w: w.globex),
    "contact_id": ("contact_name_id", lambda w: w.tenant.contact),
    "ticket_id": ("ticket_id", lambda w: w.tenant.ticket),
    "user_id": ("user_id", lambda w: w.bob),
    "type_id": ("type_id", lambda w: w.qbr_type),
    "status_id": ("status_id", lambda w: w.completed),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_alone(invoke, world: World, name: str) -> None:
    column, value_of = FILTERS[name]
    value = value_of(world)

    out = invoke(ACTION, {name: str(value)})

    assert ids(out) == world.expected(**{column: value})
    assert out["count"] == len(out["activities"]) >= 2
    assert out["has_more"] is False
    assert out["next_cursor"] is None
    assert out["total"] is None
    assert out["matched_filters"][name] == str(value)
    assert out["matched_filters"]["limit"] == 25


def test_system_type_filter(invoke, world: World) -> None:
    out = invoke(ACTION, {"type_id": str(EMAIL_TYPE)})

    assert ids(out) == world.expected(type_id=EMAIL_TYPE)
    assert {a["type_name"] for a in out["activities"]} == {"Email"}


def test_filters_combined(invoke, world: World) -> None:
    t = world.tenant
    out = invoke(
        ACTION,
        {
            "client_id": str(t.client),
            "user_id": str(world.bob),
            "status_id": str(world.planned),
            "date_from": iso(at(1)),
            "date_to": iso(at(8)),
        },
    )

    expected = [
        str(a["id"])
        for a in sorted(world.activities, key=lambda a: a["when"], reverse=True)
        if a["client_id"] == t.client
        and a["user_id"] == world.bob
        and a.get("status_id") == world.planned
        and at(1) <= a["when"] <= at(8)
    ]
    assert ids(out) == expected
    assert len(expected) == 2
    assert out["matched_filters"] == {
        "client_id": str(t.client),
        "contact_id": None,
        "ticket_id": None,
        "user_id": str(world.bob),
        "type_id": None,
        "status_id": str(world.planned),
        "date_from": iso(at(1)),
        "date_to": iso(at(8)),
        "limit": 25,
    }


def test_contact_and_type_combined(invoke, world: World) -> None:
    out = invoke(ACTION, {"contact_id": str(world.tenant.contact), "type_id": str(world.qbr_type)})

    assert ids(out) == world.expected(contact_name_id=world.tenant.contact, type_id=world.qbr_type)
    assert len(ids(out)) == 1


def test_date_range_is_inclusive_at_both_ends(invoke, world: World) -> None:
    out = invoke(ACTION, {"date_from": iso(at(2)), "date_to": iso(at(4))})

    assert ids(out) == [str(a["id"]) for a in reversed(world.activities[2:5])]


def test_date_range_accepts_any_offset(invoke, world: World) -> None:
    # 2026-03-04T09:00Z written as 10:00+01:00; 2026-03-06T09:00Z as 04:00-05:00.
    out = invoke(ACTION, {"date_from": "2026-03-04T10:00:00+01:00", "date_to": "2026-03-06T04:00:00-05:00"})

    assert ids(out) == [str(a["id"]) for a in reversed(world.activities[2:5])]
    assert out["matched_filters"]["date_from"] == iso(at(2))
    assert out["matched_filters"]["date_to"] == iso(at(4))


def test_open_ended_date_ranges(invoke, world: World) -> None:
    newest = invoke(ACTION, {"date_from": iso(at(8))})
    oldest = invoke(ACTION, {"date_to": iso(at(1))})

    assert ids(newest) == [str(world.activities[9]["id"]), str(world.activities[8]["id"])]
    assert ids(oldest) == [str(world.activities[1]["id"]), str(world.activities[0]["id"])]


def test_summary_has_every_field_from_one_joined_query(invoke, world: World) -> None:
    t = world.tenant
    notes = "  Talked   about\n\nthe  renewal.\t" + "x" * 300
    activity_id = world.add(
        at(20),
        contact_name_id=t.contact,
        ticket_id=t.ticket,
        type_id=world.qbr_type,
        status_id=world.planned,
        user_id=world.bob,
        title="Renewal call",
        notes=notes,
        start_time=at(20),
        end_time=at(20, hours=1.5),
        duration=90,
        visibility="client_visible",
        category="Renewal",
        tags=["renewal", "q2"],
    )

    out = invoke(ACTION, {"date_from": iso(at(20)), "limit": 1})

    collapsed = "Talked about the renewal. " + "x" * 300
    assert out["activities"] == [
        {
            "activity_id": str(activity_id),
            "type_id": str(world.qbr_type),
            "type_name": "QBR",
            "status_id": str(world.planned),
            "status_name": "Planned",
            "client_id": str(t.client),
            "client_name": "Acme Corp",
            "contact_id": str(t.contact),
            "contact_name": "Carol Contact",
            "ticket_id": str(t.ticket),
            "ticket_number": "T-1001",
            "title": "Renewal call",
            "notes_preview": collapsed[:180] + "…",
            "interaction_date": "2026-03-22T09:00:00Z",
            "start_time": "2026-03-22T09:00:00Z",
            "end_time": "2026-03-22T10:30:00Z",
            "duration": 90,
            "user_id": str(world.bob),
            "user_name": "Bob Tech",
            "visibility": "client_visible",
            "category": "Renewal",
            "tags": ["renewal", "q2"],
        }
    ]


def test_summary_of_a_bare_activity(invoke, tenant: Tenant) -> None:
    activity_id = add_activity(tenant, when=at(0), client_id=None, title=None, notes="   \n ")

    out = invoke(ACTION, {"user_id": str(tenant.actor)})

    (summary,) = out["activities"]
    assert summary["activity_id"] == str(activity_id)
    assert summary["type_name"] == "Call"
    assert summary["notes_preview"] is None
    assert summary["tags"] == []
    for key in ("status_id", "status_name", "client_id", "client_name", "contact_id", "ticket_number", "title"):
        assert summary[key] is None


def test_preview_of_very_long_notes_reads_only_their_head(invoke, tenant: Tenant) -> None:
    add_activity(tenant, when=at(0), notes="word " * 100_000)

    out = invoke(ACTION, {"client_id": str(tenant.client)})

    assert out["activities"][0]["notes_preview"] == ("word " * 40)[:180] + "…"


def test_order_is_date_then_id_descending(invoke, tenant: Tenant) -> None:
    same_time = [add_activity(tenant, when=at(1)) for _ in range(4)]
    older = add_activity(tenant, when=at(0))

    out = invoke(ACTION, {"client_id": str(tenant.client)})

    assert ids(out) == [*sorted((str(i) for i in same_time), reverse=True), str(older)]


def test_cursor_pages_through_120_rows_in_pages_of_25_each_exactly_once(invoke, tenant: Tenant) -> None:
    created = {str(add_activity(tenant, when=at(i // 3, hours=i % 3))) for i in range(120)}
    request = {"client_id": str(tenant.client), "limit": 25, "include_total": True}
    first = invoke(ACTION, request)
    pages = [first, *pages_after(invoke, request, first)]
    seen = ids(*pages)

    assert_120_matches_in_pages_of_25(pages, seen)
    assert set(seen) == created


def test_paging_is_stable_under_inserts_between_pages(invoke, tenant: Tenant) -> None:
    for i in range(30):
        add_activity(tenant, when=at(10 + i))
    first = invoke(ACTION, {"client_id": str(tenant.client), "limit": 10})
    newer = add_activity(tenant, when=at(100))
    older = add_activity(tenant, when=at(0))

    seen = ids(first, *pages_after(invoke, {"client_id": str(tenant.client), "limit": 10}, first))

    assert len(seen) == len(set(seen)) == 31
    assert str(newer) not in seen
    assert seen[-1] == str(older)


def test_exact_multiple_of_the_limit_ends_with_has_more_false(invoke, tenant: Tenant) -> None:
    for i in range(4):
        add_activity(tenant, when=at(i))

    first = invoke(ACTION, {"client_id": str(tenant.client), "limit": 2})
    second = invoke(ACTION, {"client_id": str(tenant.client), "limit": 2, "cursor": first["next_cursor"]})

    assert (first["has_more"], second["has_more"]) == (True, False)
    assert second["next_cursor"] is None


def test_page_stays_under_256_kib_and_continues_with_the_cursor(invoke, tenant: Tenant) -> None:
    big_title = "T" * 20_000
    made = {str(add_activity(tenant, when=at(i), title=big_title)) for i in range(30)}

    first = invoke(ACTION, {"client_id": str(tenant.client), "limit": 200})

    import json

    assert len(json.dumps(first, separators=(",", ":")).encode()) < 256 * 1024
    assert 0 < first["count"] < 30
    assert first["has_more"] is True
    seen = ids(first, *pages_after(invoke, {"client_id": str(tenant.client), "limit": 200}, first))
    assert len(seen) == len(set(seen)) == 30
    assert set(seen) == made


def test_cursor_of_other_filters_is_refused(invoke, world: World) -> None:
    first = invoke(ACTION, {"client_id": str(world.tenant.client), "limit": 2})

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"client_id": str(world.globex), "limit": 2, "cursor": first["next_cursor"]})

    assert caught.value.details["rule"] == "cursor_matches_filters"
    assert caught.value.details["field"] == "cursor"
    assert caught.value.details["expected"] != caught.value.details["actual"]


def test_no_match_returns_empty_by_default(invoke, world: World) -> None:
    out = invoke(ACTION, {"date_from": iso(at(50))})

    assert out["activities"] == []
    assert (out["count"], out["has_more"], out["next_cursor"]) == (0, False, None)


def test_no_match_with_on_empty_error_is_not_found(invoke, world: World) -> None:
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {"date_from": iso(at(50)), "on_empty": "error"})

    assert caught.value.code == "NOT_FOUND"
    assert caught.value.message == "No activities matched the filters"
    assert caught.value.details == {"resource": "interaction", "filters": {"date_from": "2026-04-21T09:00:00Z"}}


def test_on_empty_error_with_matches_returns_them(invoke, world: World) -> None:
    out = invoke(ACTION, {"client_id": str(world.globex), "on_empty": "error"})

    assert ids(out) == world.expected(client_id=world.globex)


def test_include_total_counts_every_match(invoke, world: World) -> None:
    matches = world.expected(client_id=world.tenant.client)
    assert len(matches) == 7

    assert_total_counts_every_match(invoke, ACTION, {"client_id": str(world.tenant.client)}, len(matches))


def test_at_least_one_filter_is_required(invoke, world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"limit": 10})

    assert caught.value.message == "At least one filter or date range is required"
    assert caught.value.details == broken_rule(
        "at_least_one_filter",
        "input",
        "one of client_id, contact_id, ticket_id, user_id, type_id, status_id, date_from, date_to",
        [],
    )


def test_date_from_after_date_to_is_refused(invoke, world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"date_from": iso(at(5)), "date_to": iso(at(4))})

    assert caught.value.details == broken_rule(
        "date_range_order", "date_from", "<= date_to (2026-03-06T09:00:00Z)", "2026-03-07T09:00:00Z"
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"limit": 0}, "input.limit"),
        ({"limit": 201}, "input.limit"),
        ({"date_from": "2026-03-01T10:00:00"}, "input.date_from"),
        ({"on_empty": "explode"}, "input.on_empty"),
        ({"client_id": "acme"}, "input.client_id"),
        ({"page": 2}, "input.page"),
    ],
)
def test_bad_input_is_validation_error(invoke, world: World, extra: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"user_id": str(world.bob), **extra})

    assert caught.value.details["rule"] == "schema"
    assert caught.value.details["errors"][0]["field"] == field


@pytest.mark.parametrize("name", ["client_id", "contact_id", "ticket_id", "user_id", "type_id", "status_id"])
def test_a_filter_naming_a_record_not_in_the_tenant_matches_nothing(
    invoke, tenant: Tenant, other_tenant: Tenant, name: str
) -> None:
    """A workflow that searches by a deleted or foreign record branches on zero; NOT_FOUND only on request."""
    add_activity(other_tenant, when=at(0), contact_name_id=other_tenant.contact, ticket_id=other_tenant.ticket)
    add_activity(tenant, when=at(0))
    foreign = {
        "client_id": other_tenant.client,
        "contact_id": other_tenant.contact,
        "ticket_id": other_tenant.ticket,
        "user_id": other_tenant.actor,
        "type_id": other_tenant.seed.interaction_type("Foreign type"),
        "status_id": other_tenant.seed.status_ids["Planned"],
    }[name]

    out = invoke(ACTION, {name: str(foreign)})
    assert (out["count"], out["activities"], out["has_more"]) == (0, [], False)

    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {name: str(foreign), "on_empty": "error"})
    assert caught.value.message == "No activities matched the filters"


def test_status_filter_must_be_an_interaction_status(invoke, tenant: Tenant) -> None:
    ticket_status = tenant.seed.status("Open", status_type="ticket")

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"status_id": str(ticket_status)})

    assert caught.value.details == {
        "rule": "status_is_interaction_status",
        "field": "status_id",
        "expected": "interaction",
        "actual": "ticket",
        "status_id": str(ticket_status),
        "status_name": "Open",
    }


def test_activities_of_another_tenant_never_appear(invoke, tenant: Tenant, other_tenant: Tenant) -> None:
    mine = add_activity(tenant, when=at(1))
    add_activity(other_tenant, when=at(1))
    add_activity(other_tenant, when=at(2))

    out = invoke(ACTION, {"date_from": iso(at(0)), "include_total": True})

    assert ids(out) == [str(mine)]
    assert out["total"] == 1


def test_needs_interaction_read(invoke, world: World) -> None:
    actor = actor_with(world.tenant, ("client", "read"), ("interaction", "create"), ("interaction", "update"))

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {"date_from": iso(at(0))}, actor=actor)

    assert caught.value.message == "Permission denied: interaction:read"
    assert caught.value.details["resource"] == "interaction"
    assert caught.value.details["action"] == "read"


@pytest.mark.parametrize(
    ("name", "resource"), [("client_id", "client"), ("contact_id", "contact"), ("ticket_id", "ticket")]
)
def test_record_filters_need_read_on_that_record(invoke, world: World, name: str, resource: str) -> None:
    others = [(r, "read") for r in ("client", "contact", "ticket") if r != resource]
    actor = actor_with(world.tenant, ("interaction", "read"), *others)
    value = {"client_id": world.tenant.client, "contact_id": world.tenant.contact, "ticket_id": world.tenant.ticket}[
        name
    ]

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {name: str(value)}, actor=actor)

    assert caught.value.details["resource"] == resource
    assert caught.value.details["action"] == "read"


def test_interaction_read_alone_serves_the_other_filters(invoke, world: World) -> None:
    actor = actor_with(world.tenant, ("interaction", "read"))

    out = invoke(
        ACTION,
        {"user_id": str(world.bob), "type_id": str(world.qbr_type), "status_id": str(world.planned)},
        actor=actor,
    )

    assert ids(out) == world.expected(user_id=world.bob, type_id=world.qbr_type, status_id=world.planned)


def test_read_only_records_nothing(invoke, world: World, engine, aws) -> None:
    assert_records_nothing(invoke, engine, aws, world.tenant.id, ACTION, {"client_id": str(world.tenant.client)})


def test_sees_changes_made_after_a_previous_identical_call(invoke, world: World) -> None:
    """Read-only: a repeated call is not replayed from a ledger, it reads the current data."""
    first = invoke(ACTION, {"client_id": str(world.globex)}, run_id="run-2", step_path="find")
    execute(world.tenant.seed.engine, world.tenant.id, "delete from interactions where client_id = :c", c=world.globex)

    again = invoke(ACTION, {"client_id": str(world.globex)}, run_id="run-2", step_path="find")

    assert first["count"] == 3
    assert again["count"] == 0


def test_opening_a_call_plans_its_joins_as_written_for_that_transaction_only(tenant: Tenant, engine) -> None:
    from sqlalchemy import text

    from crm_core.dal.activities import ActivityFilters, find_activity_page
    from crm_core.dal.calls import open_call

    activity_id = add_activity(tenant, when=at(0))
    read_settings = text("select current_setting('join_collapse_limit'), current_setting('enable_memoize')")
    with engine.connect() as connection:
        opened = open_call(connection, tenant.id, tenant.actor, None)
        rows, total = find_activity_page(
            connection, tenant.id, ActivityFilters(client_id=tenant.client), after=None, limit=5, with_total=True
        )
        inside = tuple(connection.execute(read_settings).one())
        connection.commit()
        after = tuple(connection.execute(read_settings).one())

    assert opened.actor.found and opened.invocation_id is None and opened.stored is None
    assert ([r.activity_id for r in rows], total) == ([activity_id], 1)
    assert inside == ("1", "off")
    assert after == ("8", "on")
