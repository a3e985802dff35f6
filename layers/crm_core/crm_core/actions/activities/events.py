"""The domain events of activities: INTERACTION_LOGGED and INTERACTION_UPDATED, their payloads and keys.

Payloads have the fields AlgaPSA gives these events (INTERACTION_LOGGED in its workflow event schemas,
INTERACTION_UPDATED on its event bus); the runtime adds tenantId, occurredAt, actorType, actorUserId and
idempotencyKey. Optional fields are left out when empty, as AlgaPSA's event builders do.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from crm_core.actions.fields import iso_utc
from crm_core.dal.activities import ActivityRecord
from crm_core.jsonable import canonical_json
from crm_core.runtime.context import ActionContext

INTERACTION_LOGGED = "INTERACTION_LOGGED"
INTERACTION_UPDATED = "INTERACTION_UPDATED"


def interaction_channel(type_name: str | None) -> str:
    """The channel the original derives from the type name: email, phone, meeting, note or other."""
    name = (type_name or "").lower()
    if "email" in name:
        return "email"
    if "call" in name or "phone" in name:
        return "phone"
    if "meeting" in name:
        return "meeting"
    if "note" in name:
        return "note"
    return "other"


def _without_empty(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if value is not None and value != ""}


def emit_interaction_logged(
    ctx: ActionContext,
    *,
    interaction_id: uuid.UUID,
    client_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    type_id: uuid.UUID,
    type_name: str | None,
    occurred_at: datetime,
    logged_by_user_id: uuid.UUID,
    subject: str | None,
    outcome: str | None,
) -> None:
    """Queue INTERACTION_LOGGED with the key ``interaction_logged:{interaction_id}``.

    Its top-level ``occurredAt`` is the activity's scheduled start, as AlgaPSA's schedule action passes it.
    """
    interaction_type = (type_name or "").strip() or str(type_id)
    ctx.emit(
        INTERACTION_LOGGED,
        f"interaction_logged:{interaction_id}",
        _without_empty(
            {
                "interactionId": str(interaction_id),
                "clientId": str(client_id),
                "contactId": str(contact_id) if contact_id else None,
                "interactionType": interaction_type,
                "channel": interaction_channel(type_name),
                "interactionOccurredAt": iso_utc(occurred_at),
                "loggedByUserId": str(logged_by_user_id),
                "subject": subject,
                "outcome": outcome,
            }
        ),
        occurred_at=occurred_at,
    )


def interaction_updated_key(ctx: ActionContext, interaction_id: uuid.UUID, new_values: dict[str, Any]) -> str:
    """``interaction_updated:{interaction_id}:{digest}``; the digest covers the new values and the call.

    The call's own idempotency key is part of the digest so that setting the same values again later (A -> B,
    back to A, then B again) is a new event, while a retried call still yields the same key.
    """
    digest = hashlib.sha256(canonical_json({"values": new_values, "call": ctx.idempotency_key}).encode()).hexdigest()
    return f"interaction_updated:{interaction_id}:{digest[:32]}"


def emit_interaction_updated(
    ctx: ActionContext, after: ActivityRecord, changed_fields: Sequence[str], new_values: dict[str, Any]
) -> None:
    """Queue INTERACTION_UPDATED (interactionId, clientId, contactId, userId, changedFields) of the activity as
    it is ``after`` the change."""
    ctx.emit(
        INTERACTION_UPDATED,
        interaction_updated_key(ctx, after.activity_id, new_values),
        _without_empty(
            {
                "interactionId": str(after.activity_id),
                "clientId": str(after.client_id) if after.client_id else None,
                "contactId": str(after.contact_id) if after.contact_id else None,
                "userId": str(after.user_id) if after.user_id else None,
                "changedFields": list(changed_fields),
            }
        ),
    )
