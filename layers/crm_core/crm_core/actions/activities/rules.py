"""Rules shared by the activity actions: loading an activity, checking its type and status, deriving duration."""

from __future__ import annotations

import math
import uuid
from datetime import datetime

from crm_core.actions.fields import iso_utc
from crm_core.dal import activities, interaction_types, statuses
from crm_core.dal.activities import ActivityRecord
from crm_core.dal.interaction_types import InteractionTypeRecord
from crm_core.dal.lookups import require_found
from crm_core.dal.statuses import StatusRecord
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext

INTERACTION_STATUS_TYPE = "interaction"


def load_activity(ctx: ActionContext, activity_id: uuid.UUID, *, lock: bool = False) -> ActivityRecord:
    """The activity's summary row (full notes); NotFoundError when it is not in the tenant."""
    return require_found(
        activities.get_activity(ctx.connection, ctx.tenant_id, activity_id, lock=lock),
        "interaction",
        activity_id,
        field="activity_id",
        message="Activity not found",
    )


def require_interaction_status(ctx: ActionContext, status_id: uuid.UUID, *, field: str = "status_id") -> StatusRecord:
    """The status; ValidationError when it is not in the tenant or not an interaction status.

    A status is a setting the caller chose, not a record the call acts on: an unknown one is a bad input (as in
    AlgaPSA, "Target interaction status was not found"), so a workflow's ``Catch`` sees a ValidationError.
    """
    status = statuses.get_status(ctx.connection, ctx.tenant_id, status_id)
    return checked_interaction_status(status, status_id, field=field)


def checked_interaction_status(
    status: StatusRecord | None, status_id: uuid.UUID, *, field: str = "status_id"
) -> StatusRecord:
    """``status`` (looked up by ``status_id``) when it is an interaction status of the tenant; else as
    :func:`require_interaction_status` says."""
    if status is None:
        raise guard_failed(
            "status_exists",
            "Target interaction status was not found",
            field=field,
            expected="an interaction status of this tenant",
            actual=str(status_id),
        )
    require_interaction_status_type(status, field=field)
    return status


def require_interaction_status_type(status: StatusRecord, *, field: str = "status_id") -> None:
    """ValidationError when ``status`` is a status of something else (a ticket or project status)."""
    if status.status_type != INTERACTION_STATUS_TYPE:
        raise guard_failed(
            "status_is_interaction_status",
            f"Status '{status.name}' is a {status.status_type} status, not an interaction status",
            field=field,
            expected=INTERACTION_STATUS_TYPE,
            actual=status.status_type,
            status_id=str(status.status_id),
            status_name=status.name,
        )


def require_interaction_type(
    ctx: ActionContext, type_id: uuid.UUID, *, field: str = "type_id"
) -> InteractionTypeRecord:
    """The tenant or system interaction type; ValidationError when neither has ``type_id`` (a bad input)."""
    found = interaction_types.get_interaction_type(ctx.connection, ctx.tenant_id, type_id)
    return checked_interaction_type(found, type_id, field=field)


def checked_interaction_type(
    found: InteractionTypeRecord | None, type_id: uuid.UUID, *, field: str = "type_id"
) -> InteractionTypeRecord:
    """``found`` (looked up by ``type_id``); ValidationError when there was none (see
    :func:`require_interaction_type`)."""
    if found is None:
        raise guard_failed(
            "interaction_type_exists",
            "Interaction type was not found",
            field=field,
            expected="an interaction type of this tenant or a system type",
            actual=str(type_id),
        )
    return found


def require_start_not_after_end(start: datetime | None, end: datetime | None) -> None:
    """ValidationError when both are known and the end comes before the start."""
    if start is not None and end is not None and end < start:
        raise guard_failed(
            "start_not_after_end",
            "start_time must not be after end_time",
            field="end_time",
            expected=f">= start_time ({iso_utc(start)})",
            actual=iso_utc(end),
            start_time=iso_utc(start),
        )


def scheduled_duration(start: datetime, end: datetime) -> int:
    """Minutes from ``start`` to ``end``, rounded half up, never negative (a one-hour window is 60)."""
    return max(0, math.floor((end - start).total_seconds() / 60 + 0.5))
