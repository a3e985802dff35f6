"""SQL of the activity actions: the activity summary query, its filters and keyset, and activity types and statuses.

The summary of a page or of one activity is one query: the interaction joined (by tenant) to its type, status,
client, contact, ticket and user. No per-row lookups. Pages are ordered by ``interaction_date`` then
``interaction_id``, both descending, and continue after a keyset, so each filter is served by one of the
``ix_interactions_*_date`` indexes (tenant, filter column, interaction_date DESC, interaction_id DESC).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, and_, false, func, insert, literal, select, text, tuple_, update
from sqlalchemy.orm import Session

from crm_core.db.models import (
    Client,
    Contact,
    Interaction,
    InteractionType,
    Status,
    SystemInteractionType,
    Ticket,
    User,
)

ActivityRow: TypeAlias = Row[*tuple[Any, ...]]

# A page carries only the head of each activity's notes: enough for the preview, never megabytes per page.
NOTES_HEAD_CHARS = 2000


@dataclass(frozen=True)
class ActivityFilters:
    """What find_activities narrows by; ``None`` means "any". The date range is inclusive."""

    client_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    type_id: uuid.UUID | None = None
    status_id: uuid.UUID | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None

    def given(self) -> list[str]:
        """Names of the filters that are set."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


@dataclass(frozen=True)
class Keyset:
    """The last row of the previous page: the next page starts strictly after it."""

    interaction_date: datetime
    interaction_id: uuid.UUID


@contextmanager
def lookup_join_plan(session: Session) -> Iterator[None]:
    """Plan the summary query's joins as lookups, for the duration of one statement.

    Every join is a many-to-one lookup by primary key from the interaction, so the written order (interactions
    first, driving the index scan and the LIMIT) is the best one, and a page of at most 201 rows gains nothing
    from Memoize. Left alone, PostgreSQL spends about 15 ms searching the join orders of eight relations and
    about 2 ms setting up Memoize nodes, for a query that runs in under 0.5 ms. The settings are put back after
    the statement (the target list is evaluated left to right, so the old values are read before being set).
    """
    previous = session.execute(
        text(
            "select current_setting('join_collapse_limit') as join_collapse_limit, "
            "current_setting('enable_memoize') as enable_memoize, "
            "set_config('join_collapse_limit', '1', true), set_config('enable_memoize', 'off', true)"
        )
    ).one()
    yield
    session.execute(
        text("select set_config('join_collapse_limit', :j, true), set_config('enable_memoize', :m, true)"),
        {"j": previous.join_collapse_limit, "m": previous.enable_memoize},
    )


def _summary_select(*, full_notes: bool) -> Select[*tuple[Any, ...]]:
    i = Interaction
    if full_notes:
        notes: Any = i.notes
        notes_truncated: Any = false()
    else:
        notes = func.left(i.notes, NOTES_HEAD_CHARS)
        notes_truncated = func.coalesce(func.length(i.notes), 0) > NOTES_HEAD_CHARS
    return (
        select(
            i.interaction_id.label("activity_id"),
            i.type_id,
            func.coalesce(InteractionType.type_name, SystemInteractionType.type_name).label("type_name"),
            i.status_id,
            Status.name.label("status_name"),
            i.client_id,
            Client.client_name,
            i.contact_name_id.label("contact_id"),
            Contact.full_name.label("contact_name"),
            i.ticket_id,
            Ticket.ticket_number,
            i.title,
            notes.label("notes"),
            notes_truncated.label("notes_truncated"),
            i.interaction_date,
            i.start_time,
            i.end_time,
            i.duration,
            i.user_id,
            User.first_name.label("user_first_name"),
            User.last_name.label("user_last_name"),
            User.email.label("user_email"),
            i.visibility,
            i.category,
            i.tags,
        )
        .select_from(i)
        .outerjoin(InteractionType, and_(InteractionType.tenant == i.tenant, InteractionType.type_id == i.type_id))
        .outerjoin(SystemInteractionType, SystemInteractionType.type_id == i.type_id)
        .outerjoin(Status, and_(Status.tenant == i.tenant, Status.status_id == i.status_id))
        .outerjoin(Client, and_(Client.tenant == i.tenant, Client.client_id == i.client_id))
        .outerjoin(Contact, and_(Contact.tenant == i.tenant, Contact.contact_name_id == i.contact_name_id))
        .outerjoin(Ticket, and_(Ticket.tenant == i.tenant, Ticket.ticket_id == i.ticket_id))
        .outerjoin(User, and_(User.tenant == i.tenant, User.user_id == i.user_id))
    )


def get_activity(
    session: Session, tenant_id: uuid.UUID, activity_id: uuid.UUID, *, lock: bool = False
) -> ActivityRow | None:
    """One activity's summary row with its full notes; ``lock`` holds the row until the transaction ends."""
    stmt = _summary_select(full_notes=True).where(
        Interaction.tenant == tenant_id, Interaction.interaction_id == activity_id
    )
    if lock:
        stmt = stmt.with_for_update(of=Interaction)
    with lookup_join_plan(session):
        return session.execute(stmt).one_or_none()


def _filter_conditions(tenant_id: uuid.UUID, filters: ActivityFilters) -> list[ColumnElement[bool]]:
    i = Interaction
    conditions: list[ColumnElement[bool]] = [i.tenant == tenant_id]
    by_column = (
        (i.client_id, filters.client_id),
        (i.contact_name_id, filters.contact_id),
        (i.ticket_id, filters.ticket_id),
        (i.user_id, filters.user_id),
        (i.type_id, filters.type_id),
        (i.status_id, filters.status_id),
    )
    conditions += [column == value for column, value in by_column if value is not None]
    if filters.date_from is not None:
        conditions.append(i.interaction_date >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(i.interaction_date <= filters.date_to)
    return conditions


def activity_page_query(
    tenant_id: uuid.UUID, filters: ActivityFilters, *, after: Keyset | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """The page query: summaries matching ``filters``, newest first, strictly after ``after``, at most ``limit``."""
    conditions = _filter_conditions(tenant_id, filters)
    if after is not None:
        # A row comparison matches the index order (both columns descending), so PostgreSQL seeks to it.
        conditions.append(
            tuple_(Interaction.interaction_date, Interaction.interaction_id)
            < tuple_(literal(after.interaction_date, Interaction.interaction_date.type), literal(after.interaction_id))
        )
    return (
        _summary_select(full_notes=False)
        .where(*conditions)
        .order_by(Interaction.interaction_date.desc(), Interaction.interaction_id.desc())
        .limit(limit)
    )


def find_activity_page(
    session: Session, tenant_id: uuid.UUID, filters: ActivityFilters, *, after: Keyset | None, limit: int
) -> list[ActivityRow]:
    """Rows of :func:`activity_page_query` (notes are only their head; ``notes_truncated`` says more follows)."""
    with lookup_join_plan(session):
        return list(session.execute(activity_page_query(tenant_id, filters, after=after, limit=limit)).all())


def count_activities(session: Session, tenant_id: uuid.UUID, filters: ActivityFilters) -> int:
    """How many activities match ``filters`` in all (a second query, only when a caller asks for the total)."""
    return int(
        session.execute(
            select(func.count()).select_from(Interaction).where(*_filter_conditions(tenant_id, filters))
        ).scalar_one()
    )


def update_activity_columns(
    session: Session, tenant_id: uuid.UUID, activity_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Set ``values`` (column name -> value) on one interaction."""
    session.execute(
        update(Interaction)
        .where(Interaction.tenant == tenant_id, Interaction.interaction_id == activity_id)
        .values(**values)
    )


# ---- statuses ----


def get_status(session: Session, tenant_id: uuid.UUID, status_id: uuid.UUID) -> ActivityRow | None:
    """A status of any type (the caller checks it is an interaction status)."""
    return session.execute(
        select(Status.status_id, Status.name, Status.status_type, Status.is_closed).where(
            Status.tenant == tenant_id, Status.status_id == status_id
        )
    ).one_or_none()


def interaction_statuses_named(session: Session, tenant_id: uuid.UUID, name: str) -> list[ActivityRow]:
    """Interaction statuses whose name matches ``name`` ignoring case and surrounding space (at most two)."""
    return list(
        session.execute(
            select(Status.status_id, Status.name, Status.status_type, Status.is_closed)
            .where(
                Status.tenant == tenant_id,
                Status.status_type == "interaction",
                func.lower(func.btrim(Status.name)) == name.strip().lower(),
            )
            .order_by(Status.order_number)
            .limit(2)
        ).all()
    )


def interaction_status_names(session: Session, tenant_id: uuid.UUID) -> list[str]:
    """The tenant's interaction status names, in their display order."""
    return list(
        session.scalars(
            select(Status.name)
            .where(Status.tenant == tenant_id, Status.status_type == "interaction")
            .order_by(Status.order_number)
        ).all()
    )


def default_interaction_status(session: Session, tenant_id: uuid.UUID) -> ActivityRow | None:
    """The tenant's default interaction status (``is_default``), if it has one."""
    return session.execute(
        select(Status.status_id, Status.name, Status.status_type, Status.is_closed)
        .where(Status.tenant == tenant_id, Status.status_type == "interaction", Status.is_default.is_(True))
        .order_by(Status.order_number)
        .limit(1)
    ).one_or_none()


# ---- interaction types ----


def get_interaction_type(session: Session, tenant_id: uuid.UUID, type_id: uuid.UUID) -> ActivityRow | None:
    """The tenant type or, failing that, the system type with ``type_id`` (``source`` says which)."""
    tenant_type = session.execute(
        select(InteractionType.type_id, InteractionType.type_name, literal("tenant").label("source")).where(
            InteractionType.tenant == tenant_id, InteractionType.type_id == type_id
        )
    ).one_or_none()
    if tenant_type is not None:
        return tenant_type
    return session.execute(
        select(SystemInteractionType.type_id, SystemInteractionType.type_name, literal("system").label("source")).where(
            SystemInteractionType.type_id == type_id
        )
    ).one_or_none()


def lock_interaction_types(session: Session, tenant_id: uuid.UUID) -> None:
    """Serialise the creation of the tenant's interaction types until the transaction ends.

    Two concurrent creations would otherwise both pass the duplicate-name check or pick the same display order.
    """
    session.execute(
        text("select pg_advisory_xact_lock(hashtextextended(:lock_name, 0))"),
        {"lock_name": f"crm.interaction_types:{tenant_id}"},
    )


def _interaction_type_columns() -> Select[*tuple[Any, ...]]:
    return select(
        InteractionType.type_id,
        InteractionType.type_name,
        InteractionType.icon,
        InteractionType.display_order,
        InteractionType.created_by,
    )


def find_tenant_type_by_name(session: Session, tenant_id: uuid.UUID, normalized_name: str) -> ActivityRow | None:
    """The tenant's type whose name, trimmed, with runs of space collapsed and lowercased, is ``normalized_name``."""
    stored = func.lower(func.regexp_replace(func.btrim(InteractionType.type_name), r"\s+", " ", "g"))
    return session.execute(
        _interaction_type_columns()
        .where(InteractionType.tenant == tenant_id, stored == normalized_name)
        .order_by(InteractionType.display_order.nulls_last(), InteractionType.type_id)
        .limit(1)
    ).one_or_none()


def tenant_type_at_display_order(session: Session, tenant_id: uuid.UUID, display_order: int) -> ActivityRow | None:
    """The tenant interaction type holding ``display_order``, if any."""
    return session.execute(
        _interaction_type_columns().where(
            InteractionType.tenant == tenant_id, InteractionType.display_order == display_order
        )
    ).one_or_none()


def next_display_order(session: Session, tenant_id: uuid.UUID) -> int:
    """One more than the tenant's highest type display order; 0 for the first type."""
    highest = session.execute(
        select(func.max(InteractionType.display_order)).where(InteractionType.tenant == tenant_id)
    ).scalar_one()
    return 0 if highest is None else int(highest) + 1


def insert_interaction_type(session: Session, tenant_id: uuid.UUID, values: dict[str, Any]) -> ActivityRow:
    """Insert one tenant interaction type; returns the stored row."""
    type_id = values.get("type_id") or uuid.uuid4()
    session.execute(insert(InteractionType).values(**{**values, "tenant": tenant_id, "type_id": type_id}))
    return session.execute(
        _interaction_type_columns().where(InteractionType.tenant == tenant_id, InteractionType.type_id == type_id)
    ).one()
