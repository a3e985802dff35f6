"""Who may do what: the actor check and the role-based permission check.

A permission is held when the actor has it through ``user_roles -> roles -> role_permissions -> permissions``
with ``permissions.msp`` and ``roles.msp`` true (AlgaPSA's MSP-side permissions).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from crm_core.db.models import Permission, Role, RolePermission, User, UserRole
from crm_core.errors import PermissionDeniedError


class PermissionNeed(NamedTuple):
    """A ``resource:action`` permission the actor must hold through an MSP role."""

    resource: str
    action: str

    def __str__(self) -> str:
        return f"{self.resource}:{self.action}"


def require_active_internal_actor(session: Session, tenant_id: uuid.UUID, actor_user_id: uuid.UUID) -> None:
    """PermissionDeniedError unless the actor is an active internal user of the tenant."""
    row = session.execute(
        select(User.user_type, User.is_inactive).where(User.tenant == tenant_id, User.user_id == actor_user_id)
    ).one_or_none()
    if row is None:
        raise PermissionDeniedError(
            "Actor is not a user of this tenant",
            {"rule": "actor_is_tenant_user", "actor_user_id": str(actor_user_id)},
        )
    if row.user_type != "internal":
        raise PermissionDeniedError(
            "Actor is not an internal (MSP) user",
            {
                "rule": "actor_is_internal",
                "expected": "internal",
                "actual": row.user_type,
                "actor_user_id": str(actor_user_id),
            },
        )
    if row.is_inactive:
        raise PermissionDeniedError(
            "Actor user is inactive",
            {"rule": "actor_is_active", "actor_user_id": str(actor_user_id)},
        )


def held_permissions(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID, needs: Iterable[PermissionNeed]
) -> set[PermissionNeed]:
    """Which of ``needs`` the user holds through an MSP role (one query, whatever the number of needs)."""
    wanted = set(needs)
    if not wanted:
        return set()
    rows = session.execute(
        select(Permission.resource, Permission.action)
        .distinct()
        .join(
            RolePermission,
            and_(
                RolePermission.tenant == Permission.tenant,
                RolePermission.permission_id == Permission.permission_id,
            ),
        )
        .join(Role, and_(Role.tenant == RolePermission.tenant, Role.role_id == RolePermission.role_id))
        .join(UserRole, and_(UserRole.tenant == Role.tenant, UserRole.role_id == Role.role_id))
        .where(
            Permission.tenant == tenant_id,
            UserRole.user_id == user_id,
            Permission.msp.is_(True),
            Role.msp.is_(True),
            or_(*(and_(Permission.resource == n.resource, Permission.action == n.action) for n in wanted)),
        )
    ).all()
    return {PermissionNeed(r.resource, r.action) for r in rows}


def require_permissions(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID, needs: Iterable[PermissionNeed]
) -> None:
    """PermissionDeniedError naming the first missing permission (in the order given), with resource and action."""
    ordered = list(dict.fromkeys(needs))
    held = held_permissions(session, tenant_id, user_id, ordered)
    for need in ordered:
        if need not in held:
            raise PermissionDeniedError(
                f"Permission denied: {need}",
                {
                    "resource": need.resource,
                    "action": need.action,
                    "missing": [str(n) for n in ordered if n not in held],
                },
            )
