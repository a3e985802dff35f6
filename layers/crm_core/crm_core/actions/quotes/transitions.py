"""Quote status rules: which status may follow which, which quotes may be edited or revised, and expiry on access.

These are pure functions of their arguments (no database, no clock): every quote action asks this module, so
the reference's ``QUOTE_ALLOWED_STATUS_TRANSITIONS`` table lives in exactly one place.

- A same-status "transition" is always allowed (updating a quote without changing its status).
- A null status (a quote template) counts as ``draft``.
- ``sent`` quotes whose ``valid_until`` lies before the start of today (UTC) are expired on access.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from types import MappingProxyType
from typing import Any

from crm_core.db.models.quotes import QUOTE_STATUSES
from crm_core.errors import guard_failed

__all__ = [
    "ALLOWED_TRANSITIONS",
    "EDITABLE_STATUSES",
    "QUOTE_STATUSES",
    "REVISABLE_QUOTE_STATUSES",
    "allowed_next_statuses",
    "can_transition",
    "is_expired_on_access",
    "require_status",
    "require_transition",
]

# The status a template (status null) is treated as.
NULL_STATUS_MEANS = "draft"

# AlgaPSA's QUOTE_ALLOWED_STATUS_TRANSITIONS. Every status is a key; terminal ones map to nothing.
ALLOWED_TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "draft": frozenset({"pending_approval", "sent", "cancelled"}),
        "pending_approval": frozenset({"approved", "draft", "cancelled"}),
        "approved": frozenset({"sent", "cancelled"}),
        "sent": frozenset({"accepted", "rejected", "expired", "cancelled"}),
        "accepted": frozenset({"converted", "cancelled"}),
        "rejected": frozenset({"cancelled"}),
        "expired": frozenset({"cancelled"}),
        "converted": frozenset(),
        "cancelled": frozenset(),
        "superseded": frozenset(),
        "archived": frozenset(),
    }
)

# Items and quote fields may change only while the quote is a draft (or a template, whose status is null).
EDITABLE_STATUSES: frozenset[str | None] = frozenset({"draft", None})

# Statuses from which a new version (revision) of a quote may be made.
REVISABLE_QUOTE_STATUSES: frozenset[str] = frozenset({"sent", "rejected", "expired", "cancelled", "accepted"})


def _effective_status(status: str | None) -> str:
    """The status the rules see: null (a template) counts as draft."""
    return NULL_STATUS_MEANS if status is None else status


def allowed_next_statuses(current: str | None) -> frozenset[str]:
    """The statuses ``current`` may move to (not counting itself); empty for terminal or unknown statuses."""
    return ALLOWED_TRANSITIONS.get(_effective_status(current), frozenset())


def can_transition(current: str | None, target: str) -> bool:
    """Whether a quote in status ``current`` may be given status ``target``.

    Staying in the same status is always allowed; an unknown target never is.
    """
    if target not in ALLOWED_TRANSITIONS:
        return False
    effective = _effective_status(current)
    return effective == target or target in allowed_next_statuses(effective)


def require_transition(current: str | None, target: str) -> None:
    """Raise a ValidationError (rule ``quote_status_transition``) unless ``current`` may become ``target``."""
    if can_transition(current, target):
        return
    raise guard_failed(
        rule="quote_status_transition",
        message=f"Quote status cannot change from {_effective_status(current)} to {target}",
        field="status",
        expected=sorted(allowed_next_statuses(current)),
        actual=current,
        target=target,
    )


def require_status(status: str | None, allowed: Sequence[str], rule: str, message: str, **details: Any) -> None:
    """ValidationError (rule ``rule``, field ``status``, expected ``allowed``) unless ``status`` is one of
    ``allowed``: the guard of an action that only acts on quotes in those statuses."""
    if status not in allowed:
        raise guard_failed(rule, message, field="status", expected=list(allowed), actual=status, **details)


def is_expired_on_access(status: str | None, valid_until: datetime | None, now: datetime) -> bool:
    """Whether loading this quote must turn it from ``sent`` into ``expired``.

    True when the status is ``sent`` and ``valid_until`` is before the start of ``now``'s day in UTC: a quote
    valid until some time today is still valid all of today. Both datetimes must be timezone-aware, because a
    naive value has no defined UTC day and comparing it would silently depend on the server's zone.
    """
    _require_aware(now, "now")
    if status != "sent" or valid_until is None:
        return False
    _require_aware(valid_until, "valid_until")
    start_of_today = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return valid_until < start_of_today


def _require_aware(value: datetime, name: str) -> None:
    """ValueError for a naive datetime (a programming error, not bad input)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
