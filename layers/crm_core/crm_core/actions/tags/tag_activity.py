"""crm.tag_activity: apply tags to a CRM activity; crm.tag_entity with the activity as target.

Both run ``crm_core.actions.tags.tagging.apply_tags``, this one with the tagged type ``interaction``.
"""

from __future__ import annotations

import uuid

from pydantic import Field

from crm_core.actions.fields import ActionInput, Uuid, idempotency_key_field
from crm_core.actions.tags.tagging import IF_EXISTS_DESCRIPTION, IfExists, TaggingOutput, TagList, apply_tags
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires


class TagActivityInput(ActionInput):
    """Tags to apply to one CRM activity."""

    activity_id: Uuid = Field(description="Id of the CRM activity (interaction) to tag.")
    tags: TagList
    if_exists: IfExists = Field(default="no_op", description=IF_EXISTS_DESCRIPTION)
    idempotency_key: str | None = idempotency_key_field()


class TagActivityOutput(TaggingOutput):
    """The activity tagged, the tags added and those it already had."""

    activity_id: uuid.UUID


def tag_activity(ctx: ActionContext, data: TagActivityInput) -> TagActivityOutput:
    """Tag the activity itself (tagged type ``interaction``)."""
    result = apply_tags(ctx, "interaction", data.activity_id, data.tags, data.if_exists)
    return TagActivityOutput(activity_id=data.activity_id, **result.output_fields())


SPEC = action_spec(
    tag_activity,
    label="Tag CRM Activity",
    description=(
        "Apply tags to a CRM activity: stored on the activity and as tag mappings, creating tag definitions "
        "as needed; publishes TAG_DEFINITION_CREATED and TAG_APPLIED."
    ),
    permissions=requires("interaction:update"),
    rehearsal_input={"activity_id": REHEARSAL_ID, "tags": ["rehearsal"]},
    effect_services=("events",),
)
