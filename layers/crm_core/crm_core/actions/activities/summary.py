"""The activity summary: the same shape in every activity action's output, built from one summary query row."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import Field

from crm_core.actions.fields import ActionOutput, UtcDateTime
from crm_core.dal.activities import ActivityRecord
from crm_core.dal.records import user_display_name

NOTES_PREVIEW_CHARS = 180
ELLIPSIS = "…"


class ActivitySummary(ActionOutput):
    """One CRM activity (an ``interactions`` row) with the names of what it refers to."""

    activity_id: uuid.UUID
    type_id: uuid.UUID
    type_name: str | None = Field(description="The tenant type's name, else the system type's name.")
    status_id: uuid.UUID | None
    status_name: str | None
    client_id: uuid.UUID | None
    client_name: str | None
    contact_id: uuid.UUID | None
    contact_name: str | None
    ticket_id: uuid.UUID | None
    ticket_number: str | None
    title: str | None
    notes_preview: str | None = Field(
        description=f"The notes with white space collapsed, cut at {NOTES_PREVIEW_CHARS} characters plus '…'."
    )
    interaction_date: UtcDateTime
    start_time: UtcDateTime | None
    end_time: UtcDateTime | None
    duration: int | None = Field(description="Minutes.")
    user_id: uuid.UUID
    user_name: str | None
    visibility: str
    category: str | None
    tags: list[str]


def notes_preview(notes: str | None, *, more_follows: bool = False) -> str | None:
    """White space collapsed, cut at 180 characters plus "…"; ``None`` when there is no text.

    ``more_follows`` says ``notes`` is only the head of a longer text (list queries read only the head).
    """
    if notes is None:
        return None
    collapsed = " ".join(notes.split())
    if not collapsed:
        return None
    if len(collapsed) > NOTES_PREVIEW_CHARS:
        return collapsed[:NOTES_PREVIEW_CHARS] + ELLIPSIS
    return collapsed + ELLIPSIS if more_follows else collapsed


def parse_tags(value: Any) -> list[str]:
    """Tags stored as text[], as a JSON array text, or as one plain string, as a list of strings."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(tag) for tag in value if tag is not None and str(tag) != ""]
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                return [text]
            if isinstance(parsed, list):
                return [str(tag) for tag in parsed if tag is not None and str(tag) != ""]
        return [text]
    return [str(value)]


# The summary fields the query row holds as they are shown; the others are derived from the row below.
_DERIVED = ("notes_preview", "user_name", "tags")
_COPIED = tuple(name for name in ActivitySummary.model_fields if name not in _DERIVED)


def activity_summary(row: ActivityRecord) -> ActivitySummary:
    """The summary of one row of the activity summary query (``crm_core.dal.activities``)."""
    return ActivitySummary(
        **{name: getattr(row, name) for name in _COPIED},
        notes_preview=notes_preview(row.notes, more_follows=bool(row.notes_truncated)),
        user_name=user_display_name(row.user_first_name, row.user_last_name, row.user_email),
        tags=parse_tags(row.tags),
    )
