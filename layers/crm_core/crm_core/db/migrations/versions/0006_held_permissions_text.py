"""crm_open_call returns the held permissions as one comma-separated text instead of a text array.

Revision ID: 0006
Revises: 0005

pg8000 parses a PostgreSQL array in Python, character by character: for an Admin's hundred-odd permissions that
took about 0.7 ms of every call under cProfile, a tenth of a warm create_activity_note. ``resource:action``
pairs never contain a comma, so one ``string_agg`` text split in Python says the same. The function's other
columns and its work are unchanged (0005); a function's result type cannot be altered in place, so it is dropped
and created again in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from crm_core.db.migrate import revision_module

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# 0005's function with the one column changed: held_permissions as text, built by string_agg.
_ARRAY_TO_TEXT = (
    ("held_permissions text[],", "held_permissions text,"),
    ("held_permissions := '{}';", "held_permissions := '';"),
    (
        "coalesce(array_agg(DISTINCT p.resource || ':' || p.action), '{}')",
        "coalesce(string_agg(DISTINCT p.resource || ':' || p.action, ','), '')",
    ),
)


def _open_call(*, as_text: bool) -> str:
    sql: str = revision_module("0005_call_functions.py").OPEN_CALL
    for array_form, text_form in _ARRAY_TO_TEXT:
        if array_form not in sql:
            raise RuntimeError(f"0005's crm_open_call changed: {array_form!r} not found")
        if as_text:
            sql = sql.replace(array_form, text_form)
    return sql


def upgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS crm_open_call(uuid, uuid, jsonb)")
    op.execute(_open_call(as_text=True))


def downgrade() -> None:
    """Back to 0005's text array."""
    op.execute("DROP FUNCTION IF EXISTS crm_open_call(uuid, uuid, jsonb)")
    op.execute(_open_call(as_text=False))
