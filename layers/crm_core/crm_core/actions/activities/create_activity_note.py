"""crm.create_activity_note: log a note on a client, contact, ticket or project, as an activity of type Note.

The note is an ``interactions`` row of the system interaction type Note, linked to the target and to the
target's client (and, for a ticket, its contact); the output summarises the target.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from crm_core.actions.fields import ActionInput, ActionOutput, FreeTextTags, NonBlankText, UtcDateTime, Uuid
from crm_core.dal import records
from crm_core.dal.interaction_types import system_type_id
from crm_core.dal.interactions import insert_interaction
from crm_core.dal.lookups import require_found
from crm_core.errors import InternalError, guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, PermissionNeed, action_spec

TargetType = Literal["client", "contact", "ticket", "project"]


class NoteTarget(ActionInput):
    """The record a note is attached to."""

    type: TargetType = Field(description="What the note is about.")
    id: Uuid = Field(description="Id of the client, contact, ticket or project.")


class CreateActivityNoteInput(ActionInput):
    """Log a note as a CRM activity on a client, contact, ticket or project."""

    target: NoteTarget = Field(description="The record the note is attached to.")
    body: NonBlankText = Field(min_length=1, description="The note text.")
    visibility: Literal["internal", "client_visible"] = Field(
        default="internal", description="Who sees the note: internal staff only, or the client too."
    )
    tags: FreeTextTags | None = Field(default=None, description="Free-text tags stored on the activity.")
    category: str | None = Field(default=None, description="Category; also the activity title (default 'Note').")


class CreateActivityNoteOutput(ActionOutput):
    """The note created and a summary of the record it is attached to."""

    note_id: uuid.UUID
    created_at: UtcDateTime
    target_type: TargetType
    target_id: uuid.UUID
    target_summary: dict[str, Any] | None


def _load_target(ctx: ActionContext, target: NoteTarget) -> tuple[dict[str, Any], dict[str, Any]]:
    """The interaction's foreign keys and the target summary; NotFoundError when not in the tenant."""
    return require_found(_target_links(ctx, target), target.type, target.id)


# Per target type: its query and record, the interaction's foreign keys and the target summary, each as
# ``name -> attribute of the record``.
_TARGETS: dict[
    str, tuple[Callable[[uuid.UUID, uuid.UUID], Any], Callable[..., object], dict[str, str], dict[str, str]]
] = {
    "client": (
        records.client_query,
        records.ClientRecord,
        {"client_id": "client_id"},
        {"client_id": "client_id", "client_name": "client_name"},
    ),
    "contact": (
        records.contact_query,
        records.ContactRecord,
        {"contact_name_id": "contact_name_id", "client_id": "client_id"},
        {"contact_id": "contact_name_id", "full_name": "full_name", "email": "email", "client_id": "client_id"},
    ),
    "ticket": (
        records.ticket_query,
        records.TicketRecord,
        {"ticket_id": "ticket_id", "client_id": "client_id", "contact_name_id": "contact_name_id"},
        {"ticket_id": "ticket_id", "ticket_number": "ticket_number", "title": "title", "client_id": "client_id"},
    ),
    "project": (
        records.project_query,
        records.ProjectRecord,
        {"project_id": "project_id", "client_id": "client_id"},
        {"project_id": "project_id", "project_name": "project_name", "client_id": "client_id"},
    ),
}


def _target_links(ctx: ActionContext, target: NoteTarget) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The interaction's foreign keys and the target summary; ``None`` when the target is not in the tenant."""
    query, make_record, foreign_keys, summary = _TARGETS[target.type]
    record = records.get_record(ctx.connection, query, make_record, ctx.tenant_id, target.id)
    if record is None:
        return None
    return (
        {name: getattr(record, attribute) for name, attribute in foreign_keys.items()},
        {name: getattr(record, attribute) for name, attribute in summary.items()},
    )


def create_activity_note(ctx: ActionContext, data: CreateActivityNoteInput) -> CreateActivityNoteOutput:
    """Insert the note as an interaction of system type Note; NOT_FOUND when the target is not in the tenant."""
    if data.visibility == "client_visible" and data.target.type == "project":
        raise guard_failed(
            "client_visible_not_for_projects",
            "client_visible notes are not supported for project targets",
            field="visibility",
            expected="internal",
            actual="client_visible",
            target_type="project",
        )
    foreign_keys, summary = _load_target(ctx, data.target)
    note_type_id = system_type_id(ctx.connection, "Note")
    if note_type_id is None:
        raise InternalError(
            "System interaction type Note missing", {"setup": "system_interaction_types", "type_name": "Note"}
        )
    note_id = insert_interaction(
        ctx.connection,
        ctx.tenant_id,
        {
            **foreign_keys,
            "type_id": note_type_id,
            "user_id": ctx.actor_user_id,
            "title": data.category or "Note",
            "notes": data.body,
            "interaction_date": ctx.now,
            "start_time": ctx.now,
            "end_time": ctx.now,
            "duration": 0,
            "status_id": None,
            "visibility": data.visibility,
            "category": data.category,
            "tags": data.tags,
        },
    )
    ctx.audit(
        {"interaction_id": note_id, "target": data.target.model_dump(mode="json")},
        {"note_id": note_id},
    )
    return CreateActivityNoteOutput(
        note_id=note_id,
        created_at=ctx.now,
        target_type=data.target.type,
        target_id=data.target.id,
        target_summary=summary,
    )


SPEC = action_spec(
    create_activity_note,
    label="Create Activity Note",
    description="Log a note as a CRM activity on a client, contact, ticket or project.",
    permissions=lambda data: [PermissionNeed(data.target.type, "update")],
    rehearsal_input={"target": {"type": "client", "id": REHEARSAL_ID}, "body": "Rehearsal"},
    effect_services=("events",),
)
