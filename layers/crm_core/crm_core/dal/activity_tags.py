"""The tag mappings of an activity kept within its free-text tags (``interactions.tags``).

An activity's ``tags`` column is what every activity summary shows; a tag mapping of the activity (tagged type
``interaction``) is the tag record of one of those texts. When the column loses texts (crm.update_activity
replacing or clearing ``tags``), the mappings of the texts it no longer has go too, so no mapping names a tag
the activity's summary does not show.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, delete, not_

from crm_core.db.models import TagDefinition, TagMapping


class RemovedMapping(NamedTuple):
    """A tag mapping deleted from an activity: its id, its definition and the text."""

    mapping_id: uuid.UUID
    tag_id: uuid.UUID
    tag_text: str


def remove_mappings_not_in(
    connection: Connection, tenant_id: uuid.UUID, interaction_id: uuid.UUID, kept_texts: Sequence[str]
) -> list[RemovedMapping]:
    """Delete the activity's tag mappings whose text is not among ``kept_texts``; the deleted ones, by text.

    One statement. The caller holds the activity's row lock (``FOR UPDATE``), which a tagging action also takes
    to append its texts to the column: a concurrent tagger's mapping committed before is deleted here when its
    text goes; one not yet committed is invisible here, and its text is appended to the column after this
    call commits. Either way the mappings stay within the column.
    """
    statement = (
        delete(TagMapping)
        .where(
            TagMapping.c.tenant == tenant_id,
            TagMapping.c.tagged_id == interaction_id,
            TagMapping.c.tagged_type == "interaction",
            TagDefinition.c.tenant == TagMapping.c.tenant,
            TagDefinition.c.tag_id == TagMapping.c.tag_id,
        )
        .returning(TagMapping.c.mapping_id, TagMapping.c.tag_id, TagDefinition.c.tag_text)
    )
    if kept_texts:
        statement = statement.where(not_(TagDefinition.c.tag_text.in_(list(kept_texts))))
    rows = connection.execute(statement).all()
    return sorted((RemovedMapping(*row) for row in rows), key=lambda removed: removed.tag_text)
