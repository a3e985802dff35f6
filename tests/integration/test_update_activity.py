"""crm.update_activity end to end: full-value diffs, no-op patches, guards, INTERACTION_UPDATED events."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tests.support.activities import EMAIL_TYPE, add_activity, at, iso
from tests.support.events import published
from tests.support.rows import (
    activity_row,
    audit_rows,
    count_rows,
    outbox_rows,
    tag_definitions,
    tag_mappings,
    tenant_row_counts,
)
from tests.support.tenants import Tenant, actor_with

ACTION = "crm.update_activity"


@pytest.fixture
def activity(tenant: Tenant) -> uuid.UUID:
    return add_activity(
        tenant,
        when=at(0),
        contact_name_id=tenant.contact,
        title="Kickoff call",
        notes="First notes.",
        status_id=tenant.seed.status_ids["Planned"],
        start_time=at(0),
        end_time=at(0, hours=1),
        duration=60,
        category="Onboarding",
        tags=["kickoff"],
    )


def update(
    invoke, activity_id: uuid.UUID, patch: dict[str, Any], *, reason: str | None = None, **envelope: Any
) -> dict[str, Any]:
    """Call the action; ``envelope`` holds actor, run_id, dry_run and the like."""
    action_input: dict[str, Any] = {"activity_id": str(activity_id), "patch": patch}
    if reason is not None:
        action_input["reason"] = reason
    return invoke(ACTION, action_input, **envelope)


def test_changes_fields_and_reports_the_diff(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    out = update(
        invoke,
        activity,
        {"title": "Kickoff call (done)", "notes": "Agreed the plan.", "category": "Onboarding"},
        reason="notes after the call",
    )

    assert out["no_op"] is False
    assert out["changed_fields"] == ["notes", "title"]
    assert out["activity_before"]["title"] == "Kickoff call"
    assert out["activity_before"]["notes_preview"] == "First notes."
    assert out["activity_after"]["title"] == "Kickoff call (done)"
    assert out["activity_after"]["notes_preview"] == "Agreed the plan."
    assert out["activity_after"]["activity_id"] == str(activity)
    row = activity_row(engine, tenant.id, activity)
    assert (row["title"], row["notes"], row["category"]) == ("Kickoff call (done)", "Agreed the plan.", "Onboarding")


def test_writes_one_audit_row(invoke, tenant: Tenant, activity: uuid.UUID, engine) -> None:
    completed = tenant.seed.status_ids["Completed"]
    update(invoke, activity, {"status_id": str(completed), "visibility": "client_visible"}, reason="done")

    (audit,) = audit_rows(engine, tenant.id, ACTION)
    planned = str(tenant.seed.status_ids["Planned"])
    common = {"type_id": "9c1577c5-795b-5c38-a3b3-e2b618aac6c8", "title": "Kickoff call", "category": "Onboarding"}
    assert audit["changed_data"] == {
        "activity_id": str(activity),
        "changed_fields": ["status_id", "visibility"],
        "reason": "done",
        "before": {**common, "status_id": planned, "visibility": "internal"},
        "after": {**common, "status_id": str(completed), "visibility": "client_visible"},
    }
    assert audit["details"]["activity_id"] == str(activity)


def test_emits_interaction_updated_through_the_outbox(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    update(invoke, activity, {"title": "Renamed", "tags": ["kickoff", "vip"]}, run_id="run-7", step_path="rename")

    (row,) = outbox_rows(engine, tenant.id)
    assert row["event_type"] == "INTERACTION_UPDATED"
    assert row["status"] == "DELIVERED"
    assert row["idempotency_key"].startswith(f"interaction_updated:{activity}:")
    (event,) = published(aws)
    assert event["source"] == "crm.workflow-actions"
    assert event["detail-type"] == "INTERACTION_UPDATED"
    detail = event["detail"]
    assert detail == {
        "interactionId": str(activity),
        "clientId": str(tenant.client),
        "contactId": str(tenant.contact),
        "userId": str(tenant.actor),
        "changedFields": ["tags", "title"],
        "tenantId": str(tenant.id),
        "occurredAt": detail["occurredAt"],
        "actorType": "USER",
        "actorUserId": str(tenant.actor),
        "idempotencyKey": row["idempotency_key"],
    }


def test_notes_are_compared_in_full_not_by_preview(invoke, tenant: Tenant, engine) -> None:
    head = "Same beginning. " * 20
    activity_id = add_activity(tenant, when=at(0), notes=head + "old ending")

    out = update(invoke, activity_id, {"notes": head + "new ending"})

    assert out["activity_before"]["notes_preview"] == out["activity_after"]["notes_preview"]
    assert out["changed_fields"] == ["notes"]
    assert out["no_op"] is False
    assert activity_row(engine, tenant.id, activity_id)["notes"] == head + "new ending"


def test_patch_that_changes_nothing_is_a_no_op(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    before = tenant_row_counts(engine, tenant.id)
    before_invocations = before.pop("workflow_action_invocations")

    out = update(
        invoke,
        activity,
        {
            "title": "Kickoff call",
            "notes": "First notes.",
            "tags": ["kickoff", " kickoff"],
            "start_time": "2026-03-02T10:00:00+01:00",
            "duration": 60,
        },
    )

    assert out["no_op"] is True
    assert out["changed_fields"] == []
    assert out["activity_before"] == out["activity_after"]
    after = tenant_row_counts(engine, tenant.id)
    assert after.pop("workflow_action_invocations") == before_invocations + 1
    assert after == before
    assert audit_rows(engine, tenant.id, ACTION) == []
    assert outbox_rows(engine, tenant.id) == []
    assert published(aws) == []


def test_only_fields_whose_value_changed_are_listed(invoke, activity: uuid.UUID) -> None:
    out = update(invoke, activity, {"title": "Kickoff call", "category": "Renewal", "visibility": "internal"})

    assert out["changed_fields"] == ["category"]


def test_null_clears_nullable_fields(invoke, tenant: Tenant, activity: uuid.UUID, engine) -> None:
    out = update(invoke, activity, {"notes": None, "status_id": None, "category": None, "tags": None})

    assert out["changed_fields"] == ["category", "notes", "status_id", "tags"]
    assert out["activity_after"]["status_name"] is None
    assert out["activity_after"]["tags"] == []
    row = activity_row(engine, tenant.id, activity)
    assert (row["notes"], row["status_id"], row["category"], row["tags"]) == (None, None, None, None)


def test_empty_tag_list_is_no_tags(invoke, tenant: Tenant, engine) -> None:
    activity_id = add_activity(tenant, when=at(0))

    out = update(invoke, activity_id, {"tags": []})

    assert out["no_op"] is True
    assert activity_row(engine, tenant.id, activity_id)["tags"] is None


def test_new_start_and_end_recompute_duration(invoke, tenant: Tenant, activity: uuid.UUID, engine) -> None:
    out = update(invoke, activity, {"start_time": iso(at(1)), "end_time": iso(at(1, hours=1.5))})

    assert out["changed_fields"] == ["duration", "end_time", "start_time"]
    assert out["activity_after"]["duration"] == 90
    assert out["activity_after"]["start_time"] == "2026-03-03T09:00:00Z"
    assert activity_row(engine, tenant.id, activity)["duration"] == 90


def test_changing_only_the_end_recomputes_from_the_stored_start(invoke, activity: uuid.UUID) -> None:
    out = update(invoke, activity, {"end_time": iso(at(0, hours=0.5))})

    assert out["activity_after"]["duration"] == 30
    assert out["changed_fields"] == ["duration", "end_time"]


def test_given_duration_wins_over_the_recomputed_one(invoke, activity: uuid.UUID) -> None:
    out = update(invoke, activity, {"end_time": iso(at(0, hours=2)), "duration": 45})

    assert out["activity_after"]["duration"] == 45
    assert out["changed_fields"] == ["duration", "end_time"]


def test_title_change_leaves_duration_alone(invoke, tenant: Tenant, engine) -> None:
    activity_id = add_activity(tenant, when=at(0), start_time=at(0), end_time=at(0, hours=1), duration=5)

    out = update(invoke, activity_id, {"title": "New"})

    assert out["activity_after"]["duration"] == 5


def test_type_and_interaction_date_change(invoke, activity: uuid.UUID) -> None:
    out = update(invoke, activity, {"type_id": str(EMAIL_TYPE), "interaction_date": "2026-04-01T12:00:00-04:00"})

    assert out["changed_fields"] == ["interaction_date", "type_id"]
    assert out["activity_after"]["type_name"] == "Email"
    assert out["activity_after"]["interaction_date"] == "2026-04-01T16:00:00Z"


def test_tenant_type_is_accepted(invoke, tenant: Tenant, activity: uuid.UUID) -> None:
    qbr = tenant.seed.interaction_type("QBR")

    out = update(invoke, activity, {"type_id": str(qbr)})

    assert out["activity_after"]["type_name"] == "QBR"


def test_start_after_end_is_refused(invoke, tenant: Tenant, activity: uuid.UUID, engine) -> None:
    with pytest.raises(ValidationError) as caught:
        update(invoke, activity, {"start_time": iso(at(0, hours=3))})

    details = caught.value.details  # the rule's whole refusal is unit-tested (tests/unit/activities/test_rules.py)
    assert details["rule"] == "start_not_after_end"
    assert (details["start_time"], details["actual"]) == ("2026-03-02T12:00:00Z", "2026-03-02T10:00:00Z")  # new, stored
    assert activity_row(engine, tenant.id, activity)["start_time"] == at(0)


def test_status_of_another_type_is_refused(invoke, tenant: Tenant, activity: uuid.UUID) -> None:
    ticket_status = tenant.seed.status("New", status_type="ticket")

    with pytest.raises(ValidationError) as caught:
        update(invoke, activity, {"status_id": str(ticket_status)})

    details = caught.value.details  # the shared rule's whole refusal: test_find_activities
    assert (details["rule"], details["field"], details["status_name"]) == (
        "status_is_interaction_status",
        "patch.status_id",
        "New",
    )


def test_status_and_type_of_another_tenant_are_validation_errors(
    invoke, activity: uuid.UUID, other_tenant: Tenant, engine, tenant: Tenant
) -> None:
    """An unknown status or type is a bad input (AlgaPSA: "Target interaction status was not found")."""
    foreign_status = other_tenant.seed.status_ids["Completed"]
    foreign_type = other_tenant.seed.interaction_type("Theirs")

    with pytest.raises(ValidationError) as status_error:
        update(invoke, activity, {"status_id": str(foreign_status)})
    with pytest.raises(ValidationError) as type_error:
        update(invoke, activity, {"type_id": str(foreign_type)})

    assert status_error.value.message == "Target interaction status was not found"
    assert status_error.value.details["rule"] == "status_exists"
    assert status_error.value.details["field"] == "patch.status_id"
    assert status_error.value.details["actual"] == str(foreign_status)
    assert type_error.value.details["rule"] == "interaction_type_exists"
    assert type_error.value.details["field"] == "patch.type_id"
    assert type_error.value.details["actual"] == str(foreign_type)
    assert audit_rows(engine, tenant.id, ACTION) == []


def test_activity_of_another_tenant_is_not_found(invoke, tenant: Tenant, other_tenant: Tenant, engine) -> None:
    theirs = add_activity(other_tenant, when=at(0), title="Theirs")

    with pytest.raises(NotFoundError) as caught:
        update(invoke, theirs, {"title": "Mine now"})

    assert caught.value.message == "Activity not found"
    assert caught.value.details == {"resource": "interaction", "id": str(theirs), "field": "activity_id"}
    assert activity_row(engine, other_tenant.id, theirs)["title"] == "Theirs"


def test_empty_patch_is_refused(invoke, activity: uuid.UUID) -> None:
    with pytest.raises(ValidationError) as caught:
        update(invoke, activity, {})

    assert caught.value.message == "patch must set at least one field"
    assert caught.value.details["rule"] == "patch_not_empty"
    assert caught.value.details["field"] == "patch"
    assert caught.value.details["actual"] == []
    assert "title" in caught.value.details["expected"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"title": None}, "input.patch.title"),
        ({"title": "  "}, "input.patch.title"),
        ({"visibility": None}, "input.patch.visibility"),
        ({"visibility": "public"}, "input.patch.visibility"),
        ({"type_id": None}, "input.patch.type_id"),
        ({"interaction_date": None}, "input.patch.interaction_date"),
        ({"start_time": "2026-03-02T10:00:00"}, "input.patch.start_time"),
        ({"duration": -1}, "input.patch.duration"),
        ({"tags": ["ok", ""]}, "input.patch.tags"),
        ({"colour": "red"}, "input.patch.colour"),
    ],
)
def test_bad_patch_is_validation_error(invoke, activity: uuid.UUID, patch: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        update(invoke, activity, patch)

    assert caught.value.details["rule"] == "schema"
    assert caught.value.details["errors"][0]["field"] == field


def test_needs_interaction_update(invoke, tenant: Tenant, activity: uuid.UUID, engine) -> None:
    actor = actor_with(tenant, ("interaction", "read"), ("interaction", "create"), ("client", "update"))

    with pytest.raises(PermissionDeniedError) as caught:
        update(invoke, activity, {"title": "Nope"}, actor=actor)

    assert caught.value.message == "Permission denied: interaction:update"
    assert caught.value.details["resource"] == "interaction"
    assert caught.value.details["action"] == "update"
    assert activity_row(engine, tenant.id, activity)["title"] == "Kickoff call"


def test_interaction_update_alone_is_enough(invoke, tenant: Tenant, activity: uuid.UUID) -> None:
    actor = actor_with(tenant, ("interaction", "update"))

    out = update(invoke, activity, {"title": "Allowed"}, actor=actor)

    assert out["changed_fields"] == ["title"]


def test_dry_run_writes_and_emits_nothing(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    before = tenant_row_counts(engine, tenant.id)

    out = update(invoke, activity, {"title": "Dry"}, dry_run=True)

    assert out["changed_fields"] == ["title"]
    assert out["activity_after"]["title"] == "Dry"
    assert tenant_row_counts(engine, tenant.id) == before
    assert activity_row(engine, tenant.id, activity)["title"] == "Kickoff call"
    assert published(aws) == []


def test_retried_step_updates_once(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    first = update(invoke, activity, {"title": "Once"}, run_id="exec-1", step_path="rename")
    again = update(invoke, activity, {"title": "Once"}, run_id="exec-1", step_path="rename")

    assert again == first
    assert len(audit_rows(engine, tenant.id, ACTION)) == 1
    assert len(published(aws, "INTERACTION_UPDATED")) == 1
    assert count_rows(engine, tenant.id, "workflow_event_outbox") == 1


def test_setting_values_back_and_forth_emits_an_event_each_time(
    invoke, tenant: Tenant, activity: uuid.UUID, engine, aws
) -> None:
    update(invoke, activity, {"title": "B"}, run_id="r1")
    update(invoke, activity, {"title": "Kickoff call"}, run_id="r2")
    update(invoke, activity, {"title": "B"}, run_id="r3")

    keys = [row["idempotency_key"] for row in outbox_rows(engine, tenant.id)]
    assert len(keys) == len(set(keys)) == 3
    assert len(published(aws, "INTERACTION_UPDATED")) == 3


def test_output_is_json_and_dates_are_utc(invoke, activity: uuid.UUID) -> None:
    out = update(invoke, activity, {"start_time": "2026-03-02T05:00:00-05:00"})

    json.dumps(out)
    assert out["activity_after"]["start_time"] == "2026-03-02T10:00:00Z"
    assert out["activity_after"]["interaction_date"] == "2026-03-02T09:00:00Z"


# One truth for an activity's tags (issue 10, conformance 9): its tags column is what every summary shows; the
# tag mappings crm.tag_activity adds are the tag records of texts in that column, never of texts it lost.


def tag_activity(invoke, activity_id: uuid.UUID, tags: list[str]) -> dict[str, Any]:
    return invoke("crm.tag_activity", {"activity_id": str(activity_id), "tags": tags})


def test_clearing_tags_removes_the_activitys_tag_mappings(
    invoke, tenant: Tenant, activity: uuid.UUID, engine, aws
) -> None:
    tagged = tag_activity(invoke, activity, ["kickoff", "vip"])
    mapping_of = {t["tag_text"]: t for t in tagged["added_tags"]}
    aws.drain_events()

    out = update(invoke, activity, {"tags": None})

    assert out["changed_fields"] == ["tags"]
    assert out["activity_before"]["tags"] == ["kickoff", "vip"]
    assert out["activity_after"]["tags"] == []
    assert activity_row(engine, tenant.id, activity)["tags"] is None
    assert tag_mappings(engine, tenant.id, activity) == []
    assert len(tag_definitions(engine, tenant.id)) == 2  # definitions are shared per text; only mappings go
    removed = sorted((e["detail"] for e in published(aws, "TAG_REMOVED")), key=lambda d: d["tagId"])
    assert [(d["tagId"], d["entityType"], d["entityId"]) for d in removed] == sorted(
        (str(t["tag_id"]), "interaction", str(activity)) for t in mapping_of.values()
    )
    for detail in removed:
        mapping = next(t for t in mapping_of.values() if str(t["tag_id"]) == detail["tagId"])
        assert (
            detail["idempotencyKey"]
            == f"tag_removed:interaction:{activity}:{mapping['tag_id']}:{mapping['mapping_id']}"
        )
        assert detail["removedByUserId"] == str(tenant.actor)
    (audit,) = audit_rows(engine, tenant.id, ACTION)
    assert sorted(m["tag_text"] for m in audit["changed_data"]["removed_tag_mappings"]) == ["kickoff", "vip"]


def test_replacing_tags_keeps_the_mappings_of_kept_texts(invoke, tenant: Tenant, activity: uuid.UUID, engine) -> None:
    tagged = tag_activity(invoke, activity, ["kickoff", "vip"])
    kept = next(t for t in tagged["added_tags"] if t["tag_text"] == "vip")

    out = update(invoke, activity, {"tags": ["vip", "renewal"]})

    assert out["activity_after"]["tags"] == ["vip", "renewal"]
    # "renewal" is free text until it is tagged; "kickoff" lost its mapping, "vip" kept its own.
    assert [(m["tag_text"], str(m["mapping_id"])) for m in tag_mappings(engine, tenant.id, activity)] == [
        ("vip", str(kept["mapping_id"]))
    ]


def test_tagging_after_clearing_applies_the_tag_again(invoke, tenant: Tenant, activity: uuid.UUID, engine, aws) -> None:
    first = tag_activity(invoke, activity, ["vip"])
    update(invoke, activity, {"tags": None})
    aws.drain_events()

    again = tag_activity(invoke, activity, ["vip"])

    # The mapping went with the text, so the tag is added (not "existing") and the summary shows it again.
    assert (again["added_count"], again["existing_count"]) == (1, 0)
    assert again["added_tags"][0]["tag_id"] == first["added_tags"][0]["tag_id"]
    assert again["added_tags"][0]["mapping_id"] != first["added_tags"][0]["mapping_id"]
    assert activity_row(engine, tenant.id, activity)["tags"] == ["vip"]
    assert [m["tag_text"] for m in tag_mappings(engine, tenant.id, activity)] == ["vip"]
    assert [e["detail-type"] for e in published(aws) if e["detail-type"].startswith("TAG_")] == ["TAG_APPLIED"]


def test_tags_change_of_an_untagged_activity_deletes_nothing(invoke, tenant: Tenant, engine, aws) -> None:
    activity_id = add_activity(tenant, when=at(0), tags=["kickoff"])
    other = add_activity(tenant, when=at(1), tags=["kickoff"])
    tag_activity(invoke, other, ["kickoff"])
    aws.drain_events()

    update(invoke, activity_id, {"tags": None})

    assert [m["tag_text"] for m in tag_mappings(engine, tenant.id, other)] == ["kickoff"]
    assert published(aws, "TAG_REMOVED") == []
