"""Tag definitions, tag mappings and the tag texts stored on interactions.

The writes are safe under concurrency without explicit locks: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``
either creates a row or, when another transaction holds or has committed the same unique values, skips it;
under READ COMMITTED the insert first waits for that transaction to finish, so the ``SELECT`` that follows
sees its committed row. Two calls adding the same new tag therefore end with one definition and one mapping,
and neither sees a unique violation. Each batch costs two statements, whatever the number of tags.
The batch writes return, per tag, a :class:`DefinitionOutcome` or :class:`MappingOutcome`: the id and whether
this call created the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ARRAY, Column, ColumnElement, Connection, Text, and_, literal, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import ReturningInsert

from crm_core.dal.writes import StatementSink
from crm_core.db.models import Client, Contact, Interaction, TagDefinition, TagMapping, Ticket

KeyT = TypeVar("KeyT", str, uuid.UUID)
OutcomeT = TypeVar("OutcomeT")

# The records tags can be applied to, by tagged type: (model, id column).
TAGGABLE_RECORDS: dict[str, tuple[Any, Any]] = {
    "client": (Client, Client.c.client_id),
    "contact": (Contact, Contact.c.contact_name_id),
    "ticket": (Ticket, Ticket.c.ticket_id),
    "interaction": (Interaction, Interaction.c.interaction_id),
}


class DefinitionOutcome(NamedTuple):
    """A tag definition's id, and whether this call created it (else it existed already)."""

    tag_id: uuid.UUID
    created: bool


class MappingOutcome(NamedTuple):
    """A tag mapping's id, and whether this call created it (else the tag was already applied)."""

    mapping_id: uuid.UUID
    created: bool


@dataclass(frozen=True)
class TaggingState:
    """What tagging a record starts from, read in one statement.

    ``current_tags`` is an interaction's ``tags`` column, read ``FOR UPDATE`` (None for other records, or when
    the column is NULL); ``known`` maps requested texts to their existing definitions; ``mapped`` maps those
    definitions to their mappings on the record.
    """

    target_exists: bool
    current_tags: list[str] | None
    known: dict[str, uuid.UUID]
    mapped: dict[uuid.UUID, uuid.UUID]


def read_tagging_state(
    connection: Connection, tenant_id: uuid.UUID, record_type: str, record_id: uuid.UUID, tag_texts: Sequence[str]
) -> TaggingState:
    """The record's existence (and an interaction's tags, locked), the requested texts' definitions for
    ``record_type`` and their mappings on the record: one statement."""
    model, id_column = TAGGABLE_RECORDS[record_type]
    tags_column: Any = Interaction.c.tags if record_type == "interaction" else literal(None, ARRAY(Text))
    target_query = select(literal(True).label("found"), tags_column.label("tags")).where(
        model.c.tenant == tenant_id, id_column == record_id
    )
    if record_type == "interaction":
        target_query = target_query.with_for_update()
    target = target_query.subquery("target")
    anchor = select(literal(1).label("one")).subquery("anchor")
    definition, mapping = TagDefinition, TagMapping
    rows = connection.execute(
        select(target.c.found, target.c.tags, definition.c.tag_text, definition.c.tag_id, mapping.c.mapping_id)
        .select_from(anchor)
        .outerjoin(target, true())
        .outerjoin(
            definition,
            and_(
                definition.c.tenant == tenant_id,
                definition.c.tagged_type == record_type,
                definition.c.tag_text.in_(list(tag_texts)),
            ),
        )
        .outerjoin(
            mapping,
            and_(
                mapping.c.tenant == definition.c.tenant,
                mapping.c.tag_id == definition.c.tag_id,
                mapping.c.tagged_id == record_id,
            ),
        )
    ).all()
    first = rows[0]
    known = {row.tag_text: row.tag_id for row in rows if row.tag_id is not None}
    mapped = {row.tag_id: row.mapping_id for row in rows if row.mapping_id is not None}
    return TaggingState(bool(first.found), first.tags, known, mapped)


def find_definitions(
    connection: Connection, tenant_id: uuid.UUID, tagged_type: str, tag_texts: Iterable[str]
) -> dict[str, uuid.UUID]:
    """``tag_text -> tag_id`` of the existing definitions among ``tag_texts`` for ``tagged_type`` (case-sensitive)."""
    return _ids_by_key(
        connection,
        (TagDefinition.c.tag_text, TagDefinition.c.tag_id),
        tag_texts,
        TagDefinition.c.tenant == tenant_id,
        TagDefinition.c.tagged_type == tagged_type,
    )


def find_mappings(
    connection: Connection, tenant_id: uuid.UUID, tagged_id: uuid.UUID, tag_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """``tag_id -> mapping_id`` of the mappings of ``tagged_id`` among ``tag_ids``."""
    return _ids_by_key(
        connection,
        (TagMapping.c.tag_id, TagMapping.c.mapping_id),
        tag_ids,
        TagMapping.c.tenant == tenant_id,
        TagMapping.c.tagged_id == tagged_id,
    )


def _ids_by_key(
    connection: Connection,
    key_and_id: tuple[Column[KeyT], Column[uuid.UUID]],
    keys: Iterable[KeyT],
    *conditions: ColumnElement[bool],
) -> dict[KeyT, uuid.UUID]:
    """``key -> id`` of the rows meeting ``conditions`` whose key is one of ``keys``; no statement for no keys."""
    wanted = list(keys)
    if not wanted:
        return {}
    key_column, id_column = key_and_id
    return dict(connection.execute(select(key_column, id_column).where(*conditions, key_column.in_(wanted))).all())


# The inserts of new definitions and mappings: their rows are executemany parameters, so each statement is the
# same for every call and is built once.
_INSERT_NEW_DEFINITIONS = (
    insert(TagDefinition)
    .on_conflict_do_nothing(index_elements=["tenant", "tag_text", "tagged_type"])
    .returning(TagDefinition.c.tag_text, TagDefinition.c.tag_id)
)
_INSERT_NEW_MAPPINGS = (
    insert(TagMapping)
    .on_conflict_do_nothing(index_elements=["tenant", "tag_id", "tagged_id"])
    .returning(TagMapping.c.tag_id, TagMapping.c.mapping_id)
)


def get_or_create_definitions(
    connection: Connection, tenant_id: uuid.UUID, tag_texts: Sequence[str], tagged_type: str, *, created_at: datetime
) -> dict[str, DefinitionOutcome]:
    """``tag_text -> (tag_id, created)`` for each of ``tag_texts`` and ``tagged_type``; new ones without colours.

    Two statements whatever the number of tags: one multi-row insert (rows in text order, so concurrent calls
    lock in the same order and cannot deadlock) and one select of the rows other transactions created.
    """
    texts = sorted(set(tag_texts))
    if not texts:
        return {}
    rows = [
        {
            "tenant": tenant_id,
            "tag_id": uuid.uuid4(),
            "tag_text": text,
            "tagged_type": tagged_type,
            "created_at": created_at,
        }
        for text in texts
    ]
    return _insert_or_find(
        connection,
        texts,
        rows,
        _INSERT_NEW_DEFINITIONS,
        find_existing=lambda missing: find_definitions(connection, tenant_id, tagged_type, missing),
        outcome=DefinitionOutcome,
    )


def get_or_create_mappings(
    connection: Connection,
    tenant_id: uuid.UUID,
    tag_ids: Sequence[uuid.UUID],
    tagged_id: uuid.UUID,
    tagged_type: str,
    *,
    created_by: uuid.UUID,
    created_at: datetime,
) -> dict[uuid.UUID, MappingOutcome]:
    """``tag_id -> (mapping_id, created)`` of each of ``tag_ids`` on ``tagged_id`` (two statements, as above)."""
    ids = sorted(set(tag_ids))
    if not ids:
        return {}
    rows = [
        {
            "tenant": tenant_id,
            "mapping_id": uuid.uuid4(),
            "tag_id": tag_id,
            "tagged_id": tagged_id,
            "tagged_type": tagged_type,
            "created_by": created_by,
            "created_at": created_at,
        }
        for tag_id in ids
    ]
    return _insert_or_find(
        connection,
        ids,
        rows,
        _INSERT_NEW_MAPPINGS,
        find_existing=lambda missing: find_mappings(connection, tenant_id, tagged_id, missing),
        outcome=MappingOutcome,
    )


def _insert_or_find(
    connection: Connection,
    keys: list[KeyT],
    rows: list[dict[str, Any]],
    insert_skipping_existing: ReturningInsert[KeyT, uuid.UUID],
    *,
    find_existing: Callable[[list[KeyT]], dict[KeyT, uuid.UUID]],
    outcome: Callable[[uuid.UUID, bool], OutcomeT],
) -> dict[KeyT, OutcomeT]:
    """``key -> outcome(id, created)`` for each of ``keys``: the ``rows`` the insert (``ON CONFLICT DO NOTHING
    RETURNING key, id``) created, then the ones it skipped, read by ``find_existing`` only when there are.

    The rows go as an executemany, which SQLAlchemy sends as one multi-row INSERT ("insertmanyvalues") from one
    cached compilation (``.values(rows)`` would compile a new statement on every call)."""
    created = dict(connection.execute(insert_skipping_existing, rows).all())
    found = {key: outcome(row_id, True) for key, row_id in created.items()}
    missing = [key for key in keys if key not in created]
    if missing:
        found.update({key: outcome(row_id, False) for key, row_id in find_existing(missing).items()})
    return found


def appended_interaction_tags(current: Sequence[str] | None, tag_texts: Sequence[str]) -> list[str]:
    """The texts of ``tag_texts`` missing from an interaction's ``current`` tags, in order, each once."""
    present = set(current or [])
    return [text for text in dict.fromkeys(tag_texts) if text not in present]


def set_interaction_tags(
    connection: StatementSink, tenant_id: uuid.UUID, interaction_id: uuid.UUID, tags: list[str]
) -> None:
    """Store ``tags`` as the interaction's ``tags`` column."""
    connection.execute(
        update(Interaction)
        .where(Interaction.c.tenant == tenant_id, Interaction.c.interaction_id == interaction_id)
        .values(tags=tags)
    )
