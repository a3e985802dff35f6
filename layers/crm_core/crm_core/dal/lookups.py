"""The one way an action turns "no such record in this tenant" into the NotFoundError its caller sees.

DAL lookups return ``None`` when the record is not in the tenant (row-level security hides other tenants' rows,
so "not there" and "someone else's" look the same). Actions pass that result through :func:`require_found`,
which returns the record or raises NotFoundError with details ``{"resource", "id"}`` plus ``"field"`` when an
input field named the record.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from crm_core.errors import NotFoundError

T = TypeVar("T")


def require_found(
    found: T | None,
    resource: str,
    record_id: uuid.UUID,
    *,
    field: str | None = None,
    message: str | None = None,
) -> T:
    """``found`` when it is not ``None``; else NotFoundError naming ``resource``, its id and ``field``, with
    ``message`` (by default "<Resource> not found")."""
    if found is None:
        details: dict[str, str] = {"resource": resource, "id": str(record_id)}
        if field is not None:
            details["field"] = field
        raise NotFoundError(message or f"{resource.capitalize()} not found", details)
    return found
