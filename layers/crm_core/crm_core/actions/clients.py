"""Rules about a client and its contacts that the activity and quote actions share."""

from __future__ import annotations

import uuid
from typing import Any

from crm_core.errors import guard_failed


def require_contact_of_client(
    contact_client_id: uuid.UUID | None, client_id: uuid.UUID, message: str, **details: Any
) -> None:
    """ValidationError (rule ``contact_belongs_to_client``, field ``contact_id``) unless the contact's client,
    ``contact_client_id``, is ``client_id``."""
    if contact_client_id != client_id:
        raise guard_failed(
            "contact_belongs_to_client",
            message,
            field="contact_id",
            expected=str(client_id),
            actual=None if contact_client_id is None else str(contact_client_id),
            **details,
        )
