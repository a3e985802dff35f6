"""crm.tag_entity: apply tags to a client, contact, ticket or CRM activity.

Each tag is a tag definition per (text, record type), created when new, and a mapping to the record; the rules
of tag texts, the events and the audit row are in ``crm_core.actions.tags.tagging``.
"""

from __future__ import annotations

from pydantic import Field

from crm_core.actions.fields import ActionInput, Uuid, idempotency_key_field
from crm_core.actions.tags.tagging import (
    IF_EXISTS_DESCRIPTION,
    IfExists,
    TaggableType,
    TaggingOutput,
    TagList,
    apply_tags,
)
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, PermissionNeed, action_spec


class TagTarget(ActionInput):
    """The record to tag."""

    type: TaggableType = Field(description="What to tag: a client, contact, ticket or CRM activity (interaction).")
    id: Uuid = Field(description="Id of the client, contact, ticket or activity.")


class TagEntityInput(ActionInput):
    """Tags to apply to a client, contact, ticket or CRM activity."""

    target: TagTarget = Field(description="The record the tags are applied to.")
    tags: TagList
    if_exists: IfExists = Field(default="no_op", description=IF_EXISTS_DESCRIPTION)
    idempotency_key: str | None = idempotency_key_field()


class TagEntityOutput(TaggingOutput):
    """The record tagged, the tags added and those it already had."""


def tag_entity(ctx: ActionContext, data: TagEntityInput) -> TagEntityOutput:
    """Tag the target record."""
    result = apply_tags(ctx, data.target.type, data.target.id, data.tags, data.if_exists)
    return TagEntityOutput(**result.output_fields())


SPEC = action_spec(
    tag_entity,
    label="Tag Entity",
    description=(
        "Apply tags to a client, contact, ticket or CRM activity, creating tag definitions as needed; "
        "publishes TAG_DEFINITION_CREATED and TAG_APPLIED."
    ),
    permissions=lambda data: [PermissionNeed(data.target.type, "update")],
    rehearsal_input={"target": {"type": "client", "id": REHEARSAL_ID}, "tags": ["rehearsal"]},
    effect_services=("events",),
)
