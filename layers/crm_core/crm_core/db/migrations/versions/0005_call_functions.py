"""Two functions that let a call open and close its database work in one statement each.

Revision ID: 0005
Revises: 0004

``crm_open_call(tenant, actor, claim)`` scopes the transaction to the tenant (the setting row-level security
reads), reads the actor (found, type, inactive) and every MSP permission the actor holds, and, when ``claim`` is
given and the actor may act, claims the idempotency key in the ledger: it inserts the STARTED row, or returns
the stored hash, status and output of the call that already used the key. It also plans the transaction's
joins as written (``join_collapse_limit = 1``, no Memoize): every query of the actions drives from one table and
looks up the rest by primary key, and PostgreSQL would otherwise spend milliseconds searching join orders for a
query that runs in well under one. Before it, a call sent four to six statements for the same work.

``crm_mark_effects(tenant, marks)`` records delivery outcomes on the outbox rows of one tenant, setting the
tenant itself, so the mark after the commit is one statement in its own implicit transaction.

Both run with the caller's rights (row-level security applies as for any statement of the caller); PL/pgSQL
runs their statements in order, which a single SQL statement does not promise for ``set_config``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CALL = """
CREATE OR REPLACE FUNCTION crm_open_call(p_tenant uuid, p_actor uuid, p_claim jsonb DEFAULT NULL)
RETURNS TABLE (
    actor_found boolean,
    actor_type text,
    actor_inactive boolean,
    held_permissions text[],
    claimed_invocation_id uuid,
    stored_input_hash text,
    stored_status text,
    stored_output jsonb
)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    SELECT true, u.user_type, u.is_inactive INTO actor_found, actor_type, actor_inactive
      FROM users u WHERE u.tenant = p_tenant AND u.user_id = p_actor;
    actor_found := coalesce(actor_found, false);
    held_permissions := '{}';
    IF actor_found THEN
        SELECT coalesce(array_agg(DISTINCT p.resource || ':' || p.action), '{}') INTO held_permissions
          FROM user_roles ur
          JOIN roles r ON r.tenant = ur.tenant AND r.role_id = ur.role_id AND r.msp
          JOIN role_permissions rp ON rp.tenant = r.tenant AND rp.role_id = r.role_id
          JOIN permissions p ON p.tenant = rp.tenant AND p.permission_id = rp.permission_id AND p.msp
         WHERE ur.tenant = p_tenant AND ur.user_id = p_actor;
    END IF;
    IF p_claim IS NOT NULL AND actor_found AND actor_type = 'internal' AND NOT actor_inactive THEN
        INSERT INTO workflow_action_invocations AS w
               (tenant, invocation_id, run_id, step_path, action_id, action_version, idempotency_key,
                input_hash, status, input_json, started_at)
        VALUES (p_tenant, (p_claim->>'invocation_id')::uuid, p_claim->>'run_id', p_claim->>'step_path',
                p_claim->>'action_id', (p_claim->>'action_version')::integer, p_claim->>'idempotency_key',
                p_claim->>'input_hash', 'STARTED', p_claim->'input_json', (p_claim->>'started_at')::timestamptz)
        ON CONFLICT (tenant, action_id, action_version, idempotency_key) DO NOTHING
        RETURNING w.invocation_id INTO claimed_invocation_id;
        IF claimed_invocation_id IS NULL THEN
            SELECT w.input_hash, w.status, w.output_json INTO stored_input_hash, stored_status, stored_output
              FROM workflow_action_invocations w
             WHERE w.tenant = p_tenant
               AND w.action_id = p_claim->>'action_id'
               AND w.action_version = (p_claim->>'action_version')::integer
               AND w.idempotency_key = p_claim->>'idempotency_key';
        END IF;
    END IF;
    PERFORM set_config('join_collapse_limit', '1', true), set_config('enable_memoize', 'off', true);
    RETURN NEXT;
END
$$
"""

MARK_EFFECTS = """
CREATE OR REPLACE FUNCTION crm_mark_effects(p_tenant uuid, p_marks jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    marked integer;
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    UPDATE workflow_event_outbox o
       SET status = m.status, attempts = m.attempts, result = m.result, last_error = m.last_error,
           available_at = m.available_at, delivered_at = m.delivered_at
      FROM jsonb_to_recordset(p_marks) AS m(effect_id uuid, status text, attempts integer, result jsonb,
                                            last_error text, available_at timestamptz, delivered_at timestamptz)
     WHERE o.tenant = p_tenant AND o.event_id = m.effect_id AND o.status = 'PENDING';
    GET DIAGNOSTICS marked = ROW_COUNT;
    RETURN marked;
END
$$
"""


def upgrade() -> None:
    op.execute(OPEN_CALL)
    op.execute(MARK_EFFECTS)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS crm_mark_effects(uuid, jsonb)")
    op.execute("DROP FUNCTION IF EXISTS crm_open_call(uuid, uuid, jsonb)")
