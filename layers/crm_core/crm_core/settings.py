"""Every setting the layer reads from the environment, in one object read once per Lambda container.

Nothing is read at import time: ``get_settings()`` reads the environment on first use and keeps the result for
the life of the container (Lambda never changes a function's environment while it runs). Optional settings
have their defaults here; a required one that is missing is an InternalError naming the variable, raised at
the first call that needs it (``Settings.require``), so importing a function module needs no configuration.

| variable | meaning |
|---|---|
| ``DATABASE_URL`` | the actions' login (member of ``crm_actions``): ``postgresql+pg8000://user:password@host/db``; or |
| ``DB_SECRET_ARN`` | a Secrets Manager secret with the RDS keys (host, port, username, password, dbname) |
| ``RELAY_DATABASE_URL`` | the relay's login (member of ``crm_relay``); or ``RELAY_DB_SECRET_ARN``, a secret as above. |
| | No fallback to ``DATABASE_URL``: the actions' role sees no outbox row outside its tenant |
| ``MIGRATION_DATABASE_URL`` | the schema owner, for ``crm-actions db upgrade`` (default: ``DATABASE_URL``) |
| ``DB_SSLMODE`` | TLS when the URL has no ``sslmode``: ``verify-full`` (default, RDS authorities shipped in the |
| | layer), ``verify-ca``, ``require`` (encrypted, unverified) or ``disable`` (``crm_core.db.tls``) |
| ``IDEMPOTENCY_TABLE`` | the DynamoDB table of Powertools idempotency |
| ``EVENT_BUS_NAME`` | the EventBridge bus for domain events |
| ``QUOTE_BUCKET`` | the S3 bucket for quote PDFs |
| ``EMAIL_FROM`` | the verified SES sender of quote emails |
| ``PORTAL_BASE_URL`` | the client portal's base URL, linked from quote emails |
| ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``) | the region of every AWS client (default ``us-east-1``) |
| ``AWS_ENDPOINT_URL`` | an endpoint override for every AWS client (a local emulator in development) |
| ``DB_CONNECTION_MODE`` | ``direct`` (default) or ``pooler``: behind RDS Proxy or PgBouncer in transaction mode, one |
| | connection per container and no pool growth (``crm_core.db.engine.engine_pool_arguments``) |
| ``DB_PROXY_ENDPOINT`` | the RDS Proxy endpoint: the secret's credentials log in there instead of at its ``host`` |
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.errors import InternalError

SslMode = Literal["disable", "require", "verify-ca", "verify-full"]
# direct: the database itself; pooler: RDS Proxy or PgBouncer (transaction mode), one connection per container.
ConnectionMode = Literal["direct", "pooler"]

# Field name -> environment variable, for the fields that come straight from one variable.
_VARIABLES: dict[str, str] = {
    "database_url": "DATABASE_URL",
    "db_secret_arn": "DB_SECRET_ARN",
    "relay_database_url": "RELAY_DATABASE_URL",
    "relay_db_secret_arn": "RELAY_DB_SECRET_ARN",
    "migration_database_url": "MIGRATION_DATABASE_URL",
    "db_sslmode": "DB_SSLMODE",
    "idempotency_table": "IDEMPOTENCY_TABLE",
    "event_bus_name": "EVENT_BUS_NAME",
    "quote_bucket": "QUOTE_BUCKET",
    "email_from": "EMAIL_FROM",
    "portal_base_url": "PORTAL_BASE_URL",
    "aws_endpoint_url": "AWS_ENDPOINT_URL",
    "db_connection_mode": "DB_CONNECTION_MODE",
    "db_proxy_endpoint": "DB_PROXY_ENDPOINT",
}


class Settings(BaseModel):
    """The layer's configuration. Empty variables count as unset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str | None = None
    db_secret_arn: str | None = None
    relay_database_url: str | None = None
    relay_db_secret_arn: str | None = None
    migration_database_url: str | None = None
    db_sslmode: SslMode = "verify-full"
    idempotency_table: str | None = None
    event_bus_name: str | None = None
    quote_bucket: str | None = None
    email_from: str | None = None
    portal_base_url: str | None = None
    aws_region: str = Field(default="us-east-1")
    aws_endpoint_url: str | None = None
    db_connection_mode: ConnectionMode = "direct"
    db_proxy_endpoint: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            text = env.get(name, "").strip()
            return text or None

        fields: dict[str, str] = {}
        for field_name, variable in _VARIABLES.items():
            found = value(variable)
            if found is not None:
                fields[field_name] = found
        region = value("AWS_REGION") or value("AWS_DEFAULT_REGION")
        if region is not None:
            fields["aws_region"] = region
        try:
            return cls.model_validate(fields)
        except ValueError as exc:
            raise InternalError("Invalid configuration", {"errors": str(exc)}) from None

    def require(self, field_name: str) -> str:
        """The value of a required setting; an InternalError naming its environment variable when unset."""
        found = getattr(self, field_name)
        if not found:
            variable = _VARIABLES.get(field_name, field_name.upper())
            raise InternalError(f"Configuration setting {variable} is not set", {"setting": variable})
        return str(found)


_settings: Settings | None = None
_lock = threading.Lock()


def get_settings() -> Settings:
    """The container's settings, read from the environment on first use."""
    global _settings  # noqa: PLW0603 - one settings object per container, created lazily
    current = _settings
    if current is None:
        with _lock:
            current = _settings
            if current is None:
                current = _settings = Settings.from_environment()
    return current


def reset_settings() -> None:
    """Forget the settings read so far, so the next ``get_settings()`` reads the environment again.

    For tools and tests that change the environment of a running process; Lambda never needs it.
    """
    global _settings  # noqa: PLW0603
    with _lock:
        _settings = None
