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
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ARRAY, Connection, Text, and_, any_, bindparam, literal, select, true
from sqlalchemy import Uuid as SqlUuid

from crm_core.dal.writes import StatementSink, update_row
from crm_core.db.models import Client, Contact, Interaction, TagDefinition, TagMapping, Ticket
from crm_core.db.prepared import Prepared, unnest_insert

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


@lru_cache(maxsize=len(TAGGABLE_RECORDS))
def _tagging_state_statement(record_type: str) -> Prepared:
    """The statement of :func:`read_tagging_state` for one record type; its bind parameters are ``tenant``,
    ``record_id`` and ``texts`` (an array)."""
    model, id_column = TAGGABLE_RECORDS[record_type]
    tenant, record_id = bindparam("tenant", type_=SqlUuid), bindparam("record_id", type_=SqlUuid)
    tags_column: Any = Interaction.c.tags if record_type == "interaction" else literal(None, ARRAY(Text))
    target_query = select(literal(True).label("found"), tags_column.label("tags")).where(
        model.c.tenant == tenant, id_column == record_id
    )
    if record_type == "interaction":
        target_query = target_query.with_for_update()
    target = target_query.subquery("target")
    anchor = select(literal(1).label("one")).subquery("anchor")
    definition, mapping = TagDefinition, TagMapping
    return Prepared(
        select(target.c.found, target.c.tags, definition.c.tag_text, definition.c.tag_id, mapping.c.mapping_id)
        .select_from(anchor)
        .outerjoin(target, true())
        .outerjoin(
            definition,
            and_(
                definition.c.tenant == tenant,
                definition.c.tagged_type == record_type,
                definition.c.tag_text == any_(bindparam("texts", type_=ARRAY(Text))),
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
    )


def read_tagging_state(
    connection: Connection, tenant_id: uuid.UUID, record_type: str, record_id: uuid.UUID, tag_texts: Sequence[str]
) -> TaggingState:
    """The record's existence (and an interaction's tags, locked), the requested texts' definitions for
    ``record_type`` and their mappings on the record: one statement."""
    rows = _tagging_state_statement(record_type).all(
        connection, tenant=tenant_id, record_id=record_id, texts=list(tag_texts)
    )
    first = rows[0]
    known = {row.tag_text: row.tag_id for row in rows if row.tag_id is not None}
    mapped = {row.tag_id: row.mapping_id for row in rows if row.mapping_id is not None}
    return TaggingState(bool(first.found), first.tags, known, mapped)


_FIND_DEFINITIONS = Prepared(
    select(TagDefinition.c.tag_text, TagDefinition.c.tag_id).where(
        TagDefinition.c.tenant == bindparam("tenant"),
        TagDefinition.c.tagged_type == bindparam("tagged_type"),
        TagDefinition.c.tag_text == any_(bindparam("keys", type_=ARRAY(Text))),
    )
)
_FIND_MAPPINGS = Prepared(
    select(TagMapping.c.tag_id, TagMapping.c.mapping_id).where(
        TagMapping.c.tenant == bindparam("tenant"),
        TagMapping.c.tagged_id == bindparam("tagged_id"),
        TagMapping.c.tag_id == any_(bindparam("keys", type_=ARRAY(SqlUuid))),
    )
)


def find_definitions(
    connection: Connection, tenant_id: uuid.UUID, tagged_type: str, tag_texts: Iterable[str]
) -> dict[str, uuid.UUID]:
    """``tag_text -> tag_id`` of the existing definitions among ``tag_texts`` for ``tagged_type`` (case-sensitive)."""
    wanted = list(tag_texts)
    if not wanted:
        return {}
    return dict(_FIND_DEFINITIONS.all(connection, tenant=tenant_id, tagged_type=tagged_type, keys=wanted))


def find_mappings(
    connection: Connection, tenant_id: uuid.UUID, tagged_id: uuid.UUID, tag_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """``tag_id -> mapping_id`` of the mappings of ``tagged_id`` among ``tag_ids``."""
    wanted = list(tag_ids)
    if not wanted:
        return {}
    return dict(_FIND_MAPPINGS.all(connection, tenant=tenant_id, tagged_id=tagged_id, keys=wanted))


# The inserts of new definitions and mappings: one row per element of the array parameters of their ids and
# texts (``unnest`` keeps their order), so each is one statement, the same for every call whatever the count.
_INSERT_NEW_DEFINITIONS = Prepared(
    unnest_insert(TagDefinition, ("tag_id", "tag_text"), ("tenant", "tagged_type", "created_at"))
    .on_conflict_do_nothing(index_elements=["tenant", "tag_text", "tagged_type"])
    .returning(TagDefinition.c.tag_text, TagDefinition.c.tag_id)
)
_INSERT_NEW_MAPPINGS = Prepared(
    unnest_insert(
        TagMapping, ("mapping_id", "tag_id"), ("tenant", "tagged_id", "tagged_type", "created_by", "created_at")
    )
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
    values = {
        "tenant": tenant_id,
        "tag_id": [uuid.uuid4() for _ in texts],
        "tag_text": texts,
        "tagged_type": tagged_type,
        "created_at": created_at,
    }
    return _insert_or_find(
        connection,
        texts,
        values,
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
    values = {
        "tenant": tenant_id,
        "mapping_id": [uuid.uuid4() for _ in ids],
        "tag_id": ids,
        "tagged_id": tagged_id,
        "tagged_type": tagged_type,
        "created_by": created_by,
        "created_at": created_at,
    }
    return _insert_or_find(
        connection,
        ids,
        values,
        _INSERT_NEW_MAPPINGS,
        find_existing=lambda missing: find_mappings(connection, tenant_id, tagged_id, missing),
        outcome=MappingOutcome,
    )


def _insert_or_find(
    connection: Connection,
    keys: list[KeyT],
    values: dict[str, Any],
    insert_skipping_existing: Prepared,
    *,
    find_existing: Callable[[list[KeyT]], dict[KeyT, uuid.UUID]],
    outcome: Callable[[uuid.UUID, bool], OutcomeT],
) -> dict[KeyT, OutcomeT]:
    """``key -> outcome(id, created)`` for each of ``keys``: the rows the insert (``ON CONFLICT DO NOTHING
    RETURNING key, id``, one row per element of the arrays in ``values``) created, then the ones it skipped, read
    by ``find_existing`` only when there are."""
    created = dict(insert_skipping_existing.all(connection, values))
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
    update_row(connection, Interaction, {"tenant": tenant_id, "interaction_id": interaction_id}, {"tags": tags})
