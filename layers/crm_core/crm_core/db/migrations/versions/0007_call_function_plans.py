"""The call functions keep one plan per statement for the whole session, and the init rehearsal plans them all.

Revision ID: 0007
Revises: 0006

PL/pgSQL caches a plan for each statement of a function, but with parameters it plans every execution anew for
its first five (a custom plan each time) before it may settle on a generic plan. In a Lambda container that
meant a call's opening statement (``crm_open_call``: the actor, the four-table permission join, the ledger claim)
planned its queries again in each of the container's first six calls, and the permission join was planned, with
its four tables' catalog entries loaded, only by the first real call, because the init rehearsal's nil actor
skipped it. Measured on crm.find_quotes's first call after init (``bench.cold_start``): 4.1 ms against 1.6 ms
warm, and calls 2-6 about 0.4 ms slower than later ones.

Now:

- both functions run with ``plan_cache_mode = force_generic_plan`` (a function's ``SET`` clause: the setting
  holds inside the function only, and the ``set_config(..., true)`` calls inside still last to the end of the
  transaction, as PostgreSQL documents for settings other than the one the clause names). Every statement in
  them looks rows up by the tenant and a key through a unique or leading index, so the generic plan is the
  custom one, and it is made once per session;
- ``crm_open_call`` runs the permission join whether or not the actor was found (for an unknown actor it finds
  no role and returns an empty text, as before), so the rehearsal, which opens a call as the nil actor, plans it
  and loads its tables' catalog entries during init.

The columns and results of both functions are unchanged.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from alembic import op

from crm_core.db.migrate import revision_module

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = ("crm_open_call(uuid, uuid, jsonb)", "crm_mark_effects(uuid, jsonb)")

# 0006's permission lookup, run only for a found actor (the lines between these two).
_GUARDED_LOOKUP = re.compile(r"^    IF actor_found THEN\n(?P<lookup>.*?)^    END IF;\n", re.MULTILINE | re.DOTALL)
_UNGUARDED_NOTE = "    -- any actor (an unknown one has no role: ''): the nil actor's rehearsal plans this\n"


def _open_call(*, unguarded: bool) -> str:
    """0006's crm_open_call, or (``unguarded``) the same with the permission lookup run for every actor."""
    sql: str = revision_module("0006_held_permissions_text.py")._open_call(as_text=True)
    guarded = _GUARDED_LOOKUP.search(sql)
    if guarded is None:
        raise RuntimeError("0006's crm_open_call changed: its permission lookup for a found actor was not found")
    if not unguarded:
        return sql
    lookup = textwrap.indent(textwrap.dedent(guarded["lookup"]), "    ")
    return sql[: guarded.start()] + _UNGUARDED_NOTE + lookup + sql[guarded.end() :]


def upgrade() -> None:
    op.execute(_open_call(unguarded=True))  # same signature and result: replaced in place
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET plan_cache_mode = force_generic_plan")


def downgrade() -> None:
    """Back to 0006: the lookup for found actors only, plans chosen per execution."""
    op.execute(_open_call(unguarded=False))  # CREATE OR REPLACE drops the function's SET clause
    op.execute(f"ALTER FUNCTION {FUNCTIONS[1]} RESET plan_cache_mode")
