"""crm.update_activity_status: move a CRM activity to another interaction status, by id or by name."""

from __future__ import annotations

import uuid

from pydantic import Field

from crm_core.actions.activities.events import emit_interaction_updated
from crm_core.actions.activities.rules import INTERACTION_STATUS_TYPE, load_activity, require_interaction_status
from crm_core.actions.activities.summary import ActivitySummary, activity_summary
from crm_core.actions.fields import ActionInput, ActionOutput, Uuid
from crm_core.dal import activities, statuses
from crm_core.dal.activities import ActivityRecord
from crm_core.dal.statuses import StatusRecord
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

STATUS_NOT_FOUND = "Target interaction status was not found"


class UpdateActivityStatusInput(ActionInput):
    """The new interaction status of one activity, by id or by name."""

    activity_id: Uuid = Field(description="The activity (interaction) whose status changes.")
    status_id: Uuid | None = Field(default=None, description="The new interaction status (or give status_name).")
    status_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The new interaction status by name, ignoring case and surrounding space (or give status_id).",
    )
    reason: str | None = Field(default=None, max_length=2000, description="Why; kept in the audit log.")
    no_op_if_already_status: bool = Field(
        default=True,
        description="When the activity already has the status: return no_op=true and record nothing.",
    )


class UpdateActivityStatusOutput(ActionOutput):
    """Previous and current status, and the activity after the change."""

    activity_id: uuid.UUID
    previous_status_id: uuid.UUID | None
    previous_status_name: str | None
    current_status_id: uuid.UUID
    current_status_name: str
    no_op: bool = Field(description="True when the activity already had the status and nothing was recorded.")
    activity: ActivitySummary


def _target_status(ctx: ActionContext, data: UpdateActivityStatusInput) -> StatusRecord:
    if data.status_id is not None:
        return require_interaction_status(ctx, data.status_id)
    name = data.status_name or ""
    matches = statuses.interaction_statuses_named(ctx.connection, ctx.tenant_id, name)
    if not matches:
        raise guard_failed(
            "status_name_known",
            STATUS_NOT_FOUND,
            field="status_name",
            expected=statuses.interaction_status_names(ctx.connection, ctx.tenant_id),
            actual=name,
            status_type=INTERACTION_STATUS_TYPE,
        )
    if len(matches) > 1:
        raise guard_failed(
            "status_name_unambiguous",
            f"More than one interaction status is named '{name.strip()}'; give status_id",
            field="status_name",
            expected="a name that matches one interaction status",
            actual=[str(m.status_id) for m in matches],
        )
    return matches[0]


def update_activity_status(ctx: ActionContext, data: UpdateActivityStatusInput) -> UpdateActivityStatusOutput:
    """Set the status; the same status again is ``no_op`` unless asked otherwise."""
    if (data.status_id is None) == (data.status_name is None):
        raise guard_failed(
            "exactly_one_status_selector",
            "Give exactly one of status_id or status_name",
            field="status_id",
            expected="exactly one of status_id, status_name",
            actual=[f for f in ("status_id", "status_name") if getattr(data, f) is not None],
        )
    before = load_activity(ctx, data.activity_id, lock=True)
    target = _target_status(ctx, data)
    unchanged = before.status_id == target.status_id

    def output(row: ActivityRecord, *, no_op: bool) -> UpdateActivityStatusOutput:
        return UpdateActivityStatusOutput(
            activity_id=data.activity_id,
            previous_status_id=before.status_id,
            previous_status_name=before.status_name,
            current_status_id=target.status_id,
            current_status_name=target.name,
            no_op=no_op,
            activity=activity_summary(row),
        )

    if unchanged and data.no_op_if_already_status:
        return output(before, no_op=True)

    if not unchanged:
        activities.update_activity_columns(ctx.writes, ctx.tenant_id, data.activity_id, {"status_id": target.status_id})
    # The row is locked and only its status changes: the summary after is the one before with the new status.
    after = before._replace(status_id=target.status_id, status_name=target.name)
    ctx.audit(
        {
            "activity_id": data.activity_id,
            "previous_status_id": before.status_id,
            "status_id": target.status_id,
            "reason": data.reason,
        },
        {"activity_id": data.activity_id},
    )
    if not unchanged:
        emit_interaction_updated(ctx, after, ["status_id"], {"status_id": str(target.status_id)})
    return output(after, no_op=False)


SPEC = action_spec(
    update_activity_status,
    label="Update Activity Status",
    description="Set a CRM activity's interaction status, by status id or by name (e.g. mark it Completed).",
    permissions=requires("interaction:update"),
    rehearsal_input={"activity_id": REHEARSAL_ID, "status_name": "Completed"},
    effect_services=("events",),
)
