"""crm.create_interaction_type: define a tenant activity type (e.g. "Site Visit"), or reuse the one that exists.

Names are compared trimmed, with runs of white space collapsed and ignoring case, among the tenant's own types
(system types such as Call are not considered, as in AlgaPSA, where a tenant type may refine a system one).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from crm_core.actions.fields import ActionInput, ActionOutput, idempotency_key_field
from crm_core.dal import interaction_types
from crm_core.errors import ConflictError
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import action_spec, requires

TypeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class CreateInteractionTypeInput(ActionInput):
    """Define a tenant activity type such as QBR or Site Visit."""

    type_name: TypeName = Field(description="The type's name (trimmed, 1-120 characters).")
    icon: str | None = Field(default=None, max_length=120, description="Icon token, e.g. map-pin.")
    display_order: int | None = Field(
        default=None, ge=0, description="Position in type lists; default: after the last of the tenant's types."
    )
    if_exists: Literal["return_existing", "error"] = Field(
        default="return_existing",
        description="When the tenant already has a type of that name: return it (created=false) or fail (CONFLICT).",
    )
    idempotency_key: str | None = idempotency_key_field()


class InteractionTypeResult(ActionOutput):
    """The activity type, and whether this call created it."""

    type_id: uuid.UUID
    type_name: str
    icon: str | None
    display_order: int | None
    created_by: uuid.UUID | None
    created: bool = Field(description="False when an existing type of the same name was returned.")


class CreateInteractionTypeOutput(ActionOutput):
    """The created (or existing) activity type."""

    interaction_type: InteractionTypeResult


def normalized_type_name(name: str) -> str:
    """Trimmed, runs of white space collapsed, lowercased: how type names are compared."""
    return " ".join(name.split()).lower()


def create_interaction_type(ctx: ActionContext, data: CreateInteractionTypeInput) -> CreateInteractionTypeOutput:
    """Create the type, or return the tenant type with the same normalised name (``if_exists``)."""
    connection, tenant = ctx.connection, ctx.tenant_id
    interaction_types.lock_interaction_types(connection, tenant)
    existing = interaction_types.find_tenant_type_by_name(connection, tenant, normalized_type_name(data.type_name))
    if existing is not None:
        if data.if_exists == "error":
            raise ConflictError(
                f"An interaction type named '{existing.type_name}' already exists",
                {
                    "rule": "type_name_unique",
                    "field": "type_name",
                    "expected": "a name no other type of this tenant has (ignoring case and spacing)",
                    "actual": data.type_name,
                    "existing_type_id": str(existing.type_id),
                    "existing_type_name": existing.type_name,
                },
            )
        return CreateInteractionTypeOutput(interaction_type=InteractionTypeResult(**existing._asdict(), created=False))

    if data.display_order is None:
        display_order = interaction_types.next_display_order(connection, tenant)
    else:
        display_order = data.display_order
        taken = interaction_types.tenant_type_at_display_order(connection, tenant, display_order)
        if taken is not None:
            raise ConflictError(
                f"display_order {display_order} is already used by the type '{taken.type_name}'",
                {
                    "rule": "display_order_unique",
                    "field": "display_order",
                    "expected": "a display_order no other type of this tenant has",
                    "actual": display_order,
                    "existing_type_id": str(taken.type_id),
                    "existing_type_name": taken.type_name,
                },
            )
    created = interaction_types.insert_interaction_type(
        connection,
        tenant,
        {
            "type_name": data.type_name,
            "icon": data.icon,
            "display_order": display_order,
            "created_by": ctx.actor_user_id,
        },
    )
    ctx.audit(
        {
            "type_id": created.type_id,
            "type_name": created.type_name,
            "icon": created.icon,
            "display_order": created.display_order,
        },
        {"type_id": created.type_id},
    )
    return CreateInteractionTypeOutput(interaction_type=InteractionTypeResult(**created._asdict(), created=True))


SPEC = action_spec(
    create_interaction_type,
    label="Create Activity Type",
    description="Create a tenant activity type (e.g. Site Visit), or return the existing one of the same name.",
    permissions=requires("settings:update"),
    rehearsal_input={"type_name": "Rehearsal"},
)
