"""The seeded tenant every test works in (fresh uuids, so tests never see each other's rows), and its actors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine

from crm_dev.seed import TenantSeeder


@dataclass
class Tenant:
    """A seeded tenant: the seeder, an Admin actor, one client with a contact, a ticket and a project."""

    seed: TenantSeeder
    actor: uuid.UUID
    client: uuid.UUID
    contact: uuid.UUID
    ticket: uuid.UUID
    project: uuid.UUID

    @property
    def id(self) -> uuid.UUID:
        return self.seed.tenant_id


def make_tenant(engine: Engine) -> Tenant:
    """A new tenant: Ada Admin, Acme Corp (New York) with Carol Contact, ticket T-1001 and the Office move project."""
    seed = TenantSeeder(engine).create()
    actor = seed.user(roles=["Admin"], first_name="Ada", last_name="Admin")
    client = seed.client("Acme Corp", timezone="America/New_York", billing_email="billing@acme.example")
    contact = seed.contact(client, "Carol Contact", email="carol@acme.example")
    ticket = seed.ticket(client, contact, title="Printer offline", number="T-1001")
    project = seed.project(client, "Office move")
    return Tenant(seed, actor, client, contact, ticket, project)


def actor_with(tenant: Tenant, *grants: tuple[str, str]) -> uuid.UUID:
    """A new active internal user whose only role grants exactly ``grants``."""
    role = f"Only {uuid.uuid4().hex[:8]}"
    tenant.seed.role(role, list(grants))
    return tenant.seed.user(roles=[role], first_name="Rita", last_name="Restricted")
