"""Indexes for crm.find_quotes: every sort key, in both orders, read in order from an index.

Revision ID: 0003
Revises: 0002

crm.find_quotes orders by quote_date, total_amount, status or created_at (ascending or descending, NULLs
greatest as PostgreSQL orders them by default) with the tiebreak quote_id ascending in both orders, and pages by
keyset. An index scanned backward reverses the tiebreak too, so each order needs its own index for the page
query to be an index scan that stops after the page: (tenant, is_template, key [DESC], quote_id).
``ix_quotes_quote_date`` (0001) already serves quote_date descending; quote_number exact matches use
``uq_quotes_quote_number`` and quote_id the primary key.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_quotes_quote_date_asc": "quote_date",
    "ix_quotes_total_desc": "total_amount DESC",
    "ix_quotes_total_asc": "total_amount",
    "ix_quotes_status_desc": "status DESC",
    "ix_quotes_status_asc": "status",
    "ix_quotes_created_desc": "created_at DESC",
    "ix_quotes_created_asc": "created_at",
}


def upgrade() -> None:
    for name, key in INDEXES.items():
        op.create_index(name, "quotes", ["tenant", "is_template", sa.literal_column(key), "quote_id"], unique=False)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="quotes")
