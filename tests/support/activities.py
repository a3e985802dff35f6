"""Activities (``interactions`` rows) seeded straight into a tenant, at fixed instants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.tenants import Tenant

# Global system interaction types seeded by the migrations.
CALL_TYPE = uuid.UUID("9c1577c5-795b-5c38-a3b3-e2b618aac6c8")
EMAIL_TYPE = uuid.UUID("666118fe-d252-5541-a917-c4ec56a6beff")
MEETING_TYPE = uuid.UUID("5acca340-6f16-5e1a-bff6-b877b643651a")
NOTE_TYPE = uuid.UUID("ba330b41-0e03-537d-834f-94a6c295a983")

BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(days: float = 0, *, hours: float = 0) -> datetime:
    """A fixed UTC instant ``days`` and ``hours`` after 2026-03-02 09:00Z."""
    return BASE_TIME + timedelta(days=days, hours=hours)


def iso(value: datetime) -> str:
    """``value`` in UTC as the actions write it: ISO 8601 with ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def add_activity(tenant: Tenant, *, when: datetime | None = None, **values: Any) -> uuid.UUID:
    """An interaction in ``tenant``: a Call of the tenant's client by its actor, unless ``values`` say otherwise."""
    values.setdefault("type_id", CALL_TYPE)
    values.setdefault("user_id", tenant.actor)
    values.setdefault("client_id", tenant.client)
    values.setdefault("title", "Check-in call")
    return tenant.seed.interaction(interaction_date=when or at(), **values)


def seed_activity(tenant: Tenant, **values: Any) -> uuid.UUID:
    """The activity the tagging tests tag: a "Kickoff call" with the tenant's client on 2026-03-02 15:00Z."""
    values.setdefault("title", "Kickoff call")
    return add_activity(tenant, when=at(hours=6), **values)


def target_id(tenant: Tenant, record_type: str) -> uuid.UUID:
    """The tenant's record of ``record_type`` (an activity is seeded for ``interaction``)."""
    if record_type == "interaction":
        return seed_activity(tenant)
    return getattr(tenant, record_type)
