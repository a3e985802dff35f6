"""crm.tag_entity end to end: real PostgreSQL, moto, the real Lambda handler."""

from __future__ import annotations

import itertools
import uuid

import pytest

from crm_core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tests.support.activities import seed_activity, target_id
from tests.support.concurrency import run_in_threads, run_racing_inserts
from tests.support.events import event_counts, tag_events
from tests.support.handlers import invoke_action
from tests.support.rows import activity_tags, count_rows, fetch_one, tag_definitions, tag_mappings, tenant_row_counts
from tests.support.tenants import Tenant

ACTION = "crm.tag_entity"
TARGET_TYPES = ["client", "contact", "ticket", "interaction"]
ALLOWED_PUNCTUATION = "-_!@#$%^&*()+=[]{};':\",./<>?"


def tag_input(target_type: str, record_id: uuid.UUID, tags: list[str], **extra: object) -> dict[str, object]:
    return {"target": {"type": target_type, "id": str(record_id)}, "tags": tags, **extra}


@pytest.mark.parametrize("target_type", TARGET_TYPES)
def test_new_tag_on_each_target_type(invoke, tenant: Tenant, engine, aws, target_type: str) -> None:
    record = target_id(tenant, target_type)

    out = invoke(ACTION, tag_input(target_type, record, ["needs-qbr"]))

    (definition,) = tag_definitions(engine, tenant.id)
    (mapping,) = tag_mappings(engine, tenant.id)
    assert (definition["tag_text"], definition["tagged_type"]) == ("needs-qbr", target_type)
    assert definition["background_color"] is None and definition["text_color"] is None
    assert (mapping["tag_id"], mapping["tagged_id"], mapping["tagged_type"]) == (
        definition["tag_id"],
        record,
        target_type,
    )
    assert mapping["created_by"] == tenant.actor
    assert out == {
        "target": {"type": target_type, "id": str(record)},
        "added_tags": [
            {"tag_id": str(definition["tag_id"]), "tag_text": "needs-qbr", "mapping_id": str(mapping["mapping_id"])}
        ],
        "existing_tags": [],
        "added_count": 1,
        "existing_count": 0,
    }

    published = tag_events(aws)
    assert event_counts(published) == {"TAG_DEFINITION_CREATED": 1, "TAG_APPLIED": 1}
    events = dict(published)  # EventBridge does not promise an order
    created, applied = events["TAG_DEFINITION_CREATED"], events["TAG_APPLIED"]
    tag_id = str(definition["tag_id"])
    assert created["tagId"] == tag_id
    assert created["tagName"] == "needs-qbr"
    assert created["createdByUserId"] == str(tenant.actor)
    assert created["createdAt"].endswith("Z")
    assert created["idempotencyKey"] == f"tag_definition_created:{tag_id}"
    assert applied["tagId"] == tag_id
    assert applied["entityType"] == target_type
    assert applied["entityId"] == str(record)
    assert applied["appliedByUserId"] == str(tenant.actor)
    assert applied["appliedAt"] == created["createdAt"]
    assert applied["idempotencyKey"] == f"tag_applied:{target_type}:{record}:{tag_id}:{mapping['mapping_id']}"
    for detail in (created, applied):
        assert detail["tenantId"] == str(tenant.id)
        assert detail["actorType"] == "USER"
        assert detail["actorUserId"] == str(tenant.actor)
        assert detail["occurredAt"] == created["createdAt"]

    if target_type == "interaction":
        assert activity_tags(engine, tenant.id, record) == ["needs-qbr"]


def test_interaction_target_adds_to_the_activity_tags_without_duplicates(invoke, tenant: Tenant, engine) -> None:
    activity = seed_activity(tenant, tags=["renewal"])

    out = invoke(ACTION, tag_input("interaction", activity, ["renewal", "upsell-candidate"]))

    assert out["added_count"] == 2
    assert activity_tags(engine, tenant.id, activity) == ["renewal", "upsell-candidate"]
    again = invoke(ACTION, tag_input("interaction", activity, ["upsell-candidate", "renewal"]))
    assert again["existing_count"] == 2
    assert activity_tags(engine, tenant.id, activity) == ["renewal", "upsell-candidate"]


def test_existing_definition_is_reused_for_another_record(invoke, tenant: Tenant, engine, aws) -> None:
    first = invoke(ACTION, tag_input("client", tenant.client, ["needs-qbr"]))
    aws.drain_events()
    other_client = tenant.seed.client("Globex")

    out = invoke(ACTION, tag_input("client", other_client, ["needs-qbr"]))

    assert out["added_tags"][0]["tag_id"] == first["added_tags"][0]["tag_id"]
    assert out["added_tags"][0]["mapping_id"] != first["added_tags"][0]["mapping_id"]
    assert len(tag_definitions(engine, tenant.id)) == 1
    assert len(tag_mappings(engine, tenant.id)) == 2
    assert [t for t, _ in tag_events(aws)] == ["TAG_APPLIED"]


def test_same_text_on_another_record_type_is_another_definition(invoke, tenant: Tenant, engine) -> None:
    on_client = invoke(ACTION, tag_input("client", tenant.client, ["vip"]))
    on_contact = invoke(ACTION, tag_input("contact", tenant.contact, ["vip"]))

    assert on_client["added_tags"][0]["tag_id"] != on_contact["added_tags"][0]["tag_id"]
    assert [(d["tag_text"], d["tagged_type"]) for d in tag_definitions(engine, tenant.id)] == [
        ("vip", "client"),
        ("vip", "contact"),
    ]


def test_tags_are_trimmed_deduplicated_and_case_sensitive(invoke, tenant: Tenant, engine) -> None:
    out = invoke(ACTION, tag_input("client", tenant.client, ["  needs-qbr ", "needs-qbr", "VIP", "vip", "VIP "]))

    assert [t["tag_text"] for t in out["added_tags"]] == ["needs-qbr", "VIP", "vip"]
    assert [d["tag_text"] for d in tag_definitions(engine, tenant.id)] == ["VIP", "needs-qbr", "vip"]


def test_allowed_characters_and_fifty_character_boundary(invoke, tenant: Tenant) -> None:
    """What the rule allows (tests/unit/tags/test_tag_text.py), the tables store."""
    tags = ["a" * 50, f"Q3 {ALLOWED_PUNCTUATION}", "Renewal 2026\tfollow up"]

    out = invoke(ACTION, tag_input("client", tenant.client, tags))

    assert [t["tag_text"] for t in out["added_tags"]] == tags


def test_if_exists_no_op_lists_existing_tags(invoke, tenant: Tenant, engine, aws) -> None:
    first = invoke(ACTION, tag_input("ticket", tenant.ticket, ["escalated"]))
    aws.drain_events()

    out = invoke(ACTION, tag_input("ticket", tenant.ticket, ["escalated", "hardware"], if_exists="no_op"))

    assert out["existing_tags"] == first["added_tags"]
    assert [t["tag_text"] for t in out["added_tags"]] == ["hardware"]
    assert (out["added_count"], out["existing_count"]) == (1, 1)
    assert len(tag_mappings(engine, tenant.id, tenant.ticket)) == 2
    assert event_counts(tag_events(aws)) == {"TAG_DEFINITION_CREATED": 1, "TAG_APPLIED": 1}


def test_if_exists_is_no_op_by_default(invoke, tenant: Tenant, aws) -> None:
    invoke(ACTION, tag_input("client", tenant.client, ["needs-qbr"]))
    aws.drain_events()

    out = invoke(ACTION, tag_input("client", tenant.client, ["needs-qbr"]))

    assert (out["added_count"], out["existing_count"]) == (0, 1)
    assert tag_events(aws) == []


def test_if_exists_error_is_conflict_naming_the_tag_and_changes_nothing(invoke, tenant: Tenant, engine, aws) -> None:
    first = invoke(ACTION, tag_input("contact", tenant.contact, ["decision-maker"]))
    aws.drain_events()
    before = tenant_row_counts(engine, tenant.id)

    with pytest.raises(ConflictError) as caught:
        invoke(ACTION, tag_input("contact", tenant.contact, ["new-one", "decision-maker"], if_exists="error"))

    assert caught.value.code == "CONFLICT"
    assert '"decision-maker"' in caught.value.message
    assert caught.value.details["rule"] == "if_exists"
    assert caught.value.details["tags"] == first["added_tags"]
    assert caught.value.details["target"] == {"type": "contact", "id": str(tenant.contact)}
    assert tenant_row_counts(engine, tenant.id) == before
    assert tag_events(aws) == []


def test_if_exists_error_with_only_new_tags_succeeds(invoke, tenant: Tenant) -> None:
    out = invoke(ACTION, tag_input("client", tenant.client, ["needs-qbr"], if_exists="error"))

    assert out["added_count"] == 1


def test_invalid_tag_is_refused_before_anything_is_written(invoke, tenant: Tenant, engine, aws) -> None:
    """The rule itself, tag by tag, is unit-tested (tests/unit/tags/test_tag_text.py)."""
    before = tenant_row_counts(engine, tenant.id)

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, tag_input("client", tenant.client, ["fine", "needs|qbr"]))

    assert 'Tag "needs|qbr"' in caught.value.message
    (error,) = caught.value.details["errors"]
    assert error["field"] == "input.tags.1"
    assert tenant_row_counts(engine, tenant.id) == before
    assert tag_events(aws) == []


def test_empty_tag_list_is_validation_error(invoke, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, tag_input("client", tenant.client, []))

    assert caught.value.details["errors"][0]["field"] == "input.tags"


def test_project_is_not_a_tag_target(invoke, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, tag_input("project", tenant.project, ["x"]))

    assert caught.value.details["errors"][0]["field"] == "input.target.type"


@pytest.mark.parametrize("target_type", TARGET_TYPES)
def test_target_of_another_tenant_is_not_found(
    invoke, tenant: Tenant, other_tenant: Tenant, engine, aws, target_type: str
) -> None:
    foreign = target_id(other_tenant, target_type)

    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, tag_input(target_type, foreign, ["needs-qbr"]))

    assert caught.value.code == "NOT_FOUND"
    assert caught.value.details == {"resource": target_type, "id": str(foreign)}
    for tenant_id in (tenant.id, other_tenant.id):
        assert count_rows(engine, tenant_id, "tag_definitions") == 0
        assert count_rows(engine, tenant_id, "tag_mappings") == 0
    assert tag_events(aws) == []


def test_missing_target_is_not_found(invoke) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, tag_input("interaction", missing, ["x"]))

    assert caught.value.message == "Activity not found"
    assert caught.value.details == {"resource": "interaction", "id": str(missing)}


@pytest.mark.parametrize("target_type", TARGET_TYPES)
def test_permission_is_target_type_update(invoke, tenant: Tenant, engine, target_type: str) -> None:
    everything_but = [
        (resource, action)
        for resource in (*TARGET_TYPES, "tag")
        for action in ("create", "read", "update")
        if (resource, action) != (target_type, "update")
    ]
    tenant.seed.role("Almost", everything_but)
    actor = tenant.seed.user(roles=["Almost"])
    record = target_id(tenant, target_type)

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, tag_input(target_type, record, ["needs-qbr"]), actor=actor)

    assert caught.value.message == f"Permission denied: {target_type}:update"
    assert caught.value.details["resource"] == target_type
    assert caught.value.details["action"] == "update"
    assert count_rows(engine, tenant.id, "tag_definitions") == 0


def test_tag_create_is_needed_only_for_a_new_definition(invoke, tenant: Tenant, engine, aws) -> None:
    tenant.seed.role("Client editor", [("client", "update")])
    editor = tenant.seed.user(roles=["Client editor"])

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, tag_input("client", tenant.client, ["needs-qbr"]), actor=editor)

    assert caught.value.message.startswith("Permission denied: tag:create")
    assert '"needs-qbr"' in caught.value.message
    assert caught.value.details["resource"] == "tag"
    assert caught.value.details["action"] == "create"
    assert caught.value.details["new_tags"] == ["needs-qbr"]
    assert count_rows(engine, tenant.id, "tag_definitions") == 0
    assert tag_events(aws) == []

    invoke(ACTION, tag_input("client", tenant.seed.client("Globex"), ["needs-qbr"]))  # the Admin creates it
    aws.drain_events()

    out = invoke(ACTION, tag_input("client", tenant.client, ["needs-qbr"]), actor=editor)

    assert out["added_count"] == 1
    assert len(tag_definitions(engine, tenant.id)) == 1
    assert tag_mappings(engine, tenant.id, tenant.client)[0]["created_by"] == editor
    assert [t for t, _ in tag_events(aws)] == ["TAG_APPLIED"]


def test_one_new_definition_among_existing_ones_needs_tag_create(invoke, tenant: Tenant, engine) -> None:
    invoke(ACTION, tag_input("client", tenant.client, ["known"]))
    tenant.seed.role("Client editor", [("client", "update")])
    editor = tenant.seed.user(roles=["Client editor"])
    before = tenant_row_counts(engine, tenant.id)

    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, tag_input("client", tenant.client, ["known", "brand-new"]), actor=editor)

    assert caught.value.details["new_tags"] == ["brand-new"]
    assert tenant_row_counts(engine, tenant.id) == before


def test_replay_with_the_same_idempotency_key_publishes_once(invoke, tenant: Tenant, engine, aws) -> None:
    request = tag_input("client", tenant.client, ["needs-qbr", "renewal"], idempotency_key="tag-acme-1")

    first = invoke(ACTION, request)
    first_events = tag_events(aws)
    counts = tenant_row_counts(engine, tenant.id)
    second = invoke(ACTION, request)
    third = invoke_action(
        ACTION, tenant.id, tenant.actor, request
    )  # a cold container: DynamoDB record or ledger replays it

    assert second == first == third
    assert event_counts(first_events) == {"TAG_DEFINITION_CREATED": 2, "TAG_APPLIED": 2}
    assert tag_events(aws) == []
    assert tenant_row_counts(engine, tenant.id) == counts
    assert count_rows(engine, tenant.id, "workflow_event_outbox") == 4


def test_same_idempotency_key_with_other_tags_is_conflict(invoke, tenant: Tenant) -> None:
    invoke(ACTION, tag_input("client", tenant.client, ["needs-qbr"], idempotency_key="tag-acme-2"))

    with pytest.raises(ConflictError):
        invoke(ACTION, tag_input("client", tenant.client, ["other"], idempotency_key="tag-acme-2"))


def test_dry_run_writes_and_publishes_nothing(invoke, tenant: Tenant, engine, aws) -> None:
    activity = seed_activity(tenant)
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, tag_input("interaction", activity, ["needs-qbr"]), dry_run=True)

    assert out["added_count"] == 1
    assert out["added_tags"][0]["tag_text"] == "needs-qbr"
    assert tenant_row_counts(engine, tenant.id) == before
    assert activity_tags(engine, tenant.id, activity) is None
    assert aws.drain_events() == []


def test_audit_row_records_what_was_added(invoke, tenant: Tenant, engine) -> None:
    activity = seed_activity(tenant, tags=["renewal"])
    invoke(ACTION, tag_input("interaction", activity, ["renewal"]))
    out = invoke(
        ACTION,
        tag_input("interaction", activity, ["renewal", "upsell-candidate"]),
        run_id="run-7",
        step_path="steps.tag",
    )

    audit = fetch_one(engine, tenant.id, "select * from audit_logs where tenant = :tenant and record_id = 'run-7'")
    assert audit["operation"] == "workflow_action:crm.tag_entity"
    assert audit["table_name"] == "workflow_runs"
    assert audit["changed_data"] == {
        "target": {"type": "interaction", "id": str(activity)},
        "added_tags": out["added_tags"],
        "created_definitions": [
            {"tag_id": out["added_tags"][0]["tag_id"], "tag_text": "upsell-candidate", "tagged_type": "interaction"}
        ],
        "activity_tags_appended": ["upsell-candidate"],
    }
    assert audit["details"] == {
        "action_id": ACTION,
        "action_version": 1,
        "step_path": "steps.tag",
        "target_type": "interaction",
        "target_id": str(activity),
        "added_count": 1,
        "existing_count": 1,
    }


@pytest.mark.parametrize("target_type", ["client", "interaction"])
def test_racing_calls_adding_the_same_new_tag_make_one_definition_and_one_mapping(
    aws, tenant: Tenant, engine, target_type: str
) -> None:
    record = target_id(tenant, target_type)
    calls = [
        lambda key=key: invoke_action(
            ACTION, tenant.id, tenant.actor, tag_input(target_type, record, ["needs-qbr"], idempotency_key=key)
        )
        for key in ("race-a", "race-b")
    ]

    outputs, errors = run_racing_inserts(engine, calls)

    assert errors == []
    (definition,) = tag_definitions(engine, tenant.id)
    (mapping,) = tag_mappings(engine, tenant.id)
    winner, loser = sorted(outputs, key=lambda o: o["existing_count"])
    assert (winner["added_count"], winner["existing_count"]) == (1, 0)
    assert (loser["added_count"], loser["existing_count"]) == (0, 1)
    assert winner["added_tags"] == loser["existing_tags"]
    assert winner["added_tags"][0]["tag_id"] == str(definition["tag_id"])
    assert winner["added_tags"][0]["mapping_id"] == str(mapping["mapping_id"])
    assert event_counts(tag_events(aws)) == {"TAG_DEFINITION_CREATED": 1, "TAG_APPLIED": 1}
    if target_type == "interaction":
        assert activity_tags(engine, tenant.id, record) == ["needs-qbr"]


def test_racing_calls_with_if_exists_error_give_one_conflict(aws, tenant: Tenant, engine) -> None:
    calls = [
        lambda key=key: invoke_action(
            ACTION,
            tenant.id,
            tenant.actor,
            tag_input("client", tenant.client, ["needs-qbr"], if_exists="error", idempotency_key=key),
        )
        for key in ("race-a", "race-b")
    ]

    outputs, errors = run_racing_inserts(engine, calls)

    assert len(outputs) == 1 and outputs[0]["added_count"] == 1
    (error,) = errors
    assert isinstance(error, ConflictError)
    assert '"needs-qbr"' in error.message
    assert len(tag_mappings(engine, tenant.id)) == 1
    assert event_counts(tag_events(aws)) == {"TAG_DEFINITION_CREATED": 1, "TAG_APPLIED": 1}


def test_simultaneous_calls_with_tags_in_any_order_neither_fail_nor_duplicate(aws, tenant: Tenant, engine) -> None:
    orders = list(itertools.permutations(["alpha", "beta", "gamma"]))[:4]
    calls = [
        lambda tags=list(tags), n=n: invoke_action(
            ACTION, tenant.id, tenant.actor, tag_input("client", tenant.client, tags, idempotency_key=f"order-{n}")
        )
        for n, tags in enumerate(orders)
    ]

    outputs, errors = run_in_threads(calls)

    assert errors == []
    assert len(outputs) == 4
    assert sum(o["added_count"] for o in outputs) == 3
    assert sum(o["existing_count"] for o in outputs) == 9
    assert [d["tag_text"] for d in tag_definitions(engine, tenant.id)] == ["alpha", "beta", "gamma"]
    assert len(tag_mappings(engine, tenant.id)) == 3
    assert event_counts(tag_events(aws)) == {"TAG_DEFINITION_CREATED": 3, "TAG_APPLIED": 3}
