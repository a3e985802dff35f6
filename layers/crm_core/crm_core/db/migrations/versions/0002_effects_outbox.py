"""After-commit effects: the outbox carries events, emails and documents, with their outcome and result.

Revision ID: 0002
Revises: 0001

- ``kind`` (event | email | document); ``event_type`` is only required of events.
- ``content``: the bytes an email (raw MIME) or a document (the file) delivers, written in the transaction.
- ``result``: what delivery produced (EventBridge event id, SES message id, S3 bucket and key).
- ``recorder``: the name of the action's outcome recorder, called after each delivery attempt.
- ``invocation_id``: the ledger row whose stored output the recorder may update.
- ``status``: PENDING, DELIVERED (was PUBLISHED) or FAILED (a permanent failure, or attempts used up).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "workflow_event_outbox"


def _see_every_tenants_rows() -> None:
    # Row-level security is forced on the outbox, for its owner too; the relay's policy shows every row.
    op.execute("select set_config('app.outbox_relay', 'on', true)")


def upgrade() -> None:
    _see_every_tenants_rows()
    op.add_column(TABLE, sa.Column("kind", sa.Text(), server_default=sa.text("'event'"), nullable=False))
    op.add_column(TABLE, sa.Column("content", postgresql.BYTEA(), nullable=True))
    op.add_column(TABLE, sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column(TABLE, sa.Column("recorder", sa.Text(), nullable=True))
    op.add_column(TABLE, sa.Column("invocation_id", sa.UUID(), nullable=True))
    op.alter_column(TABLE, "event_type", nullable=True)
    op.alter_column(TABLE, "published_at", new_column_name="delivered_at")
    op.execute(
        f"UPDATE {TABLE} SET result = jsonb_build_object('event_id', eventbridge_event_id) "
        "WHERE eventbridge_event_id IS NOT NULL"
    )
    op.drop_column(TABLE, "eventbridge_event_id")
    op.drop_constraint(op.f("ck_workflow_event_outbox_status"), TABLE, type_="check")
    op.execute(f"UPDATE {TABLE} SET status = 'DELIVERED' WHERE status = 'PUBLISHED'")
    op.create_check_constraint(
        op.f("ck_workflow_event_outbox_status"), TABLE, "status in ('PENDING', 'DELIVERED', 'FAILED')"
    )
    op.create_check_constraint(op.f("ck_workflow_event_outbox_kind"), TABLE, "kind in ('event', 'email', 'document')")
    op.create_check_constraint(
        op.f("ck_workflow_event_outbox_event_type"), TABLE, "kind <> 'event' or event_type is not null"
    )


def downgrade() -> None:
    _see_every_tenants_rows()
    op.drop_constraint(op.f("ck_workflow_event_outbox_event_type"), TABLE, type_="check")
    op.drop_constraint(op.f("ck_workflow_event_outbox_kind"), TABLE, type_="check")
    op.drop_constraint(op.f("ck_workflow_event_outbox_status"), TABLE, type_="check")
    op.execute(f"DELETE FROM {TABLE} WHERE kind <> 'event'")
    op.execute(f"UPDATE {TABLE} SET status = 'PUBLISHED' WHERE status = 'DELIVERED'")
    op.execute(f"UPDATE {TABLE} SET status = 'PENDING' WHERE status = 'FAILED'")
    op.create_check_constraint(op.f("ck_workflow_event_outbox_status"), TABLE, "status in ('PENDING', 'PUBLISHED')")
    op.add_column(TABLE, sa.Column("eventbridge_event_id", sa.Text(), nullable=True))
    op.execute(f"UPDATE {TABLE} SET eventbridge_event_id = result ->> 'event_id'")
    op.alter_column(TABLE, "delivered_at", new_column_name="published_at")
    op.alter_column(TABLE, "event_type", nullable=False)
    for column in ("invocation_id", "recorder", "result", "content", "kind"):
        op.drop_column(TABLE, column)
