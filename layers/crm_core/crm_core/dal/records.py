"""Lookups of the CRM records actions refer to: clients, contacts, tickets, projects, users.

Each returns a small named tuple of the columns actions use, or ``None`` when the record is not in the tenant
(pass it to :func:`crm_core.dal.lookups.require_found` to turn that into NotFoundError). The ``*_query``
functions give the same lookups as queries, for :class:`crm_core.dal.batch.LookupBatch` to answer several
in one statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Select, bindparam, select
from sqlalchemy import Uuid as SqlUuid

from crm_core.dal.batch import IdValue
from crm_core.db.models import Client, Contact, Project, Ticket, User
from crm_core.db.prepared import Prepared

RecordT = TypeVar("RecordT")


class ClientRecord(NamedTuple):
    """The columns of a client that actions use."""

    client_id: uuid.UUID
    client_name: str
    timezone: str | None
    billing_email: str | None
    default_currency_code: str | None
    region_code: str | None
    is_inactive: bool


class ContactRecord(NamedTuple):
    """The columns of a contact that actions use (``contact_name_id`` is the contact's id)."""

    contact_name_id: uuid.UUID
    full_name: str
    email: str | None
    client_id: uuid.UUID | None
    is_inactive: bool


class TicketRecord(NamedTuple):
    """The columns of a ticket that actions use."""

    ticket_id: uuid.UUID
    ticket_number: str
    title: str | None
    client_id: uuid.UUID | None
    contact_name_id: uuid.UUID | None


class ProjectRecord(NamedTuple):
    """The columns of a project that actions use."""

    project_id: uuid.UUID
    project_name: str
    client_id: uuid.UUID | None


class UserRecord(NamedTuple):
    """The columns of a user that actions use."""

    user_id: uuid.UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    user_type: str
    is_inactive: bool


def client_query(tenant_id: IdValue, client_id: Any) -> Select[*tuple[Any, ...]]:
    """The client's id, name, timezone, billing email, currency, region and inactive flag (``client_id`` may be a
    SQL expression, such as the client of a contact)."""
    return select(
        Client.c.client_id,
        Client.c.client_name,
        Client.c.timezone,
        Client.c.billing_email,
        Client.c.default_currency_code,
        Client.c.region_code,
        Client.c.is_inactive,
    ).where(Client.c.tenant == tenant_id, Client.c.client_id == client_id)


def contact_query(tenant_id: IdValue, contact_id: IdValue) -> Select[*tuple[Any, ...]]:
    """The contact's id, full name, email, client and inactive flag."""
    return select(
        Contact.c.contact_name_id, Contact.c.full_name, Contact.c.email, Contact.c.client_id, Contact.c.is_inactive
    ).where(Contact.c.tenant == tenant_id, Contact.c.contact_name_id == contact_id)


def contact_client_id(tenant_id: IdValue, contact_id: IdValue) -> Any:
    """The client of a contact, as a SQL expression (for a lookup of that client in the same statement)."""
    return (
        select(Contact.c.client_id)
        .where(Contact.c.tenant == tenant_id, Contact.c.contact_name_id == contact_id)
        .scalar_subquery()
    )


def ticket_query(tenant_id: IdValue, ticket_id: IdValue) -> Select[*tuple[Any, ...]]:
    """The ticket's id, number, title, client and contact."""
    return select(
        Ticket.c.ticket_id, Ticket.c.ticket_number, Ticket.c.title, Ticket.c.client_id, Ticket.c.contact_name_id
    ).where(Ticket.c.tenant == tenant_id, Ticket.c.ticket_id == ticket_id)


def project_query(tenant_id: IdValue, project_id: IdValue) -> Select[*tuple[Any, ...]]:
    """The project's id, name and client."""
    return select(Project.c.project_id, Project.c.project_name, Project.c.client_id).where(
        Project.c.tenant == tenant_id, Project.c.project_id == project_id
    )


def user_query(tenant_id: IdValue, user_id: IdValue) -> Select[*tuple[Any, ...]]:
    """The user's id, names, email, type and inactive flag."""
    return select(
        User.c.user_id, User.c.first_name, User.c.last_name, User.c.email, User.c.user_type, User.c.is_inactive
    ).where(User.c.tenant == tenant_id, User.c.user_id == user_id)


RecordQuery = Callable[[Any, Any], Select[*tuple[Any, ...]]]


@lru_cache(maxsize=32)
def record_statement(query: RecordQuery) -> Prepared:
    """``query`` (a ``*_query`` function taking a tenant and an id) as a prepared statement whose bind parameters
    are ``tenant`` and ``record_id``."""
    return Prepared(query(bindparam("tenant", type_=SqlUuid), bindparam("record_id", type_=SqlUuid)))


def get_record(
    connection: Connection,
    query: RecordQuery,
    record: Callable[..., RecordT],
    tenant_id: uuid.UUID,
    record_id: uuid.UUID,
) -> RecordT | None:
    """The row ``query`` (one of the ``*_query`` functions) finds for ``record_id`` in the tenant, made into
    ``record``; None without one."""
    row = record_statement(query).first(connection, tenant=tenant_id, record_id=record_id)
    return None if row is None else record(*row)


def get_client(connection: Connection, tenant_id: uuid.UUID, client_id: uuid.UUID) -> ClientRecord | None:
    """The client of :func:`client_query`, or None."""
    return get_record(connection, client_query, ClientRecord, tenant_id, client_id)


def get_contact(connection: Connection, tenant_id: uuid.UUID, contact_id: uuid.UUID) -> ContactRecord | None:
    """The contact of :func:`contact_query`, or None."""
    return get_record(connection, contact_query, ContactRecord, tenant_id, contact_id)


def user_display_name(first_name: str | None, last_name: str | None, email: str | None) -> str | None:
    """ "first last" trimmed, else the email (AlgaPSA's user_name)."""
    name = f"{first_name or ''} {last_name or ''}".strip()
    return name or email
