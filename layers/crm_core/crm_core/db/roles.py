"""The three database roles, and the URL each part of the system connects with.

- The **schema owner**: the login that runs the migrations (``MIGRATION_DATABASE_URL``, default
  ``DATABASE_URL``). It owns every table and runs nothing else.
- ``crm_actions`` (``DATABASE_URL`` / ``DB_SECRET_ARN``): reads and writes the tenant tables and owns none, so
  row-level security always applies to it and it cannot turn it off.
- ``crm_relay`` (``RELAY_DATABASE_URL`` / ``RELAY_DB_SECRET_ARN``): reads and marks every tenant's pending
  effects in ``workflow_event_outbox`` through a policy of its own, and writes only what the outcome recorders
  record, in the tenant of the effect it delivers.

Both are NOLOGIN group roles created by migration 0004; the logins that use them are granted membership
(``scripts/postgres.sh`` locally, the README for AWS).
"""

from __future__ import annotations

from crm_core.db.engine import _url_from_secret, database_url
from crm_core.errors import InternalError
from crm_core.settings import get_settings

ACTIONS_ROLE = "crm_actions"
RELAY_ROLE = "crm_relay"


def relay_database_url() -> str:
    """The relay's URL: ``RELAY_DATABASE_URL``, else the secret at ``RELAY_DB_SECRET_ARN``.

    There is no fallback to the actions' URL: that role sees no outbox row outside one tenant, so a relay
    running with it would quietly deliver nothing.
    """
    settings = get_settings()
    if settings.relay_database_url:
        return settings.relay_database_url
    if settings.relay_db_secret_arn:
        return _url_from_secret(settings.relay_db_secret_arn)
    raise InternalError(
        "Configuration setting RELAY_DATABASE_URL is not set (nor RELAY_DB_SECRET_ARN)",
        {"setting": "RELAY_DATABASE_URL"},
    )


def migration_database_url() -> str:
    """The schema owner's URL for migrations: ``MIGRATION_DATABASE_URL``, else the configured database URL."""
    return get_settings().migration_database_url or database_url()
