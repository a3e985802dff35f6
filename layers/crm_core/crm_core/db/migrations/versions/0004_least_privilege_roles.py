"""Least privilege: the actions' role and the relay's role; the ``app.outbox_relay`` policy goes.

Revision ID: 0004
Revises: 0003

Three roles (``crm_core.db.roles``):

- the **schema owner** is the user running the migrations: it owns every table and runs nothing else;
- ``crm_actions`` (NOLOGIN): SELECT, INSERT, UPDATE, DELETE on every table with a ``tenant`` column, SELECT on
  the global ones (``system_interaction_types``), nothing on ``alembic_version``. It owns nothing, so the
  row-level security forced on every tenant table (0001) always applies and it cannot disable it;
- ``crm_relay`` (NOLOGIN): SELECT and UPDATE of the delivery columns of ``workflow_event_outbox`` in every
  tenant, through policies that name it alone (no INSERT, no DELETE, no BYPASSRLS); and, only in the tenant
  whose effect it delivers (``tenant_isolation``), what the outcome recorders write: the ledger's stored
  output, a quote activity's description and metadata, an email log's outcome. A new recorder that writes
  another table needs its grant in a later migration.

The ``outbox_relay`` policy of 0001 is dropped: any session could set ``app.outbox_relay`` and see every tenant's
outbox. (0002 still sets it, for the rows it converts; by then 0001's policy exists, and 0004's downgrade puts it
back, so 0002 runs either way.) After 0004 the owner, too, sees one tenant at a time (row-level security is
forced on it): a later migration that rewrites every tenant's rows does ``ALTER TABLE ... NO FORCE ROW LEVEL
SECURITY`` and forces it again in the same transaction.

What the migrating user needs: to own the tables (it created them), and CREATEROLE (or SUPERUSER) only when the
two roles do not exist yet. Roles belong to the whole PostgreSQL cluster, so they are created if missing and
never dropped (other databases may use them); a DBA may create them beforehand (``CREATE ROLE crm_actions
NOLOGIN; CREATE ROLE crm_relay NOLOGIN;``), and then the migration needs nothing more. Login roles are given
membership outside the migrations (``GRANT crm_actions TO <login>``: scripts/postgres.sh locally, the README
for AWS). Default privileges give ``crm_actions`` the same rights on tables the owner creates later.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = "crm_actions"
RELAY = "crm_relay"
OUTBOX = "workflow_event_outbox"
# What delivery changes on an outbox row (crm_mark_effects, migration 0005); the effect itself stays read-only.
OUTBOX_DELIVERY_COLUMNS = ("status", "attempts", "result", "last_error", "available_at", "delivered_at")
# What the outcome recorders write, per table (runtime/effects.py _record; actions/quotes/send_quote.py).
RECORDER_COLUMNS = {
    "workflow_action_invocations": ("output_json",),
    "quote_activities": ("description", "metadata"),
    "email_sending_logs": ("status", "message_id", "error_message", "attempts", "sent_at"),
}

CREATE_ROLES = f"""
DO $$
DECLARE
  missing text[];
  role_name text;
BEGIN
  SELECT array_agg(wanted) INTO missing
    FROM unnest(ARRAY['{ACTIONS}', '{RELAY}']) AS wanted
   WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = wanted);
  IF missing IS NULL THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolcreaterole OR rolsuper)) THEN
    RAISE EXCEPTION 'migration 0004 must create the database roles %, and the migrating user "%" lacks CREATEROLE',
      array_to_string(missing, ', '), current_user
      USING HINT = 'Run the migrations as a user with CREATEROLE, or have an administrator run '
        || '"CREATE ROLE crm_actions NOLOGIN; CREATE ROLE crm_relay NOLOGIN;" first.';
  END IF;
  FOREACH role_name IN ARRAY missing LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', role_name);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- another database's migration created it at the same moment
    END;
  END LOOP;
END
$$
"""

# The tables of this schema, by whether they hold tenant rows; alembic_version is the owner's alone.
GRANT_ACTIONS = f"""
DO $$
DECLARE
  tbl record;
BEGIN
  FOR tbl IN
    SELECT c.relname,
           EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attname = 'tenant' AND NOT a.attisdropped) AS has_tenant
      FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
       AND c.relname <> 'alembic_version'
  LOOP
    IF tbl.has_tenant THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO {ACTIONS}', tbl.relname);
    ELSE
      EXECUTE format('GRANT SELECT ON %I TO {ACTIONS}', tbl.relname);
    END IF;
  END LOOP;
END
$$
"""


def upgrade() -> None:
    op.execute(CREATE_ROLES)
    op.execute(GRANT_ACTIONS)
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ACTIONS}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ACTIONS}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {ACTIONS}")

    op.execute(f"DROP POLICY IF EXISTS outbox_relay ON {OUTBOX}")
    op.execute(f"GRANT SELECT, UPDATE ({', '.join(OUTBOX_DELIVERY_COLUMNS)}) ON {OUTBOX} TO {RELAY}")
    op.execute(f"CREATE POLICY relay_reads_outbox ON {OUTBOX} FOR SELECT TO {RELAY} USING (true)")
    op.execute(f"CREATE POLICY relay_marks_delivery ON {OUTBOX} FOR UPDATE TO {RELAY} USING (true) WITH CHECK (true)")
    for table, columns in RECORDER_COLUMNS.items():
        op.execute(f"GRANT SELECT, UPDATE ({', '.join(columns)}) ON {table} TO {RELAY}")


def downgrade() -> None:
    for table in reversed(RECORDER_COLUMNS):
        op.execute(f"REVOKE ALL ON {table} FROM {RELAY}")
    op.execute(f"DROP POLICY IF EXISTS relay_marks_delivery ON {OUTBOX}")
    op.execute(f"DROP POLICY IF EXISTS relay_reads_outbox ON {OUTBOX}")
    op.execute(f"REVOKE ALL ON {OUTBOX} FROM {RELAY}")
    op.execute(
        f"CREATE POLICY outbox_relay ON {OUTBOX} FOR ALL "
        "USING (current_setting('app.outbox_relay', true) = 'on') "
        "WITH CHECK (current_setting('app.outbox_relay', true) = 'on')"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {ACTIONS}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ACTIONS}"
    )
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ACTIONS}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ACTIONS}")
