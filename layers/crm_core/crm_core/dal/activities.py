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

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    false,
    func,
    select,
    text,
    tuple_,
)

from crm_core.dal.filters import bound_conditions
from crm_core.dal.writes import StatementSink, update_row
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
from crm_core.db.prepared import Prepared
from crm_core.db.shapes import shape_cache

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


@lru_cache(maxsize=2)
def _activity_statement(*, lock: bool) -> Prepared:
    stmt = _summary_select(full_notes=True).where(
        Interaction.c.tenant == bindparam("tenant"), Interaction.c.interaction_id == bindparam("activity_id")
    )
    return Prepared(stmt.with_for_update(of=Interaction) if lock else stmt)


def get_activity(
    connection: Connection, tenant_id: uuid.UUID, activity_id: uuid.UUID, *, lock: bool = False
) -> ActivityRecord | None:
    """One activity's summary with its full notes; ``lock`` holds the row until the transaction ends."""
    row = _activity_statement(lock=lock).first(connection, tenant=tenant_id, activity_id=activity_id)
    return None if row is None else ActivityRecord(*row)


# The filters of ActivityFilters that compare a column for equality, and the column each compares.
_EQUAL_FILTERS = {
    "client_id": Interaction.c.client_id,
    "contact_id": Interaction.c.contact_name_id,
    "ticket_id": Interaction.c.ticket_id,
    "user_id": Interaction.c.user_id,
    "type_id": Interaction.c.type_id,
    "status_id": Interaction.c.status_id,
}


def _filter_conditions(given: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The conditions of the filters named in ``given``, each value a bind parameter named as its filter."""
    tenant = Interaction.c.tenant == bindparam("tenant")
    return bound_conditions(given, _EQUAL_FILTERS, Interaction.c.interaction_date, tenant)


def _page_select(given: tuple[str, ...], *, after: bool) -> Select[*tuple[Any, ...]]:
    conditions = _filter_conditions(given)
    if after:
        # A row comparison matches the index order (both columns descending), so PostgreSQL seeks to it.
        i = Interaction.c
        conditions.append(
            tuple_(i.interaction_date, i.interaction_id)
            < tuple_(
                bindparam("after_date", type_=i.interaction_date.type),
                bindparam("after_id", type_=i.interaction_id.type),
            )
        )
    return (
        _summary_select(full_notes=False)
        .where(*conditions)
        .order_by(Interaction.c.interaction_date.desc(), Interaction.c.interaction_id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


@shape_cache(maxsize=256)
def _page_statement(given: tuple[str, ...], *, after: bool, with_total: bool) -> Prepared:
    """The page statement for one combination of filters (at most 2^8 x 4 shapes; a container sees a few)."""
    query = _page_select(given, after=after)
    if with_total:
        query = query.add_columns(_count_select(given).scalar_subquery().label("total"))
    return Prepared(query)


def _filter_parameters(tenant_id: uuid.UUID, filters: ActivityFilters) -> dict[str, Any]:
    parameters: dict[str, Any] = {name: getattr(filters, name) for name in filters.given()}
    parameters["tenant"] = tenant_id
    return parameters


def _page_parameters(
    tenant_id: uuid.UUID, filters: ActivityFilters, *, after: Keyset | None, limit: int
) -> dict[str, Any]:
    parameters = _filter_parameters(tenant_id, filters)
    parameters["limit"] = limit
    if after is not None:
        parameters.update(after_date=after.interaction_date, after_id=after.interaction_id)
    return parameters


def activity_page_query(
    tenant_id: uuid.UUID, filters: ActivityFilters, *, after: Keyset | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """The page query: summaries matching ``filters``, newest first, strictly after ``after``, at most ``limit``
    (with its values bound: for EXPLAIN; calls run the prepared statement of the same shape)."""
    given = tuple(filters.given())
    return _page_select(given, after=after is not None).params(
        _page_parameters(tenant_id, filters, after=after, limit=limit)
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
    given = tuple(filters.given())
    statement = _page_statement(given, after=after is not None, with_total=with_total)
    rows = statement.all(connection, _page_parameters(tenant_id, filters, after=after, limit=limit))
    if not with_total:
        return [ActivityRecord(*row) for row in rows], None
    if rows:
        return [ActivityRecord(*row[:-1]) for row in rows], int(rows[0][-1])
    total = 0 if after is None else count_activities(connection, tenant_id, filters)
    return [], total


def _count_select(given: tuple[str, ...]) -> Select[int]:
    return select(func.count()).select_from(Interaction).where(*_filter_conditions(given))


@shape_cache(maxsize=256)
def _count_statement(given: tuple[str, ...]) -> Prepared:
    return Prepared(_count_select(given))


def count_activities(connection: Connection, tenant_id: uuid.UUID, filters: ActivityFilters) -> int:
    """How many activities match ``filters`` in all."""
    return int(_count_statement(tuple(filters.given())).scalar(connection, _filter_parameters(tenant_id, filters)))


def update_activity_columns(
    connection: StatementSink, tenant_id: uuid.UUID, activity_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Set ``values`` (column name -> value) on one interaction."""
    update_row(connection, Interaction, {"tenant": tenant_id, "interaction_id": activity_id}, values)
