"""Writes of interactions (CRM activities); their reads are the summary query in ``crm_core.dal.activities``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection

from crm_core.db.models import Interaction
from crm_core.db.prepared import insert_of


def insert_interaction(connection: Connection, tenant_id: uuid.UUID, values: dict[str, Any]) -> uuid.UUID:
    """Insert one interaction row; returns its id (generated unless ``values`` has one)."""
    interaction_id: uuid.UUID = values.get("interaction_id") or uuid.uuid4()
    row = {**values, "tenant": tenant_id, "interaction_id": interaction_id}
    insert_of(Interaction, tuple(row)).all(connection, row)
    return interaction_id
