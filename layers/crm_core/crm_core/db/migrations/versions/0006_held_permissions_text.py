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

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CALL = """
CREATE OR REPLACE FUNCTION crm_open_call(p_tenant uuid, p_actor uuid, p_claim jsonb DEFAULT NULL)
RETURNS TABLE (
    actor_found boolean,
    actor_type text,
    actor_inactive boolean,
    held_permissions text,
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
    held_permissions := '';
    IF actor_found THEN
        SELECT coalesce(string_agg(DISTINCT p.resource || ':' || p.action, ','), '') INTO held_permissions
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


def upgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS crm_open_call(uuid, uuid, jsonb)")
    op.execute(OPEN_CALL)


def downgrade() -> None:
    """Back to 0005's text array."""
    op.execute("DROP FUNCTION IF EXISTS crm_open_call(uuid, uuid, jsonb)")
    op.execute(
        OPEN_CALL.replace("held_permissions text,", "held_permissions text[],")
        .replace("held_permissions := '';", "held_permissions := '{}';")
        .replace(
            "coalesce(string_agg(DISTINCT p.resource || ':' || p.action, ','), '')",
            "coalesce(array_agg(DISTINCT p.resource || ':' || p.action), '{}')",
        )
    )
