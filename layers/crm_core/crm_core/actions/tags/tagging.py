"""Tagging, shared by crm.tag_entity and crm.tag_activity.

A tag is a ``tag_definitions`` row per (text, tagged type), applied to a record by a ``tag_mappings`` row.
Interactions are tagged with tagged type ``interaction``, and their own ``tags`` column gains the text too,
so the activity summaries of every action show it. Not an action module: it defines no ``SPEC``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from crm_core.actions.fields import ActionOutput, iso_utc
from crm_core.dal import tags as tag_store
from crm_core.dal.lookups import require_found
from crm_core.dal.tags import DefinitionOutcome
from crm_core.errors import ConflictError, PermissionDeniedError
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import PermissionNeed

TaggableType = Literal["client", "contact", "ticket", "interaction"]
IfExists = Literal["no_op", "error"]

MAX_TAG_LENGTH = 50
MAX_TAGS_PER_CALL = 100
# AlgaPSA's createTag rule: letters, digits, white space and these punctuation marks.
ALLOWED_PUNCTUATION = "-_!@#$%^&*()+=[]{};':\",./<>?"
_ALLOWED_CHARACTER = re.compile(r"[a-zA-Z0-9\s" + re.escape(ALLOWED_PUNCTUATION) + "]")
TAG_CREATE = PermissionNeed("tag", "create")

# Names used in NOT_FOUND messages; an interaction is what workflow authors call an activity.
RECORD_LABELS: dict[str, str] = {
    "client": "Client",
    "contact": "Contact",
    "ticket": "Ticket",
    "interaction": "Activity",
}


def _printable(text: str) -> str:
    """``text`` with lone surrogates (valid in a JSON string, not in UTF-8) escaped, so the message renders."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _quoted(text: str, limit: int = 80) -> str:
    shown = text if len(text) <= limit else text[:limit] + "…"
    return _printable(json.dumps(shown, ensure_ascii=False))


def clean_tag_text(value: str) -> str:
    """The tag text trimmed; a pydantic error naming the tag when it is blank, too long or has other characters."""
    text = value.strip()
    if not text:
        raise PydanticCustomError("tag_blank", "Tag {tag} is blank", {"tag": _quoted(value)})
    if len(text) > MAX_TAG_LENGTH:
        raise PydanticCustomError(
            "tag_too_long",
            "Tag {tag} has {length} characters; at most {limit} are allowed",
            {"tag": _quoted(text), "length": len(text), "limit": MAX_TAG_LENGTH},
        )
    forbidden = sorted({c for c in text if not _ALLOWED_CHARACTER.fullmatch(c)})
    if forbidden:
        raise PydanticCustomError(
            "tag_characters",
            "Tag {tag} contains characters that are not allowed ({characters}); "
            "use letters, digits, spaces and {allowed}",
            {
                "tag": _quoted(text),
                "characters": _printable(" ".join(forbidden)),
                "allowed": ALLOWED_PUNCTUATION,
            },
        )
    return text


def _distinct(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


TagText = Annotated[str, AfterValidator(clean_tag_text)]

TagList = Annotated[
    list[TagText],
    Field(
        min_length=1,
        max_length=MAX_TAGS_PER_CALL,
        description=(
            "Tags to apply. Each is trimmed and must be 1-50 characters of letters, digits, spaces and "
            f"{ALLOWED_PUNCTUATION}; duplicates are applied once. Tags are case-sensitive."
        ),
    ),
    AfterValidator(_distinct),
]

IF_EXISTS_DESCRIPTION = (
    "When a tag is already applied to the record: no_op lists it under existing_tags; error fails with CONFLICT."
)


class TaggedRecord(ActionOutput):
    """The record tags were applied to."""

    type: TaggableType
    id: uuid.UUID


class AppliedTag(ActionOutput):
    """A tag on the record: its definition and its mapping."""

    tag_id: uuid.UUID
    tag_text: str
    mapping_id: uuid.UUID


class TaggingOutput(ActionOutput):
    """What both tagging actions return."""

    target: TaggedRecord
    added_tags: list[AppliedTag]
    existing_tags: list[AppliedTag]
    added_count: int
    existing_count: int


@dataclass
class TaggingResult:
    """What one call did: the tags newly applied and those the record already had, in input order."""

    target: TaggedRecord
    added: list[AppliedTag] = field(default_factory=list)
    existing: list[AppliedTag] = field(default_factory=list)

    def output_fields(self) -> dict[str, Any]:
        """The fields of ``TaggingOutput``."""
        return {
            "target": self.target,
            "added_tags": self.added,
            "existing_tags": self.existing,
            "added_count": len(self.added),
            "existing_count": len(self.existing),
        }


def _already_tagged(target: TaggedRecord, tags: list[AppliedTag]) -> ConflictError:
    names = ", ".join(_quoted(t.tag_text) for t in tags)
    noun = "Tag" if len(tags) == 1 else "Tags"
    return ConflictError(
        f"{noun} {names} already applied to {target.type} {target.id}",
        {
            "rule": "if_exists",
            "expected": "tags not yet applied",
            "actual": "already applied",
            "tags": [t.model_dump(mode="json") for t in tags],
            "target": target.model_dump(mode="json"),
        },
    )


def _require_tag_create(ctx: ActionContext, new_texts: list[str]) -> None:
    try:
        ctx.require(TAG_CREATE)
    except PermissionDeniedError as denied:
        names = ", ".join(_quoted(t) for t in new_texts)
        raise PermissionDeniedError(
            f"{denied.message} (needed to create {names})",
            {**(denied.details or {}), "new_tags": new_texts},
        ) from None


def apply_tags(
    ctx: ActionContext,
    target_type: TaggableType,
    target_id: uuid.UUID,
    tag_texts: list[str],
    if_exists: IfExists,
) -> TaggingResult:
    """Apply ``tag_texts`` (already cleaned and distinct) to the record; queue TAG events and the audit row.

    ``{target_type}:update`` is checked by the runtime beforehand; ``tag:create`` is required here, only when
    a definition is new. With ``if_exists="error"`` an already applied tag is a ConflictError naming it.
    """
    connection, tenant = ctx.connection, ctx.tenant_id
    state = tag_store.read_tagging_state(connection, tenant, target_type, target_id, tag_texts)
    target = require_found(
        TaggedRecord(type=target_type, id=target_id) if state.target_exists else None,
        target_type,
        target_id,
        message=f"{RECORD_LABELS[target_type]} not found",
    )

    known, mapped = state.known, state.mapped
    if if_exists == "error":
        applied = [
            AppliedTag(tag_id=known[t], tag_text=t, mapping_id=mapped[known[t]])
            for t in tag_texts
            if t in known and known[t] in mapped
        ]
        if applied:
            raise _already_tagged(target, applied)
    new_texts = [t for t in tag_texts if t not in known]
    if new_texts:
        _require_tag_create(ctx, new_texts)

    definitions = {text: DefinitionOutcome(tag_id, created=False) for text, tag_id in known.items()}
    definitions.update(
        tag_store.get_or_create_definitions(connection, tenant, new_texts, target_type, created_at=ctx.now)
    )
    mappings = tag_store.get_or_create_mappings(
        connection,
        tenant,
        [definition.tag_id for definition in definitions.values()],
        target_id,
        target_type,
        created_by=ctx.actor_user_id,
        created_at=ctx.now,
    )
    applied_by_text: dict[str, tuple[AppliedTag, bool, bool]] = {}
    for text in tag_texts:
        definition = definitions[text]
        mapping = mappings[definition.tag_id]
        applied_by_text[text] = (
            AppliedTag(tag_id=definition.tag_id, tag_text=text, mapping_id=mapping.mapping_id),
            definition.created,
            mapping.created,
        )
    if if_exists == "error":
        # Applied by a concurrent call after the check above.
        raced = [tag for tag, _, mapping_created in applied_by_text.values() if not mapping_created]
        if raced:
            raise _already_tagged(target, raced)

    result = TaggingResult(target=target)
    created_definitions: list[dict[str, str]] = []
    for text in tag_texts:
        tag, definition_created, mapping_created = applied_by_text[text]
        if definition_created:
            created_definitions.append({"tag_id": str(tag.tag_id), "tag_text": text, "tagged_type": target_type})
            ctx.emit(
                "TAG_DEFINITION_CREATED",
                f"tag_definition_created:{tag.tag_id}",
                {
                    "tagId": tag.tag_id,
                    "tagName": text,
                    "createdByUserId": ctx.actor_user_id,
                    "createdAt": iso_utc(ctx.now),
                },
            )
        if mapping_created:
            result.added.append(tag)
            ctx.emit(
                "TAG_APPLIED",
                # The mapping id makes a tag removed elsewhere and applied again a new event, never a lost one.
                f"tag_applied:{target_type}:{target_id}:{tag.tag_id}:{tag.mapping_id}",
                {
                    "tagId": tag.tag_id,
                    "entityType": target_type,
                    "entityId": target_id,
                    "appliedByUserId": ctx.actor_user_id,
                    "appliedAt": iso_utc(ctx.now),
                },
            )
        else:
            result.existing.append(tag)

    changed: dict[str, object] = {
        "target": target.model_dump(mode="json"),
        "added_tags": [t.model_dump(mode="json") for t in result.added],
        "created_definitions": created_definitions,
    }
    if target_type == "interaction":
        # Every requested text, not only the new mappings: the column converges on the mappings. The row was read
        # FOR UPDATE, so a concurrent tagger of the same activity waits, then sees the texts appended here.
        appended = tag_store.appended_interaction_tags(state.current_tags, tag_texts)
        if appended:
            tag_store.set_interaction_tags(ctx.writes, tenant, target_id, [*(state.current_tags or []), *appended])
        changed["activity_tags_appended"] = appended
    ctx.audit(
        changed,
        {
            "target_type": target_type,
            "target_id": str(target_id),
            "added_count": len(result.added),
            "existing_count": len(result.existing),
        },
    )
    return result
