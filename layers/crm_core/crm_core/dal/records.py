"""Lookups of the CRM records actions refer to: clients, contacts, tickets, projects, users.

Each returns a small row of the columns actions use, or ``None`` when the record is not in the tenant.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from crm_core.db.models import Client, Contact, Project, Ticket, User

RecordRow: TypeAlias = Row[*tuple[Any, ...]]


def get_client(session: Session, tenant_id: uuid.UUID, client_id: uuid.UUID) -> RecordRow | None:
    """The client's id, name, timezone, billing email, currency, region and inactive flag."""
    return session.execute(
        select(
            Client.client_id,
            Client.client_name,
            Client.timezone,
            Client.billing_email,
            Client.default_currency_code,
            Client.region_code,
            Client.is_inactive,
        ).where(Client.tenant == tenant_id, Client.client_id == client_id)
    ).one_or_none()


def get_contact(session: Session, tenant_id: uuid.UUID, contact_id: uuid.UUID) -> RecordRow | None:
    """The contact's id, full name, email, client and inactive flag."""
    return session.execute(
        select(Contact.contact_name_id, Contact.full_name, Contact.email, Contact.client_id, Contact.is_inactive).where(
            Contact.tenant == tenant_id, Contact.contact_name_id == contact_id
        )
    ).one_or_none()


def get_ticket(session: Session, tenant_id: uuid.UUID, ticket_id: uuid.UUID) -> RecordRow | None:
    """The ticket's id, number, title, client and contact."""
    return session.execute(
        select(Ticket.ticket_id, Ticket.ticket_number, Ticket.title, Ticket.client_id, Ticket.contact_name_id).where(
            Ticket.tenant == tenant_id, Ticket.ticket_id == ticket_id
        )
    ).one_or_none()


def get_project(session: Session, tenant_id: uuid.UUID, project_id: uuid.UUID) -> RecordRow | None:
    """The project's id, name and client."""
    return session.execute(
        select(Project.project_id, Project.project_name, Project.client_id).where(
            Project.tenant == tenant_id, Project.project_id == project_id
        )
    ).one_or_none()


def get_user(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID) -> RecordRow | None:
    """The user's id, names, email, type and inactive flag."""
    return session.execute(
        select(User.user_id, User.first_name, User.last_name, User.email, User.user_type, User.is_inactive).where(
            User.tenant == tenant_id, User.user_id == user_id
        )
    ).one_or_none()


def user_display_name(first_name: str | None, last_name: str | None, email: str | None) -> str | None:
    """ "first last" trimmed, else the email (AlgaPSA's user_name)."""
    name = f"{first_name or ''} {last_name or ''}".strip()
    return name or email
