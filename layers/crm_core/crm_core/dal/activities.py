"""SQL of the activity actions: the activity summary query, its filters and keyset, and activity updates.

The summary of a page or of one activity is one query: the interaction joined (by tenant) to its type, status,
client, contact, ticket and user. No per-row lookups. Pages are ordered by ``interaction_date`` then
``interaction_id``, both descending, and continue after a keyset, so each filter is served by one of the
``ix_interactions_*_date`` indexes (tenant, filter column, interaction_date DESC, interaction_id DESC).

Every join is a many-to-one lookup by primary key from the interaction, so the written order (interactions
first, driving the index scan and the LIMIT) is the best one: the call's first statement (``crm_open_call``)
plans the transaction's joins as written and without Memoize. Left to search, PostgreSQL spends about 15 ms on
the join orders of eight relations and about 2 ms setting up Memoize nodes, for a query that runs in under
0.5 ms.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, and_, false, func, literal, select, text, tuple_, update

from crm_core.dal.filters import given_conditions
from crm_core.dal.writes import StatementSink
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

# A page carries only the head of each activity's notes: enough for the preview, never megabytes per page.
NOTES_HEAD_CHARS = 2000


class ActivityRecord(NamedTuple):
    """One row of the summary query: an interaction with the names of what it refers to.

    ``notes`` is the full text, or on a page only its head, with ``notes_truncated`` saying more follows.
    """

    activity_id: uuid.UUID
    type_id: uuid.UUID
    type_name: str | None
    status_id: uuid.UUID | None
    status_name: str | None
    client_id: uuid.UUID | None
    client_name: str | None
    contact_id: uuid.UUID | None
    contact_name: str | None
    ticket_id: uuid.UUID | None
    ticket_number: str | None
    title: str | None
    notes: str | None
    notes_truncated: bool
    interaction_date: datetime
    start_time: datetime | None
    end_time: datetime | None
    duration: int | None
    user_id: uuid.UUID
    user_first_name: str | None
    user_last_name: str | None
    user_email: str | None
    visibility: str
    category: str | None
    tags: list[str] | None


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
def lookup_join_plan(connection: Connection) -> Iterator[None]:
    """Plan joins as written, without Memoize, for the rest of the transaction (what ``crm_open_call`` does for
    a call; for transactions it did not open, such as benchmarks)."""
    connection.execute(
        text("select set_config('join_collapse_limit', '1', true), set_config('enable_memoize', 'off', true)")
    )
    yield


@lru_cache(maxsize=2)
def _summary_select(*, full_notes: bool) -> Select[*tuple[Any, ...]]:
    """The summary query's columns, in the order of :class:`ActivityRecord`, and its joins (built once: a
    statement is immutable, and building this one took milliseconds per call)."""
    i = Interaction.c
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
            func.coalesce(InteractionType.c.type_name, SystemInteractionType.c.type_name).label("type_name"),
            i.status_id,
            Status.c.name.label("status_name"),
            i.client_id,
            Client.c.client_name,
            i.contact_name_id.label("contact_id"),
            Contact.c.full_name.label("contact_name"),
            i.ticket_id,
            Ticket.c.ticket_number,
            i.title,
            notes.label("notes"),
            notes_truncated.label("notes_truncated"),
            i.interaction_date,
            i.start_time,
            i.end_time,
            i.duration,
            i.user_id,
            User.c.first_name.label("user_first_name"),
            User.c.last_name.label("user_last_name"),
            User.c.email.label("user_email"),
            i.visibility,
            i.category,
            i.tags,
        )
        .select_from(Interaction)
        .outerjoin(InteractionType, and_(InteractionType.c.tenant == i.tenant, InteractionType.c.type_id == i.type_id))
        .outerjoin(SystemInteractionType, SystemInteractionType.c.type_id == i.type_id)
        .outerjoin(Status, and_(Status.c.tenant == i.tenant, Status.c.status_id == i.status_id))
        .outerjoin(Client, and_(Client.c.tenant == i.tenant, Client.c.client_id == i.client_id))
        .outerjoin(Contact, and_(Contact.c.tenant == i.tenant, Contact.c.contact_name_id == i.contact_name_id))
        .outerjoin(Ticket, and_(Ticket.c.tenant == i.tenant, Ticket.c.ticket_id == i.ticket_id))
        .outerjoin(User, and_(User.c.tenant == i.tenant, User.c.user_id == i.user_id))
    )


def get_activity(
    connection: Connection, tenant_id: uuid.UUID, activity_id: uuid.UUID, *, lock: bool = False
) -> ActivityRecord | None:
    """One activity's summary with its full notes; ``lock`` holds the row until the transaction ends."""
    stmt = _summary_select(full_notes=True).where(
        Interaction.c.tenant == tenant_id, Interaction.c.interaction_id == activity_id
    )
    if lock:
        stmt = stmt.with_for_update(of=Interaction)
    row = connection.execute(stmt).one_or_none()
    return None if row is None else ActivityRecord(*row)


def _filter_conditions(tenant_id: uuid.UUID, filters: ActivityFilters) -> list[ColumnElement[bool]]:
    i = Interaction.c
    by_column = (
        (i.client_id, filters.client_id),
        (i.contact_name_id, filters.contact_id),
        (i.ticket_id, filters.ticket_id),
        (i.user_id, filters.user_id),
        (i.type_id, filters.type_id),
        (i.status_id, filters.status_id),
    )
    return [i.tenant == tenant_id, *given_conditions(by_column, i.interaction_date, filters.date_from, filters.date_to)]


def activity_page_query(
    tenant_id: uuid.UUID, filters: ActivityFilters, *, after: Keyset | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """The page query: summaries matching ``filters``, newest first, strictly after ``after``, at most ``limit``."""
    conditions = _filter_conditions(tenant_id, filters)
    if after is not None:
        # A row comparison matches the index order (both columns descending), so PostgreSQL seeks to it.
        conditions.append(
            tuple_(Interaction.c.interaction_date, Interaction.c.interaction_id)
            < tuple_(
                literal(after.interaction_date, Interaction.c.interaction_date.type), literal(after.interaction_id)
            )
        )
    return (
        _summary_select(full_notes=False)
        .where(*conditions)
        .order_by(Interaction.c.interaction_date.desc(), Interaction.c.interaction_id.desc())
        .limit(limit)
    )


def find_activity_page(
    connection: Connection,
    tenant_id: uuid.UUID,
    filters: ActivityFilters,
    *,
    after: Keyset | None,
    limit: int,
    with_total: bool = False,
) -> tuple[list[ActivityRecord], int | None]:
    """Rows of :func:`activity_page_query` (notes are only their head; ``notes_truncated`` says more follows),
    and with ``with_total`` how many activities match in all, counted by the same statement.

    The count is an uncorrelated scalar subquery of the page query (PostgreSQL runs it once, as an InitPlan), so
    it rides along on the page's rows; only a page that comes back empty after a cursor needs a second query.
    """
    query = activity_page_query(tenant_id, filters, after=after, limit=limit)
    if with_total:
        query = query.add_columns(_count_query(tenant_id, filters).scalar_subquery().label("total"))
    rows = connection.execute(query).all()
    if not with_total:
        return [ActivityRecord(*row) for row in rows], None
    if rows:
        return [ActivityRecord(*row[:-1]) for row in rows], int(rows[0][-1])
    total = 0 if after is None else count_activities(connection, tenant_id, filters)
    return [], total


def _count_query(tenant_id: uuid.UUID, filters: ActivityFilters) -> Select[int]:
    return select(func.count()).select_from(Interaction).where(*_filter_conditions(tenant_id, filters))


def count_activities(connection: Connection, tenant_id: uuid.UUID, filters: ActivityFilters) -> int:
    """How many activities match ``filters`` in all."""
    return int(connection.execute(_count_query(tenant_id, filters)).scalar_one())


def update_activity_columns(
    connection: StatementSink, tenant_id: uuid.UUID, activity_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Set ``values`` (column name -> value) on one interaction."""
    connection.execute(
        update(Interaction)
        .where(Interaction.c.tenant == tenant_id, Interaction.c.interaction_id == activity_id)
        .values(**values)
    )
