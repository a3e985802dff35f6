"""crm.update_activity: change fields of a CRM activity and report exactly what changed.

Changes are found by comparing full stored values (notes included), so ``changed_fields`` lists only what
really changed; a patch that changes nothing is a no-op: no write, no audit row, no event.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator

from crm_core.actions.activities.events import emit_interaction_updated
from crm_core.actions.activities.rules import (
    load_activity,
    require_interaction_status,
    require_interaction_type,
    require_start_not_after_end,
    scheduled_duration,
)
from crm_core.actions.activities.summary import ActivitySummary, activity_summary
from crm_core.actions.fields import (
    OFFSET_DATE_TIME_JSON_SCHEMA,
    UUID_JSON_SCHEMA,
    ActionInput,
    ActionOutput,
    FreeTextTags,
    NonBlankText,
    OffsetDateTime,
    Uuid,
    iso_utc,
)
from crm_core.dal import activities, activity_tags
from crm_core.dal.activities import ActivityRecord
from crm_core.errors import guard_failed
from crm_core.jsonable import jsonable
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

# Fields that may be left out of a patch but, when given, must not be null; their schema says so.
Title = Annotated[NonBlankText | None, WithJsonSchema({"type": "string", "minLength": 1})]
Visibility = Annotated[
    Literal["internal", "client_visible"] | None,
    WithJsonSchema({"type": "string", "enum": ["internal", "client_visible"]}),
]
RequiredDateTime = Annotated[OffsetDateTime | None, WithJsonSchema(OFFSET_DATE_TIME_JSON_SCHEMA)]
RequiredUuid = Annotated[Uuid | None, WithJsonSchema(UUID_JSON_SCHEMA)]
NON_NULL_FIELDS = ("title", "visibility", "interaction_date", "type_id")
AUDITED_FIELDS = ("status_id", "type_id", "title", "visibility", "category")


class ActivityPatch(ActionInput):
    """The fields to change; fields left out stay as they are. ``null`` clears a nullable field."""

    title: Title = Field(default=None, min_length=1, description="New title.")
    notes: str | None = Field(default=None, description="New notes (null clears them).")
    status_id: Uuid | None = Field(default=None, description="New interaction status (null clears it).")
    visibility: Visibility = Field(default=None, description="internal or client_visible.")
    category: str | None = Field(default=None, description="New category (null clears it).")
    tags: FreeTextTags | None = Field(default=None, description="New tags, replacing the old ones (null clears them).")
    interaction_date: RequiredDateTime = Field(default=None, description="New activity date (ISO 8601 with offset).")
    start_time: OffsetDateTime | None = Field(default=None, description="New start (ISO 8601 with offset).")
    end_time: OffsetDateTime | None = Field(default=None, description="New end (ISO 8601 with offset).")
    duration: int | None = Field(
        default=None, ge=0, description="Minutes; recomputed from start and end when those change and this is absent."
    )
    type_id: RequiredUuid = Field(default=None, description="New activity type (tenant or system type).")

    @field_validator(*NON_NULL_FIELDS)
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null (leave the field out to keep it)")
        return value


class UpdateActivityInput(ActionInput):
    """A patch of one CRM activity."""

    activity_id: Uuid = Field(description="The activity (interaction) to change.")
    patch: ActivityPatch = Field(description="The fields to change; at least one.")
    reason: str | None = Field(default=None, max_length=2000, description="Why; kept in the audit log.")


class UpdateActivityOutput(ActionOutput):
    """The activity before and after, and the fields whose values really changed."""

    activity_before: ActivitySummary
    activity_after: ActivitySummary
    changed_fields: list[str] = Field(description="Fields whose stored value changed, sorted.")
    no_op: bool = Field(description="True when the patch changed nothing (nothing was written).")


def _stored(field: str, value: Any) -> Any:
    """A patch value as it is stored (no tags is NULL, not an empty array)."""
    if field == "tags" and not value:
        return None
    return value


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, datetime) and isinstance(after, datetime):
        return before == after
    if isinstance(before, list | tuple) and isinstance(after, list | tuple):
        return list(before) == list(after)
    return bool(before == after)


def _audit_view(row: ActivityRecord) -> dict[str, Any]:
    return {field: getattr(row, field) for field in AUDITED_FIELDS}


def _drop_mappings_of_removed_tags(
    ctx: ActionContext, activity_id: uuid.UUID, tags: list[str] | None
) -> list[dict[str, str]]:
    """The activity's ``tags`` column is the truth of its tags: the tag mappings of texts it no longer has are
    deleted (crm.tag_activity adds both), each publishing TAG_REMOVED. Returns them for the audit row."""
    removed_mappings = activity_tags.remove_mappings_not_in(ctx.connection, ctx.tenant_id, activity_id, tags or [])
    for removed in removed_mappings:
        ctx.emit(
            "TAG_REMOVED",
            # The mapping id makes a tag applied again and removed again a new event.
            f"tag_removed:interaction:{activity_id}:{removed.tag_id}:{removed.mapping_id}",
            {
                "tagId": removed.tag_id,
                "entityType": "interaction",
                "entityId": activity_id,
                "removedByUserId": ctx.actor_user_id,
                "removedAt": iso_utc(ctx.now),
            },
        )
    return [
        {"mapping_id": str(r.mapping_id), "tag_id": str(r.tag_id), "tag_text": r.tag_text} for r in removed_mappings
    ]


def update_activity(ctx: ActionContext, data: UpdateActivityInput) -> UpdateActivityOutput:
    """Apply the patch; a patch that changes nothing is ``no_op`` (no audit row, no event)."""
    patch = data.patch
    given = sorted(patch.model_fields_set)
    if not given:
        raise guard_failed(
            "patch_not_empty",
            "patch must set at least one field",
            field="patch",
            expected=f"at least one of {', '.join(ActivityPatch.model_fields)}",
            actual=[],
        )
    before = load_activity(ctx, data.activity_id, lock=True)
    if "status_id" in given and patch.status_id is not None:
        require_interaction_status(ctx, patch.status_id, field="patch.status_id")
    if "type_id" in given and patch.type_id is not None:
        require_interaction_type(ctx, patch.type_id, field="patch.type_id")

    wanted = {field: _stored(field, getattr(patch, field)) for field in given}
    # Only a real change of start or end recomputes the duration: re-sending the current start is a no-op.
    times_change = any(
        field in wanted and not _same(getattr(before, field), wanted[field]) for field in ("start_time", "end_time")
    )
    start = wanted.get("start_time", before.start_time)
    end = wanted.get("end_time", before.end_time)
    if times_change:
        require_start_not_after_end(start, end)
        if "duration" not in wanted and start is not None and end is not None:
            wanted["duration"] = scheduled_duration(start, end)

    changes = {field: value for field, value in wanted.items() if not _same(getattr(before, field), value)}
    before_summary = activity_summary(before)
    if not changes:
        return UpdateActivityOutput(
            activity_before=before_summary, activity_after=before_summary, changed_fields=[], no_op=True
        )

    activities.update_activity_columns(ctx.connection, ctx.tenant_id, data.activity_id, changes)
    removed_mappings = (
        _drop_mappings_of_removed_tags(ctx, data.activity_id, changes["tags"]) if "tags" in changes else []
    )
    after = load_activity(ctx, data.activity_id)
    changed_fields = sorted(changes)
    audit_data: dict[str, Any] = {
        "activity_id": data.activity_id,
        "changed_fields": changed_fields,
        "reason": data.reason,
        "before": _audit_view(before),
        "after": _audit_view(after),
    }
    if removed_mappings:
        audit_data["removed_tag_mappings"] = removed_mappings
    ctx.audit(audit_data, {"activity_id": data.activity_id})
    emit_interaction_updated(ctx, after, changed_fields, jsonable(changes))
    return UpdateActivityOutput(
        activity_before=before_summary,
        activity_after=activity_summary(after),
        changed_fields=changed_fields,
        no_op=False,
    )


SPEC = action_spec(
    update_activity,
    label="Update CRM Activity",
    description="Change fields of a CRM activity (title, notes, status, type, times, tags, ...) and see what changed.",
    permissions=requires("interaction:update"),
    rehearsal_input={"activity_id": REHEARSAL_ID, "patch": {"title": "Rehearsal"}},
    effect_services=("events",),
)
