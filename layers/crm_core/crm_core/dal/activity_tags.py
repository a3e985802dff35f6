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

from sqlalchemy import ARRAY, Connection, Text, all_, bindparam, delete

from crm_core.db.models import TagDefinition, TagMapping
from crm_core.db.prepared import Prepared


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
    rows = _REMOVE_MAPPINGS_NOT_IN.all(
        connection, tenant=tenant_id, interaction_id=interaction_id, kept=list(kept_texts)
    )
    return sorted((RemovedMapping(*row) for row in rows), key=lambda removed: removed.tag_text)


# ``tag_text <> all(:kept)`` is true for every text when ``kept`` is empty: then every mapping goes.
_REMOVE_MAPPINGS_NOT_IN = Prepared(
    delete(TagMapping)
    .where(
        TagMapping.c.tenant == bindparam("tenant"),
        TagMapping.c.tagged_id == bindparam("interaction_id"),
        TagMapping.c.tagged_type == "interaction",
        TagDefinition.c.tenant == TagMapping.c.tenant,
        TagDefinition.c.tag_id == TagMapping.c.tag_id,
        TagDefinition.c.tag_text != all_(bindparam("kept", type_=ARRAY(Text))),
    )
    .returning(TagMapping.c.mapping_id, TagMapping.c.tag_id, TagDefinition.c.tag_text)
)
