"""Helpers for the activity action tests: seeding activities, restricted actors, reading events back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from crm_core.db.engine import tenant_session
from crm_dev.aws_resources import LocalResources
from tests.conftest import Tenant

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
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def add_activity(tenant: Tenant, *, when: datetime | None = None, **values: Any) -> uuid.UUID:
    """An interaction in ``tenant``: a Call of the tenant's client by its actor, unless ``values`` say otherwise."""
    values.setdefault("type_id", CALL_TYPE)
    values.setdefault("user_id", tenant.actor)
    values.setdefault("client_id", tenant.client)
    values.setdefault("title", "Check-in call")
    return tenant.seed.interaction(interaction_date=when or at(), **values)


def actor_with(tenant: Tenant, *grants: tuple[str, str]) -> uuid.UUID:
    """A new active internal user whose only role grants exactly ``grants``."""
    role = f"Only {uuid.uuid4().hex[:8]}"
    tenant.seed.role(role, list(grants))
    return tenant.seed.user(roles=[role], first_name="Rita", last_name="Restricted")


def published(aws: LocalResources, detail_type: str | None = None) -> list[dict[str, Any]]:
    """EventBridge events delivered since the last call (all, or those of ``detail_type``): detail-type and detail."""
    events = aws.drain_events()
    return [e for e in events if detail_type is None or e["detail-type"] == detail_type]


def outbox(engine: Engine, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """The tenant's outbox rows, oldest first."""
    with tenant_session(tenant_id, engine=engine) as session:
        rows = session.execute(
            text("select * from workflow_event_outbox where tenant = :tenant order by created_at, event_id"),
            {"tenant": tenant_id},
        ).mappings()
        return [dict(row) for row in rows]


def audit_rows(engine: Engine, tenant_id: uuid.UUID, action_id: str) -> list[dict[str, Any]]:
    with tenant_session(tenant_id, engine=engine) as session:
        rows = session.execute(
            text("select * from audit_logs where tenant = :tenant and operation = :op order by timestamp"),
            {"tenant": tenant_id, "op": f"workflow_action:{action_id}"},
        ).mappings()
        return [dict(row) for row in rows]


def activity_row(engine: Engine, tenant_id: uuid.UUID, activity_id: uuid.UUID | str) -> dict[str, Any]:
    with tenant_session(tenant_id, engine=engine) as session:
        return dict(
            session.execute(
                text("select * from interactions where tenant = :tenant and interaction_id = :id"),
                {"tenant": tenant_id, "id": uuid.UUID(str(activity_id))},
            )
            .mappings()
            .one()
        )


def execute(engine: Engine, tenant_id: uuid.UUID, sql: str, **params: Any) -> None:
    """Run one statement in the tenant (for setting up unusual data)."""
    with tenant_session(tenant_id, engine=engine) as session:
        session.execute(text(sql), {"tenant": tenant_id, **params})
