"""crm.find_activities: look up recent CRM activities by client, contact, ticket, user, type, status or date.

Pages are keyset pages: newest first (interaction_date, then activity id, both descending), each page one SQL
query, continued with the opaque ``next_cursor``. Rows inserted between pages never shift what comes next.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from crm_core.actions import paging
from crm_core.actions.activities.rules import require_interaction_status_type
from crm_core.actions.activities.summary import ActivitySummary, activity_summary
from crm_core.actions.fields import ActionInput, ActionOutput, OffsetDateTime, UtcDateTime, Uuid, picker
from crm_core.dal import activities, statuses
from crm_core.dal.activities import ActivityFilters, Keyset
from crm_core.errors import NotFoundError, guard_failed
from crm_core.jsonable import jsonable
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, PermissionNeed, action_spec

SPEC_ID = "crm.find_activities"
FILTER_NAMES = ("client_id", "contact_id", "ticket_id", "user_id", "type_id", "status_id", "date_from", "date_to")


class FindActivitiesInput(ActionInput):
    """Filters, date range and paging of a CRM activity search."""

    client_id: Uuid | None = picker("client", "Only activities of this client.", default=None)
    contact_id: Uuid | None = picker(
        "contact", "Only activities with this contact.", dependencies=["client_id"], default=None
    )
    ticket_id: Uuid | None = picker("ticket", "Only activities on this ticket.", default=None)
    user_id: Uuid | None = picker("user", "Only activities owned by this user.", default=None)
    type_id: Uuid | None = Field(default=None, description="Only activities of this type (tenant or system).")
    status_id: Uuid | None = Field(default=None, description="Only activities in this interaction status.")
    date_from: OffsetDateTime | None = Field(
        default=None, description="Earliest interaction_date, inclusive (ISO 8601 with offset)."
    )
    date_to: OffsetDateTime | None = Field(
        default=None, description="Latest interaction_date, inclusive (ISO 8601 with offset)."
    )
    limit: int = Field(default=25, ge=1, le=200, description="Most activities per page.")
    cursor: str | None = paging.cursor_field("filters")
    include_total: bool = paging.include_total_field("activity")
    on_empty: paging.OnEmpty = paging.on_empty_field()


class MatchedFilters(ActionOutput):
    """The filters the page was found with (each or null)."""

    client_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    ticket_id: uuid.UUID | None
    user_id: uuid.UUID | None
    type_id: uuid.UUID | None
    status_id: uuid.UUID | None
    date_from: UtcDateTime | None
    date_to: UtcDateTime | None
    limit: int


class FindActivitiesOutput(ActionOutput):
    """One page of activity summaries, newest first, with the cursor of the next page."""

    activities: list[ActivitySummary]
    count: int = Field(description="Activities on this page.")
    has_more: bool = Field(description="Whether another page follows (ask for it with next_cursor).")
    next_cursor: str | None = Field(description="Opaque position to pass as cursor for the next page.")
    total: int | None = Field(description="Every matching activity (only with include_total; else null).")
    matched_filters: MatchedFilters


def filters_of(data: FindActivitiesInput) -> ActivityFilters:
    """The search filters of ``data`` as the DAL takes them."""
    return ActivityFilters(**{name: getattr(data, name) for name in FILTER_NAMES})


def filters_fingerprint(filters: ActivityFilters) -> str:
    """A short digest of the filters: a cursor only continues the query it came from."""
    return paging.fingerprint({name: getattr(filters, name) for name in FILTER_NAMES})


def encode_cursor(filters: ActivityFilters, position: Keyset) -> str:
    """The opaque cursor of the page that follows ``position`` (see ``crm_core.actions.paging``)."""
    return paging.encode_cursor(
        {"d": position.interaction_date.isoformat(), "i": str(position.interaction_id)}, filters_fingerprint(filters)
    )


def _read_keyset(raw: Mapping[str, Any]) -> Keyset:
    return Keyset(paging.aware_datetime(raw["d"]), paging.row_id(raw["i"]))


def decode_cursor(cursor: str, filters: ActivityFilters) -> Keyset:
    """The position a cursor encodes; ValidationError when it is malformed or belongs to other filters."""
    return paging.decode_cursor(
        cursor, filters_fingerprint=filters_fingerprint(filters), read_position=_read_keyset, action_id=SPEC_ID
    )


def _check_guards(data: FindActivitiesInput, filters: ActivityFilters) -> None:
    if not filters.given():
        raise guard_failed(
            "at_least_one_filter",
            "At least one filter or date range is required",
            field="input",
            expected=f"one of {', '.join(FILTER_NAMES)}",
            actual=[],
        )
    paging.require_date_range_order(data.date_from, data.date_to)


def _check_status_filter(ctx: ActionContext, filters: ActivityFilters) -> None:
    """A status filter that names a status of something else (a ticket status) is a ValidationError.

    Filters naming records that are not in the tenant (a deleted client, another tenant's contact) are not
    errors: they match nothing, so a workflow can branch on ``count: 0`` (or ask for NOT_FOUND with
    ``on_empty: error``), as AlgaPSA's find does no existence check.
    """
    if filters.status_id is None:
        return
    status = statuses.get_status(ctx.connection, ctx.tenant_id, filters.status_id)
    if status is not None:
        require_interaction_status_type(status)


def find_activities(ctx: ActionContext, data: FindActivitiesInput) -> FindActivitiesOutput:
    """One page of matching activities in one SQL query (keyset paging on date and id)."""
    filters = filters_of(data)
    _check_guards(data, filters)
    after = decode_cursor(data.cursor, filters) if data.cursor is not None else None
    _check_status_filter(ctx, filters)

    rows, total = activities.find_activity_page(
        ctx.connection, ctx.tenant_id, filters, after=after, limit=data.limit + 1, with_total=data.include_total
    )
    page, has_more = paging.fit_page(rows, data.limit, activity_summary)
    if not page and after is None and data.on_empty == "error":
        raise NotFoundError(
            "No activities matched the filters",
            {
                "resource": "interaction",
                "filters": jsonable({name: getattr(filters, name) for name in filters.given()}),
            },
        )
    next_cursor = None
    if has_more and page:
        last = page[-1]
        next_cursor = encode_cursor(filters, Keyset(last.interaction_date, last.activity_id))
    return FindActivitiesOutput(
        activities=page,
        count=len(page),
        has_more=has_more,
        next_cursor=next_cursor,
        total=total,
        matched_filters=MatchedFilters(
            **{name: getattr(filters, name) for name in FILTER_NAMES},
            limit=data.limit,
        ),
    )


def _permissions(data: FindActivitiesInput) -> list[PermissionNeed]:
    needs = [PermissionNeed("interaction", "read")]
    for field, resource in (("client_id", "client"), ("contact_id", "contact"), ("ticket_id", "ticket")):
        if getattr(data, field) is not None:
            needs.append(PermissionNeed(resource, "read"))
    return needs


SPEC = action_spec(
    find_activities,
    label="Find CRM Activities",
    description=(
        "Find CRM activities by client, contact, ticket, user, type, status or date range, newest first, "
        "one page at a time."
    ),
    permissions=_permissions,
    side_effectful=False,
    rehearsal_input={"client_id": REHEARSAL_ID, "limit": 10},
)
