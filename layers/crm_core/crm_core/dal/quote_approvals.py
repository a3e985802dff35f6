"""Quote approval: who submitted a quote for approval.

The submitter is the ``performed_by`` of the quote's latest ``status_changed`` activity that moved it to
``pending_approval`` (the activity every submission writes); None when the quote has no such activity (for
example a quote created directly in ``pending_approval``) or it was performed by the system.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from crm_core.db.models import QuoteActivity
from crm_core.db.prepared import Prepared


@dataclass(frozen=True)
class Submission:
    """The latest submission of a quote for approval."""

    submitted_by: uuid.UUID | None
    submitted_at: datetime


def latest_submission(connection: Connection, tenant_id: uuid.UUID, quote_id: uuid.UUID) -> Submission | None:
    """The quote's latest move to ``pending_approval``, or None when it has none."""
    row = _LATEST_SUBMISSION.first(connection, tenant=tenant_id, quote_id=quote_id)
    return None if row is None else Submission(submitted_by=row.performed_by, submitted_at=row.created_at)


_LATEST_SUBMISSION = Prepared(
    select(QuoteActivity.c.performed_by, QuoteActivity.c.created_at)
    .where(
        QuoteActivity.c.tenant == bindparam("tenant"),
        QuoteActivity.c.quote_id == bindparam("quote_id"),
        QuoteActivity.c.activity_type == "status_changed",
        QuoteActivity.c.metadata["next_status"].astext == "pending_approval",
    )
    .order_by(QuoteActivity.c.created_at.desc())
    .limit(1)
)
