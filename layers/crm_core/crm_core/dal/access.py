"""Who may do what: the rules of the actor check and the role-based permission check.

A permission is held when the actor has it through ``user_roles -> roles -> role_permissions -> permissions``
with ``permissions.msp`` and ``roles.msp`` true (AlgaPSA's MSP-side permissions). The facts are read by
``crm_open_call`` (:func:`crm_core.dal.calls.open_call`) in the call's first statement; these functions judge
them, with no query of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Set
from typing import NamedTuple

from crm_core.errors import PermissionDeniedError


class PermissionNeed(NamedTuple):
    """A ``resource:action`` permission the actor must hold through an MSP role."""

    resource: str
    action: str

    def __str__(self) -> str:
        return f"{self.resource}:{self.action}"


class Actor(NamedTuple):
    """The acting user as the tenant knows it: whether it exists, its type, whether it is inactive."""

    user_id: uuid.UUID
    found: bool
    user_type: str | None
    inactive: bool | None


def require_active_internal_actor(actor: Actor) -> None:
    """PermissionDeniedError unless the actor is an active internal user of the tenant."""
    if not actor.found:
        raise PermissionDeniedError(
            "Actor is not a user of this tenant",
            {"rule": "actor_is_tenant_user", "actor_user_id": str(actor.user_id)},
        )
    if actor.user_type != "internal":
        raise PermissionDeniedError(
            "Actor is not an internal (MSP) user",
            {
                "rule": "actor_is_internal",
                "expected": "internal",
                "actual": actor.user_type,
                "actor_user_id": str(actor.user_id),
            },
        )
    if actor.inactive:
        raise PermissionDeniedError(
            "Actor user is inactive",
            {"rule": "actor_is_active", "actor_user_id": str(actor.user_id)},
        )


def require_permissions(held: Set[PermissionNeed], needs: Iterable[PermissionNeed]) -> None:
    """PermissionDeniedError naming the first missing permission (in the order given), with resource and action."""
    ordered = list(dict.fromkeys(needs))
    missing = [need for need in ordered if need not in held]
    if missing:
        need = missing[0]
        raise PermissionDeniedError(
            f"Permission denied: {need}",
            {"resource": need.resource, "action": need.action, "missing": [str(n) for n in missing]},
        )
