"""Seeding tenants for the demo, the tests and the benchmarks (AlgaPSA's onboarding roles and grants).

Every write goes through the app role with the tenant set, exactly as actions do, so row-level security
checks the seed too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, update

from crm_core.db.engine import tenant_transaction
from crm_core.db.models import (
    Client,
    Contact,
    Interaction,
    InteractionType,
    Permission,
    Project,
    Quote,
    QuoteItem,
    Role,
    RolePermission,
    Status,
    Tenant,
    TenantSettings,
    Ticket,
    User,
    UserRole,
)

CRUD = ("create", "read", "update", "delete")
CRUD_RESOURCES = (
    "client",
    "contact",
    "interaction",
    "ticket",
    "project",
    "project_task",
    "billing",
    "tag",
    "document",
    "invoice",
    "opportunities",
    "settings",
)


def all_permissions() -> list[tuple[str, str]]:
    """Every MSP permission of the onboarding seed this project uses."""
    needs = [(resource, action) for resource in CRUD_RESOURCES for action in CRUD]
    needs += [("user", a) for a in (*CRUD, "invite", "reset_password")]
    needs += [("quotes", "approve")]
    return needs


def _grants(spec: dict[str, Iterable[str]]) -> list[tuple[str, str]]:
    return [(resource, action) for resource, actions in spec.items() for action in actions]


# Managers and Technicians get the same grants (note: no client:update, no billing).
SERVICE_STAFF_GRANTS = _grants(
    {
        "client": ("read", "delete"),
        "contact": ("read", "delete"),
        "interaction": ("create", "read", "update"),
        "tag": ("create", "read", "update"),
        "ticket": ("create", "read", "update"),
    }
)

# AlgaPSA's default MSP role grants (Admin, Finance, Manager, Technician, Project Manager, Dispatcher).
ROLE_GRANTS: dict[str, list[tuple[str, str]]] = {
    "Admin": all_permissions(),
    "Finance": _grants(
        {
            "billing": CRUD,
            "client": CRUD,
            "contact": CRUD,
            "interaction": CRUD,
            "tag": ("create", "read"),
            "ticket": ("read", "update"),
        }
    ),
    "Manager": SERVICE_STAFF_GRANTS,
    "Technician": SERVICE_STAFF_GRANTS,
    "Project Manager": _grants(
        {
            "billing": ("read",),
            "client": ("create", "read", "update"),
            "interaction": ("create", "read", "update"),
        }
    ),
    "Dispatcher": _grants(
        {
            "client": ("read",),
            "interaction": ("create", "read", "update"),
            "tag": ("create", "read", "update"),
        }
    ),
}

# Default interaction statuses: (name, order, is_closed, is_default).
INTERACTION_STATUSES = [
    ("Planned", 1, False, False),
    ("In Progress", 2, False, False),
    ("Completed", 3, True, True),
    ("Cancelled", 4, True, False),
]


class TenantSeeder:
    """Builds one tenant: ``TenantSeeder(engine).create()``, then add users, clients, contacts and so on."""

    def __init__(self, engine: Engine, tenant_id: uuid.UUID | None = None, name: str | None = None):
        self.engine = engine
        self.tenant_id = tenant_id or uuid.uuid4()
        self.name = name or f"MSP {str(self.tenant_id)[:8]}"
        self.permission_ids: dict[tuple[str, str], uuid.UUID] = {}
        self.role_ids: dict[str, uuid.UUID] = {}
        self.status_ids: dict[str, uuid.UUID] = {}
        self._counter = 0

    def _session(self) -> Any:
        return tenant_transaction(self.tenant_id, engine=self.engine)

    def _insert(self, model: Any, **values: Any) -> None:
        """One row of ``model`` in this tenant, in a transaction of its own."""
        with self._session() as session:
            session.execute(insert(model).values(tenant=self.tenant_id, **values))

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _deterministic(self, label: str) -> uuid.UUID:
        return uuid.uuid5(self.tenant_id, label)

    def create(self, *, with_statuses: bool = True, settings: dict[str, Any] | None = None) -> TenantSeeder:
        """The tenant, its settings, every permission, the default roles and (optionally) interaction statuses."""
        with self._session() as session:
            session.execute(
                insert(Tenant).values(
                    tenant=self.tenant_id,
                    client_name=self.name,
                    email=f"admin@{str(self.tenant_id)[:8]}.example.com",
                )
            )
            session.execute(insert(TenantSettings).values(tenant=self.tenant_id, settings=settings or {}))
            permission_rows = []
            for need in all_permissions():
                self.permission_ids[need] = self._deterministic(f"permission:{need[0]}:{need[1]}")
                permission_rows.append(
                    {
                        "tenant": self.tenant_id,
                        "permission_id": self.permission_ids[need],
                        "resource": need[0],
                        "action": need[1],
                        "msp": True,
                        "client": False,
                    }
                )
            session.execute(insert(Permission), permission_rows)
            for role_name, grants in ROLE_GRANTS.items():
                self._insert_role(session, role_name, grants)
            if with_statuses:
                for name, order, closed, default in INTERACTION_STATUSES:
                    self.status_ids[name] = self._insert_status(
                        session, name, order_number=order, is_closed=closed, is_default=default
                    )
        return self

    def _insert_role(
        self, session: Connection, role_name: str, grants: Iterable[tuple[str, str]], *, msp: bool = True
    ) -> uuid.UUID:
        role_id = self._deterministic(f"role:{role_name}")
        session.execute(
            insert(Role).values(tenant=self.tenant_id, role_id=role_id, role_name=role_name, msp=msp, client=not msp)
        )
        rows = [
            {"tenant": self.tenant_id, "role_id": role_id, "permission_id": self.permission_ids[g]}
            for g in dict.fromkeys(grants)
        ]
        if rows:
            session.execute(insert(RolePermission), rows)
        self.role_ids[role_name] = role_id
        return role_id

    def _insert_status(
        self,
        session: Connection,
        name: str,
        *,
        status_type: str = "interaction",
        order_number: int | None = None,
        is_closed: bool = False,
        is_default: bool = False,
        status_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        status_id = status_id or uuid.uuid4()
        session.execute(
            insert(Status).values(
                tenant=self.tenant_id,
                status_id=status_id,
                name=name,
                status_type=status_type,
                order_number=order_number if order_number is not None else 100 + self._next(),
                is_closed=is_closed,
                is_default=is_default,
            )
        )
        return status_id

    def role(self, role_name: str, grants: Iterable[tuple[str, str]], *, msp: bool = True) -> uuid.UUID:
        """A custom role with exactly ``grants`` (resource, action pairs)."""
        with self._session() as session:
            return self._insert_role(session, role_name, grants, msp=msp)

    def user(
        self,
        *,
        roles: Iterable[str] = ("Admin",),
        first_name: str = "Ada",
        last_name: str = "Admin",
        email: str | None = None,
        user_type: str = "internal",
        is_inactive: bool = False,
        user_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A user holding ``roles`` (names of default or custom roles)."""
        user_id = user_id or uuid.uuid4()
        with self._session() as session:
            session.execute(
                insert(User).values(
                    tenant=self.tenant_id,
                    user_id=user_id,
                    username=f"user-{str(user_id)[:8]}",
                    first_name=first_name,
                    last_name=last_name,
                    email=email or f"{first_name.lower()}.{str(user_id)[:4]}@msp.example.com",
                    user_type=user_type,
                    is_inactive=is_inactive,
                )
            )
            for role_name in roles:
                session.execute(
                    insert(UserRole).values(tenant=self.tenant_id, user_id=user_id, role_id=self.role_ids[role_name])
                )
        return user_id

    def client(
        self,
        name: str | None = None,
        *,
        timezone: str | None = None,
        billing_email: str | None = None,
        default_currency_code: str | None = None,
        region_code: str | None = None,
        client_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        client_id = client_id or uuid.uuid4()
        self._insert(
            Client,
            client_id=client_id,
            client_name=name or f"Client {self._next()}",
            timezone=timezone,
            billing_email=billing_email,
            default_currency_code=default_currency_code,
            region_code=region_code,
        )
        return client_id

    def contact(
        self,
        client_id: uuid.UUID | None,
        name: str | None = None,
        *,
        email: str | None = None,
        contact_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        contact_id = contact_id or uuid.uuid4()
        self._insert(
            Contact,
            contact_name_id=contact_id,
            client_id=client_id,
            full_name=name or f"Contact {self._next()}",
            email=email,
        )
        return contact_id

    def ticket(
        self,
        client_id: uuid.UUID | None,
        contact_id: uuid.UUID | None = None,
        *,
        title: str | None = None,
        number: str | None = None,
        ticket_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        ticket_id = ticket_id or uuid.uuid4()
        self._insert(
            Ticket,
            ticket_id=ticket_id,
            ticket_number=number or f"T-{1000 + self._next()}",
            title=title or "Printer offline",
            client_id=client_id,
            contact_name_id=contact_id,
        )
        return ticket_id

    def project(
        self, client_id: uuid.UUID | None, name: str | None = None, *, project_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        project_id = project_id or uuid.uuid4()
        self._insert(
            Project,
            project_id=project_id,
            client_id=client_id,
            project_name=name or f"Project {self._next()}",
        )
        return project_id

    def status(
        self,
        name: str,
        *,
        status_type: str = "interaction",
        order_number: int | None = None,
        is_closed: bool = False,
        is_default: bool = False,
        status_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        with self._session() as session:
            created = self._insert_status(
                session,
                name,
                status_type=status_type,
                order_number=order_number,
                is_closed=is_closed,
                is_default=is_default,
                status_id=status_id,
            )
        self.status_ids[name] = created
        return created

    def interaction_type(
        self,
        name: str,
        *,
        icon: str | None = None,
        display_order: int | None = None,
        type_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        type_id = type_id or uuid.uuid4()
        self._insert(
            InteractionType,
            type_id=type_id,
            type_name=name,
            icon=icon,
            display_order=display_order if display_order is not None else self._next(),
        )
        return type_id

    def interaction(
        self, *, type_id: uuid.UUID, user_id: uuid.UUID, interaction_date: datetime, **values: Any
    ) -> uuid.UUID:
        """An interaction row; ``values`` are further columns (client_id, title, notes, status_id, ...)."""
        interaction_id = values.pop("interaction_id", None) or uuid.uuid4()
        self._insert(
            Interaction,
            interaction_id=interaction_id,
            type_id=type_id,
            user_id=user_id,
            interaction_date=interaction_date,
            **values,
        )
        return interaction_id

    def quote(
        self,
        *,
        client_id: uuid.UUID | None,
        title: str = "Managed services",
        items: Iterable[dict[str, Any]] = (),
        **values: Any,
    ) -> uuid.UUID:
        """A quote (status draft unless given) with ``items`` (quote_items columns); totals as given."""
        quote_id = values.pop("quote_id", None) or uuid.uuid4()
        values.setdefault("status", None if values.get("is_template") else "draft")
        with self._session() as session:
            session.execute(
                insert(Quote).values(
                    tenant=self.tenant_id, quote_id=quote_id, client_id=client_id, title=title, **values
                )
            )
            for order, item in enumerate(items):
                session.execute(
                    insert(QuoteItem).values(
                        tenant=self.tenant_id,
                        quote_id=quote_id,
                        display_order=item.pop("display_order", order),
                        **item,
                    )
                )
        return quote_id

    def update_settings(self, settings: dict[str, Any]) -> None:
        with self._session() as session:
            session.execute(
                update(TenantSettings).where(TenantSettings.c.tenant == self.tenant_id).values(settings=settings)
            )
