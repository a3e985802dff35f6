"""Tag definitions, tag mappings and the tag texts stored on interactions.

The writes are safe under concurrency without explicit locks: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``
either creates the row or, when another transaction holds or has committed the same unique values, yields
nothing; under READ COMMITTED the insert first waits for that transaction to finish, so the ``SELECT`` that
follows sees its committed row. Two calls adding the same new tag therefore end with one definition and one
mapping, and neither sees a unique violation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, func, literal, select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.orm import Session

from crm_core.db.models import Client, Contact, Interaction, TagDefinition, TagMapping, Ticket

# The records tags can be applied to, by tagged type: (model, id column).
TAGGABLE_RECORDS: dict[str, tuple[Any, Any]] = {
    "client": (Client, Client.client_id),
    "contact": (Contact, Contact.contact_name_id),
    "ticket": (Ticket, Ticket.ticket_id),
    "interaction": (Interaction, Interaction.interaction_id),
}


def taggable_record_exists(session: Session, tenant_id: uuid.UUID, record_type: str, record_id: uuid.UUID) -> bool:
    """Whether the client, contact, ticket or interaction ``record_id`` is in the tenant."""
    model, id_column = TAGGABLE_RECORDS[record_type]
    found = session.execute(
        select(literal(1)).select_from(model).where(model.tenant == tenant_id, id_column == record_id)
    ).first()
    return found is not None


def find_definitions(
    session: Session, tenant_id: uuid.UUID, tagged_type: str, tag_texts: Iterable[str]
) -> dict[str, uuid.UUID]:
    """``tag_text -> tag_id`` of the existing definitions among ``tag_texts`` for ``tagged_type`` (case-sensitive)."""
    texts = list(tag_texts)
    if not texts:
        return {}
    rows = session.execute(
        select(TagDefinition.tag_text, TagDefinition.tag_id).where(
            TagDefinition.tenant == tenant_id,
            TagDefinition.tagged_type == tagged_type,
            TagDefinition.tag_text.in_(texts),
        )
    ).all()
    return {row.tag_text: row.tag_id for row in rows}


def find_mappings(
    session: Session, tenant_id: uuid.UUID, tagged_id: uuid.UUID, tag_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """``tag_id -> mapping_id`` of the mappings of ``tagged_id`` among ``tag_ids``."""
    ids = list(tag_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(TagMapping.tag_id, TagMapping.mapping_id).where(
            TagMapping.tenant == tenant_id,
            TagMapping.tagged_id == tagged_id,
            TagMapping.tag_id.in_(ids),
        )
    ).all()
    return {row.tag_id: row.mapping_id for row in rows}


def get_or_create_definition(
    session: Session, tenant_id: uuid.UUID, tag_text: str, tagged_type: str, *, created_at: datetime
) -> tuple[uuid.UUID, bool]:
    """The definition of (``tag_text``, ``tagged_type``): ``(tag_id, created)``; created without colours."""
    created_id = session.execute(
        insert(TagDefinition)
        .values(
            tenant=tenant_id,
            tag_id=uuid.uuid4(),
            tag_text=tag_text,
            tagged_type=tagged_type,
            created_at=created_at,
        )
        .on_conflict_do_nothing(index_elements=["tenant", "tag_text", "tagged_type"])
        .returning(TagDefinition.tag_id)
    ).scalar_one_or_none()
    if created_id is not None:
        return created_id, True
    existing_id: uuid.UUID = session.execute(
        select(TagDefinition.tag_id).where(
            TagDefinition.tenant == tenant_id,
            TagDefinition.tag_text == tag_text,
            TagDefinition.tagged_type == tagged_type,
        )
    ).scalar_one()
    return existing_id, False


def get_or_create_mapping(
    session: Session,
    tenant_id: uuid.UUID,
    tag_id: uuid.UUID,
    tagged_id: uuid.UUID,
    tagged_type: str,
    *,
    created_by: uuid.UUID,
    created_at: datetime,
) -> tuple[uuid.UUID, bool]:
    """The mapping of ``tag_id`` to ``tagged_id``: ``(mapping_id, created)``."""
    created_id = session.execute(
        insert(TagMapping)
        .values(
            tenant=tenant_id,
            mapping_id=uuid.uuid4(),
            tag_id=tag_id,
            tagged_id=tagged_id,
            tagged_type=tagged_type,
            created_by=created_by,
            created_at=created_at,
        )
        .on_conflict_do_nothing(index_elements=["tenant", "tag_id", "tagged_id"])
        .returning(TagMapping.mapping_id)
    ).scalar_one_or_none()
    if created_id is not None:
        return created_id, True
    existing_id: uuid.UUID = session.execute(
        select(TagMapping.mapping_id).where(
            TagMapping.tenant == tenant_id,
            TagMapping.tag_id == tag_id,
            TagMapping.tagged_id == tagged_id,
        )
    ).scalar_one()
    return existing_id, False


def add_interaction_tags(
    session: Session, tenant_id: uuid.UUID, interaction_id: uuid.UUID, tag_texts: Sequence[str]
) -> list[str]:
    """Append each of ``tag_texts`` missing from ``interactions.tags``; returns the texts appended, in order.

    One guarded ``UPDATE`` per text: a concurrent writer of the same row makes PostgreSQL re-check the guard
    on the committed row, so a text is never stored twice.
    """
    appended: list[str] = []
    current = func.coalesce(Interaction.tags, array([], type_=Text))
    for tag_text in tag_texts:
        value = literal(tag_text, type_=Text)
        changed = session.execute(
            update(Interaction)
            .where(
                Interaction.tenant == tenant_id,
                Interaction.interaction_id == interaction_id,
                func.array_position(current, value).is_(None),
            )
            .values(tags=func.array_append(current, value))
            .returning(Interaction.interaction_id)
        ).first()
        if changed is not None:
            appended.append(tag_text)
    return appended
