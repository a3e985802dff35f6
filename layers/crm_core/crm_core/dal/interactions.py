"""Writes and type lookups of interactions (CRM activities)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm_core.db.models import Interaction, SystemInteractionType


def system_type_id(session: Session, type_name: str) -> uuid.UUID | None:
    """The id of the global interaction type named ``type_name`` (e.g. ``Note``), if seeded."""
    return session.execute(
        select(SystemInteractionType.type_id).where(SystemInteractionType.type_name == type_name)
    ).scalar_one_or_none()


def insert_interaction(session: Session, tenant_id: uuid.UUID, values: dict[str, Any]) -> uuid.UUID:
    """Insert one interaction row; returns its id (generated unless ``values`` has one)."""
    interaction_id = values.get("interaction_id") or uuid.uuid4()
    session.execute(insert(Interaction).values(**{**values, "tenant": tenant_id, "interaction_id": interaction_id}))
    return interaction_id
