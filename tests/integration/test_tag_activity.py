"""crm.tag_activity end to end: crm.tag_entity's implementation with the activity as target."""

from __future__ import annotations

import uuid

import pytest

from crm_core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tests.support.activities import seed_activity
from tests.support.concurrency import run_in_threads
from tests.support.events import event_counts, tag_events
from tests.support.handlers import invoke_action
from tests.support.rows import activity_tags, count_rows, tag_definitions, tag_mappings, tenant_row_counts
from tests.support.tenants import Tenant

ACTION = "crm.tag_activity"


def tag_input(activity_id: uuid.UUID, tags: list[str], **extra: object) -> dict[str, object]:
    return {"activity_id": str(activity_id), "tags": tags, **extra}


def test_tags_the_activity(invoke, tenant: Tenant, engine, aws) -> None:
    activity = seed_activity(tenant, tags=["kickoff"])

    out = invoke(ACTION, tag_input(activity, [" upsell-candidate ", "kickoff"]))

    by_text = {d["tag_text"]: d for d in tag_definitions(engine, tenant.id)}
    assert {d["tagged_type"] for d in by_text.values()} == {"interaction"}
    rows = {m["tag_text"]: m for m in tag_mappings(engine, tenant.id, activity)}
    assert out == {
        "activity_id": str(activity),
        "target": {"type": "interaction", "id": str(activity)},
        "added_tags": [
            {
                "tag_id": str(by_text[text]["tag_id"]),
                "tag_text": text,
                "mapping_id": str(rows[text]["mapping_id"]),
            }
            for text in ("upsell-candidate", "kickoff")
        ],
        "existing_tags": [],
        "added_count": 2,
        "existing_count": 0,
    }
    assert {m["tagged_type"] for m in rows.values()} == {"interaction"}
    assert activity_tags(engine, tenant.id, activity) == ["kickoff", "upsell-candidate"]

    published = tag_events(aws)
    assert event_counts(published) == {"TAG_DEFINITION_CREATED": 2, "TAG_APPLIED": 2}
    applied = sorted((d for t, d in published if t == "TAG_APPLIED"), key=lambda d: d["tagId"])
    mapping_of_tag = {str(m["tag_id"]): str(m["mapping_id"]) for m in rows.values()}
    for detail in applied:
        assert detail["entityType"] == "interaction"
        assert detail["entityId"] == str(activity)
        expected_key = f"tag_applied:interaction:{activity}:{detail['tagId']}:{mapping_of_tag[detail['tagId']]}"
        assert detail["idempotencyKey"] == expected_key
    assert sorted(d["tagId"] for d in applied) == sorted(str(d["tag_id"]) for d in by_text.values())


def test_shares_definitions_and_mappings_with_tag_entity(invoke, tenant: Tenant, engine, aws) -> None:
    activity = seed_activity(tenant)
    first = invoke(ACTION, tag_input(activity, ["upsell-candidate"]))
    aws.drain_events()

    via_entity = invoke(
        "crm.tag_entity", {"target": {"type": "interaction", "id": str(activity)}, "tags": ["upsell-candidate"]}
    )

    assert via_entity["existing_tags"] == first["added_tags"]
    assert len(tag_definitions(engine, tenant.id)) == 1
    assert tag_events(aws) == []


def test_if_exists_no_op_and_error(invoke, tenant: Tenant, engine, aws) -> None:
    activity = seed_activity(tenant)
    first = invoke(ACTION, tag_input(activity, ["upsell-candidate"]))
    aws.drain_events()

    again = invoke(ACTION, tag_input(activity, ["upsell-candidate"], if_exists="no_op"))
    assert again["existing_tags"] == first["added_tags"]
    assert again["added_count"] == 0

    before = tenant_row_counts(engine, tenant.id)
    with pytest.raises(ConflictError) as caught:
        invoke(ACTION, tag_input(activity, ["upsell-candidate"], if_exists="error"))
    assert caught.value.message == f'Tag "upsell-candidate" already applied to interaction {activity}'
    assert tenant_row_counts(engine, tenant.id) == before
    assert activity_tags(engine, tenant.id, activity) == ["upsell-candidate"]
    assert tag_events(aws) == []


def test_invalid_tag_is_validation_error_naming_it(invoke, tenant: Tenant, engine) -> None:
    activity = seed_activity(tenant)

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, tag_input(activity, ["ok", "no|pipes"]))

    assert 'Tag "no|pipes"' in caught.value.message
    assert count_rows(engine, tenant.id, "tag_definitions") == 0
    assert activity_tags(engine, tenant.id, activity) is None


def test_activity_of_another_tenant_is_not_found(invoke, tenant: Tenant, other_tenant: Tenant, engine) -> None:
    foreign = seed_activity(other_tenant)

    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, tag_input(foreign, ["x"]))

    assert caught.value.code == "NOT_FOUND"
    assert caught.value.message == "Activity not found"
    assert caught.value.details == {"resource": "interaction", "id": str(foreign)}
    assert activity_tags(engine, other_tenant.id, foreign) is None
    assert count_rows(engine, other_tenant.id, "tag_mappings") == 0


def test_needs_interaction_update(invoke, tenant: Tenant, engine) -> None:
    tenant.seed.role(
        "No activity edits",
        [("client", "update"), ("contact", "update"), ("ticket", "update"), ("interaction", "read"), ("tag", "create")],
    )
    actor = tenant.seed.user(roles=["No activity edits"])
    activity = seed_activity(tenant)

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, tag_input(activity, ["x"]), actor=actor)

    assert caught.value.details["resource"] == "interaction"
    assert caught.value.details["action"] == "update"
    assert count_rows(engine, tenant.id, "tag_mappings") == 0


def test_dispatcher_may_tag_activities(invoke, tenant: Tenant) -> None:
    """interaction:update and tag:create are enough: the activity's client, contact or ticket is not checked."""
    dispatcher = tenant.seed.user(roles=["Dispatcher"])
    activity = seed_activity(tenant, contact_name_id=tenant.contact, ticket_id=tenant.ticket)

    out = invoke(ACTION, tag_input(activity, ["callback"]), actor=dispatcher)

    assert out["added_count"] == 1


def test_tag_create_only_for_a_new_definition(invoke, tenant: Tenant, engine) -> None:
    tenant.seed.role("Activity editor", [("interaction", "update")])
    editor = tenant.seed.user(roles=["Activity editor"])
    activity = seed_activity(tenant)

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, tag_input(activity, ["callback"]), actor=editor)
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("tag", "create")

    invoke(ACTION, tag_input(seed_activity(tenant), ["callback"]))
    out = invoke(ACTION, tag_input(activity, ["callback"]), actor=editor)

    assert out["added_count"] == 1
    assert activity_tags(engine, tenant.id, activity) == ["callback"]


def test_replay_with_the_same_idempotency_key(invoke, tenant: Tenant, engine, aws) -> None:
    activity = seed_activity(tenant)
    request = tag_input(activity, ["upsell-candidate"], idempotency_key="tag-kickoff")

    first = invoke(ACTION, request)
    counts = tenant_row_counts(engine, tenant.id)
    first_events = tag_events(aws)
    replay = invoke_action(ACTION, tenant.id, tenant.actor, request)

    assert replay == first
    assert event_counts(first_events) == {"TAG_DEFINITION_CREATED": 1, "TAG_APPLIED": 1}
    assert tag_events(aws) == []
    assert tenant_row_counts(engine, tenant.id) == counts


def test_dry_run_changes_nothing(invoke, tenant: Tenant, engine, aws) -> None:
    activity = seed_activity(tenant, tags=["kickoff"])
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, tag_input(activity, ["upsell-candidate"]), dry_run=True)

    assert out["added_count"] == 1
    assert tenant_row_counts(engine, tenant.id) == before
    assert activity_tags(engine, tenant.id, activity) == ["kickoff"]
    assert aws.drain_events() == []


def test_racing_calls_on_one_activity(aws, tenant: Tenant, engine) -> None:
    """The activity's row is read FOR UPDATE first, so the second call waits for the first to commit, then finds
    the definition and the mapping it made (racing inserts of one tag on different records: test_tag_entity)."""
    activity = seed_activity(tenant)
    calls = [
        lambda key=key: invoke_action(
            ACTION, tenant.id, tenant.actor, tag_input(activity, ["upsell-candidate"], idempotency_key=key)
        )
        for key in ("race-a", "race-b")
    ]

    outputs, errors = run_in_threads(calls)

    assert errors == []
    assert sorted((o["added_count"], o["existing_count"]) for o in outputs) == [(0, 1), (1, 0)]
    assert len(tag_definitions(engine, tenant.id)) == 1
    assert len(tag_mappings(engine, tenant.id, activity)) == 1
    assert activity_tags(engine, tenant.id, activity) == ["upsell-candidate"]
    assert event_counts(tag_events(aws)) == {"TAG_DEFINITION_CREATED": 1, "TAG_APPLIED": 1}


def test_the_activitys_tags_column_wins_and_mappings_stay_within_it(invoke, tenant: Tenant, engine, aws) -> None:
    """Issue 10, conformance 9: the summary shows the tags column; crm.tag_activity adds to both stores and
    crm.update_activity's tags replace the column, taking away the mappings of the texts it drops."""
    activity = seed_activity(tenant, tags=["kickoff"])  # free text, no tag record yet

    def summary_tags() -> list[str]:
        out = invoke("crm.update_activity", {"activity_id": str(activity), "patch": {"title": "Kickoff call"}})
        tags: list[str] = out["activity_after"]["tags"]
        return tags

    def mapped() -> list[str]:
        return [m["tag_text"] for m in tag_mappings(engine, tenant.id, activity)]

    tagged = invoke(ACTION, tag_input(activity, ["kickoff", "vip"]))
    assert (tagged["added_count"], summary_tags(), mapped()) == (2, ["kickoff", "vip"], ["kickoff", "vip"])

    invoke("crm.update_activity", {"activity_id": str(activity), "patch": {"tags": ["vip", "renewal"]}})
    assert (summary_tags(), mapped()) == (["vip", "renewal"], ["vip"])

    invoke("crm.update_activity", {"activity_id": str(activity), "patch": {"tags": None}})
    assert (summary_tags(), mapped()) == ([], [])

    again = invoke(ACTION, tag_input(activity, ["vip"]))
    assert (again["added_count"], again["existing_count"]) == (1, 0)
    assert (summary_tags(), mapped()) == (["vip"], ["vip"])
    assert event_counts(tag_events(aws)) == {"TAG_DEFINITION_CREATED": 2, "TAG_APPLIED": 3, "TAG_REMOVED": 2}
