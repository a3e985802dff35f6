"""crm.schedule_activity: put a CRM activity (a call, a meeting, a follow-up) on a client's calendar.

The client comes from the contact when only a contact is given; a ticket must belong to the same client and
contact. Start and end without an offset are read in ``timezone``, else in the client's time zone; everything
is stored and returned in UTC. Emits INTERACTION_LOGGED (key ``interaction_logged:{id}``) through the outbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from sqlalchemy import Uuid as SqlUuid
from sqlalchemy import bindparam

from crm_core.actions.activities.events import emit_interaction_logged
from crm_core.actions.activities.rules import (
    checked_interaction_status,
    checked_interaction_type,
    require_start_not_after_end,
    scheduled_duration,
)
from crm_core.actions.activities.summary import ActivitySummary, activity_summary
from crm_core.actions.clients import require_contact_of_client
from crm_core.actions.fields import (
    ActionInput,
    ActionOutput,
    FreeTextTags,
    LocalDateTime,
    NonBlankText,
    Uuid,
    idempotency_key_field,
    iso_utc,
    picker,
)
from crm_core.dal import interaction_types, records, statuses
from crm_core.dal.activities import ActivityRecord
from crm_core.dal.batch import Lookup, LookupBatch
from crm_core.dal.interaction_types import InteractionTypeRecord
from crm_core.dal.interactions import insert_interaction
from crm_core.dal.lookups import require_found
from crm_core.dal.records import ClientRecord, ContactRecord, TicketRecord, UserRecord
from crm_core.dal.statuses import StatusRecord
from crm_core.errors import InternalError, guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, PermissionNeed, action_spec

LOCAL_TIME = (
    "ISO 8601 date-time with seconds, e.g. 2027-03-02T15:00:00+01:00. Without an offset it is read in "
    "`timezone`, else in the client's time zone (a ValidationError when neither is known)."
)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class ScheduleActivityInput(ActionInput):
    """A future CRM activity (follow-up) for a client or contact, optionally on a ticket."""

    client_id: Uuid | None = picker(
        "client", "The client (optional when contact_id is given: the contact's client).", default=None
    )
    contact_id: Uuid | None = picker(
        "contact", "The contact the activity is with.", dependencies=["client_id"], default=None
    )
    ticket_id: Uuid | None = picker("ticket", "A ticket of the same client the activity is about.", default=None)
    type_id: Uuid = Field(description="The activity type (tenant or system type, e.g. Call or Meeting).")
    title: NonBlankText = Field(min_length=1, max_length=500, description="What the activity is.")
    notes: str | None = Field(default=None, description="Agenda or details.")
    status_id: Uuid | None = Field(
        default=None, description="Interaction status; default: the tenant's default interaction status."
    )
    start_time: LocalDateTime = Field(description=f"When it starts. {LOCAL_TIME}")
    end_time: LocalDateTime | None = Field(default=None, description=f"When it ends (default: the start). {LOCAL_TIME}")
    duration: int | None = Field(
        default=None, ge=0, description="Minutes; default: from start to end, rounded (one hour is 60)."
    )
    visibility: Literal["internal", "client_visible"] = Field(
        default="internal", description="Who sees it: internal staff only, or the client too."
    )
    category: str | None = Field(default=None, description="Category.")
    tags: FreeTextTags | None = Field(default=None, description="Free-text tags stored on the activity.")
    assigned_user_id: Uuid | None = picker(
        "user", "Who owns the activity (default: owner_user_id, else the workflow's actor).", default=None
    )
    owner_user_id: Uuid | None = picker("user", "Alias of assigned_user_id (that one wins).", default=None)
    timezone: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="IANA time zone (e.g. Europe/Berlin) for start_time and end_time given without an offset.",
    )
    idempotency_key: str | None = idempotency_key_field()

    @field_validator("timezone")
    @classmethod
    def timezone_is_iana(cls, value: str | None) -> str | None:
        if value is not None and _zone(value) is None:
            raise ValueError(f"unknown IANA time zone {value!r} (for example America/New_York)")
        return value


class ScheduleActivityOutput(ActionOutput):
    """The scheduled activity."""

    activity: ActivitySummary


@dataclass(frozen=True)
class _Found:
    """Everything the call refers to, read in one statement (None where a record is not in the tenant)."""

    contact: ContactRecord | None
    client: ClientRecord | None
    ticket: TicketRecord | None
    interaction_type: InteractionTypeRecord | None
    status: StatusRecord | None
    owner: UserRecord | None
    owner_id: uuid.UUID
    owner_field: str | None  # the input field that named the owner (None: the actor)


@dataclass(frozen=True)
class _Lookups:
    """The lookups of one shape of call (which optional records it names), built once with bind parameters."""

    batch: LookupBatch
    contact: Lookup[ContactRecord] | None
    client: Lookup[ClientRecord] | None
    ticket: Lookup[TicketRecord] | None
    interaction_type: Lookup[InteractionTypeRecord]
    status: Lookup[StatusRecord]
    owner: Lookup[UserRecord]


@lru_cache(maxsize=32)
def _lookups(*, contact: bool, client: bool, ticket: bool, status: bool) -> _Lookups:
    """Contact, client (given, else the contact's), ticket, type, status (given, else the default) and owner, as
    one statement per shape: building it took more Python time than running it."""
    tenant = bindparam("tenant", type_=SqlUuid)
    contact_lookup = Lookup(records.contact_query(tenant, bindparam("contact_id")), ContactRecord) if contact else None
    client_key: Any = bindparam("client_id") if client else None
    if client_key is None and contact:
        client_key = records.contact_client_id(tenant, bindparam("contact_id"))
    client_lookup = Lookup(records.client_query(tenant, client_key), ClientRecord) if client_key is not None else None
    ticket_lookup = Lookup(records.ticket_query(tenant, bindparam("ticket_id")), TicketRecord) if ticket else None
    type_lookup = Lookup(interaction_types.interaction_type_query(tenant, bindparam("type_id")), InteractionTypeRecord)
    status_lookup = Lookup(
        statuses.status_query(tenant, bindparam("status_id"))
        if status
        else statuses.default_interaction_status_query(tenant),
        StatusRecord,
    )
    owner_lookup = Lookup(records.user_query(tenant, bindparam("owner_id")), UserRecord)
    wanted = (contact_lookup, client_lookup, ticket_lookup, type_lookup, status_lookup, owner_lookup)
    return _Lookups(
        LookupBatch(*(lookup for lookup in wanted if lookup is not None)),
        contact_lookup,
        client_lookup,
        ticket_lookup,
        type_lookup,
        status_lookup,
        owner_lookup,
    )


def _look_up(ctx: ActionContext, data: ScheduleActivityInput) -> _Found:
    """Everything the call refers to, in one statement (see :func:`_lookups`)."""
    owner_field, owner_id = next(
        (
            (name, value)
            for name, value in (("assigned_user_id", data.assigned_user_id), ("owner_user_id", data.owner_user_id))
            if value is not None
        ),
        (None, ctx.actor_user_id),
    )
    shape = _lookups(
        contact=data.contact_id is not None,
        client=data.client_id is not None,
        ticket=data.ticket_id is not None,
        status=data.status_id is not None,
    )
    found = shape.batch.fetch(
        ctx.connection,
        {
            "tenant": ctx.tenant_id,
            "contact_id": data.contact_id,
            "client_id": data.client_id,
            "ticket_id": data.ticket_id,
            "type_id": data.type_id,
            "status_id": data.status_id,
            "owner_id": owner_id,
        },
    )
    return _Found(
        contact=None if shape.contact is None else found[shape.contact],
        client=None if shape.client is None else found[shape.client],
        ticket=None if shape.ticket is None else found[shape.ticket],
        interaction_type=found[shape.interaction_type],
        status=found[shape.status],
        owner=found[shape.owner],
        owner_id=owner_id,
        owner_field=owner_field,
    )


def _resolve_client(data: ScheduleActivityInput, found: _Found) -> tuple[ClientRecord, ContactRecord | None]:
    """The client and the contact (or None), checked against each other."""
    if data.client_id is not None:  # a client not in the tenant is not found, before it is compared with the contact
        require_found(found.client, "client", data.client_id, field="client_id")
    contact = None
    client_id = data.client_id
    if data.contact_id is not None:
        contact = require_found(found.contact, "contact", data.contact_id, field="contact_id")
        if client_id is None:
            if contact.client_id is None:
                raise guard_failed(
                    "client_resolvable",
                    "The contact belongs to no client; give client_id",
                    field="client_id",
                    expected="a client_id, or a contact that belongs to a client",
                    actual=None,
                    contact_id=str(data.contact_id),
                )
            client_id = contact.client_id
        else:
            require_contact_of_client(
                contact.client_id,
                client_id,
                "The contact does not belong to the client",
                contact_id=str(data.contact_id),
            )
    if client_id is None:
        raise guard_failed(
            "client_or_contact_required",
            "Give client_id or contact_id",
            field="client_id",
            expected="client_id or contact_id",
            actual=None,
        )
    client = require_found(found.client, "client", client_id, field="client_id")
    return client, contact


def _check_ticket(data: ScheduleActivityInput, found: _Found, client_id: uuid.UUID) -> None:
    if data.ticket_id is None:
        return
    ticket = require_found(found.ticket, "ticket", data.ticket_id, field="ticket_id")
    if ticket.client_id is not None and ticket.client_id != client_id:
        raise guard_failed(
            "ticket_belongs_to_client",
            "The ticket belongs to another client",
            field="ticket_id",
            expected=str(client_id),
            actual=str(ticket.client_id),
            ticket_id=str(data.ticket_id),
        )
    if ticket.contact_name_id is not None and data.contact_id is not None and ticket.contact_name_id != data.contact_id:
        raise guard_failed(
            "ticket_contact_matches",
            "The ticket is for another contact",
            field="ticket_id",
            expected=str(data.contact_id),
            actual=str(ticket.contact_name_id),
            ticket_id=str(data.ticket_id),
        )


def _status(data: ScheduleActivityInput, found: _Found) -> StatusRecord:
    if data.status_id is not None:
        return checked_interaction_status(found.status, data.status_id)
    if found.status is None:
        raise InternalError(
            "No default interaction status found for this tenant; give status_id or mark one interaction status "
            "as the default",
            {"rule": "default_status_required", "setup": "statuses", "status_type": "interaction", "is_default": True},
        )
    return found.status


def _owner(ctx: ActionContext, found: _Found) -> UserRecord:
    if found.owner_field is None:  # the actor, whom the call's first statement found
        if found.owner is None:
            raise InternalError("The actor was not found again", {"actor_user_id": str(ctx.actor_user_id)})
        return found.owner
    return require_found(found.owner, "user", found.owner_id, field=found.owner_field)


class _LocalTimeReader:
    """Reads start and end: as given when they have an offset, else in the input's or the client's zone."""

    def __init__(self, data: ScheduleActivityInput, client: ClientRecord):
        self.zone_name = data.timezone or client.timezone
        self.zone_source = "timezone" if data.timezone else "client.timezone"
        self.client_id = client.client_id

    def to_utc(self, value: datetime, field: str) -> datetime:
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(UTC)
        if not self.zone_name:
            raise guard_failed(
                "timezone_for_local_time",
                f"{field} has no UTC offset, and neither timezone nor the client's time zone is set",
                field=field,
                expected="an offset (Z or +hh:mm), the timezone input, or a client with a time zone",
                actual=value.isoformat(),
                client_id=str(self.client_id),
            )
        zone = _zone(self.zone_name)
        if zone is None:
            raise guard_failed(
                "client_timezone_valid",
                f"The client's time zone {self.zone_name!r} is not an IANA time zone; give timezone",
                field="timezone",
                expected="an IANA time zone",
                actual=self.zone_name,
                client_id=str(self.client_id),
            )
        local = value.replace(tzinfo=zone)
        in_utc = local.astimezone(UTC)
        if in_utc.astimezone(zone).replace(tzinfo=None) != value:
            raise guard_failed(
                "local_time_exists",
                f"{field} {value.isoformat()} does not exist in {self.zone_name} (the clocks skip it)",
                field=field,
                expected=f"a local time that exists in {self.zone_name}",
                actual=value.isoformat(),
                timezone=self.zone_name,
            )
        return in_utc


def schedule_activity(ctx: ActionContext, data: ScheduleActivityInput) -> ScheduleActivityOutput:
    """Validate the links, derive client, status, owner and duration, insert, emit INTERACTION_LOGGED.

    Everything the activity refers to is read in one statement; the returned summary is built from those
    records and the inserted values, not read back.
    """
    found = _look_up(ctx, data)
    client, contact = _resolve_client(data, found)
    _check_ticket(data, found, client.client_id)
    interaction_type = checked_interaction_type(found.interaction_type, data.type_id)
    status = _status(data, found)
    owner = _owner(ctx, found)

    times = _LocalTimeReader(data, client)
    start = times.to_utc(data.start_time, "start_time")
    end = times.to_utc(data.end_time, "end_time") if data.end_time is not None else start
    require_start_not_after_end(start, end)
    duration = data.duration if data.duration is not None else scheduled_duration(start, end)

    contact_id = contact.contact_name_id if contact is not None else None
    values: dict[str, Any] = {
        "type_id": data.type_id,
        "client_id": client.client_id,
        "contact_name_id": contact_id,
        "ticket_id": data.ticket_id,
        "user_id": owner.user_id,
        "title": data.title,
        "notes": data.notes,
        "status_id": status.status_id,
        "interaction_date": start,
        "start_time": start,
        "end_time": end,
        "duration": duration,
        "visibility": data.visibility,
        "category": data.category,
        "tags": data.tags or None,
    }
    activity_id = insert_interaction(ctx.connection, ctx.tenant_id, values)
    emit_interaction_logged(
        ctx,
        interaction_id=activity_id,
        client_id=client.client_id,
        contact_id=contact_id,
        type_id=data.type_id,
        type_name=interaction_type.type_name,
        occurred_at=start,
        logged_by_user_id=owner.user_id,
        subject=data.title,
        outcome=status.name,
    )
    ctx.audit(
        {
            "activity_id": activity_id,
            "client_id": client.client_id,
            "contact_id": contact_id,
            "ticket_id": data.ticket_id,
            "status_id": status.status_id,
            "type_id": data.type_id,
            "start_time": iso_utc(start),
            "end_time": iso_utc(end),
            "duration": duration,
            "assigned_user_id": owner.user_id,
        },
        {"activity_id": activity_id},
    )
    # The summary of the row as inserted, with the names of what it refers to from the records read above.
    record = ActivityRecord(
        activity_id=activity_id,
        contact_id=contact_id,
        **{column: value for column, value in values.items() if column in ActivityRecord._fields},
        type_name=interaction_type.type_name,
        status_name=status.name,
        client_name=client.client_name,
        contact_name=contact.full_name if contact is not None else None,
        ticket_number=found.ticket.ticket_number if found.ticket is not None else None,
        notes_truncated=False,
        user_first_name=owner.first_name,
        user_last_name=owner.last_name,
        user_email=owner.email,
    )
    return ScheduleActivityOutput(activity=activity_summary(record))


def _permissions(data: ScheduleActivityInput) -> list[PermissionNeed]:
    needs = [PermissionNeed("interaction", "create")]
    if data.ticket_id is not None:
        needs.append(PermissionNeed("ticket", "read"))
    return needs


SPEC = action_spec(
    schedule_activity,
    label="Schedule CRM Activity",
    description="Schedule a CRM activity (call, meeting, follow-up) with a client or contact, optionally on a ticket.",
    permissions=_permissions,
    rehearsal_input={
        "contact_id": REHEARSAL_ID,
        "type_id": REHEARSAL_ID,
        "title": "Rehearsal",
        "start_time": "2027-01-01T10:00:00Z",
        "end_time": "2027-01-01T11:00:00Z",
    },
    effect_services=("events",),
)
