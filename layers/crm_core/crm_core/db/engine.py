"""The database engine (one per Lambda container, created lazily) and the tenant-scoped transaction.

The URL comes from ``DATABASE_URL`` or, in AWS, from the Secrets Manager secret named by ``DB_SECRET_ARN``
(the usual RDS keys: host, port, username, password, dbname). TLS follows the URL's ``sslmode`` or
``DB_SSLMODE`` (default ``verify-full`` against the RDS authorities shipped in the layer): see ``crm_core.db.tls``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from crm_core.db import pg8000_cache
from crm_core.db.tls import tls_connect_arguments
from crm_core.db.wire import install_iso_dates, install_simple_ends
from crm_core.errors import InternalError
from crm_core.settings import ConnectionMode, get_settings

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
# Secret ARN -> (URL, when it was read). Re-read after SECRET_MAX_AGE so a rotated password is picked up.
_secret_urls: dict[str, tuple[str, float]] = {}
SECRET_MAX_AGE_SECONDS = 300.0


def database_url() -> str:
    """The configured database URL; InternalError naming DATABASE_URL when neither it nor DB_SECRET_ARN is set."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.db_secret_arn:
        return _url_from_secret(settings.db_secret_arn)
    raise InternalError(
        "Configuration setting DATABASE_URL is not set (nor DB_SECRET_ARN)",
        {"setting": "DATABASE_URL"},
    )


def _url_from_secret(secret_arn: str) -> str:
    """The URL built from the secret's RDS keys; TLS per ``DB_SSLMODE`` (default ``verify-full``)."""
    cached = _secret_urls.get(secret_arn)
    if cached is not None and time.monotonic() - cached[1] < SECRET_MAX_AGE_SECONDS:
        return cached[0]
    from crm_core.aws.clients import aws_client

    secret = json.loads(aws_client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
    try:
        user, password, host = quote_plus(secret["username"]), quote_plus(secret["password"]), secret["host"]
    except KeyError as missing:
        raise InternalError(
            f"Database secret has no {missing.args[0]!r} key",
            {"setting": "DB_SECRET_ARN", "missing_key": missing.args[0]},
        ) from None
    port, dbname = secret.get("port", 5432), secret.get("dbname", "postgres")
    # Behind RDS Proxy the same credentials log in at the proxy's endpoint (DB_PROXY_ENDPOINT).
    host = get_settings().db_proxy_endpoint or host
    sslmode = get_settings().db_sslmode
    url = f"postgresql+pg8000://{user}:{password}@{host}:{port}/{dbname}?sslmode={sslmode}"
    _secret_urls[secret_arn] = (url, time.monotonic())
    return url


def _engine_arguments(url: str) -> tuple[str, dict[str, Any]]:
    target, connect_args = tls_connect_arguments(make_url(url), get_settings().db_sslmode)
    return target.render_as_string(hide_password=False), connect_args


# A connection idle longer than this is pinged before use (see ``_ping_after_idle``).
IDLE_PING_SECONDS = 30.0
# Connections are replaced after this long, so a rotated password or a moved endpoint is picked up.
POOL_RECYCLE_SECONDS = 300


def engine_pool_arguments(mode: ConnectionMode) -> dict[str, Any]:
    """The pool of one container's engine.

    A Lambda container serves one call at a time and uses one connection per call, so ``pooler`` (behind RDS
    Proxy or PgBouncer in transaction mode) keeps exactly one and never grows: hundreds of containers then
    hold at most one client connection each, and the pooler multiplexes them onto few server connections.
    ``direct`` allows a few overflow connections for processes that run calls on several threads at once
    (tests, local tools); in Lambda it holds one connection per container as well.
    """
    if mode == "pooler":
        return {"pool_size": 1, "max_overflow": 0, "pool_timeout": 10, "pool_recycle": POOL_RECYCLE_SECONDS}
    return {"pool_size": 1, "max_overflow": 4, "pool_recycle": POOL_RECYCLE_SECONDS}


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured one), created on first use, without
    connecting (the first checkout connects).

    No ``pool_pre_ping``: it costs a round trip on every checkout, that is on every call. A connection is
    pinged only after it sat idle for ``IDLE_PING_SECONDS`` (a frozen container's connection may have been
    dropped by the server, the pooler or the network), which steady traffic never pays.
    """
    url = url or database_url()
    engine = _engines.get(url)
    if engine is None:
        with _lock:
            engine = _engines.get(url)
            if engine is None:
                target, connect_args = _engine_arguments(url)
                pg8000_cache.install()
                engine = create_engine(
                    target,
                    connect_args=connect_args,
                    **engine_pool_arguments(get_settings().db_connection_mode),
                )
                _ping_after_idle(engine)
                event.listen(engine, "connect", _tune_connection)
                _engines[url] = engine
    return engine


def _tune_connection(dbapi_connection: Any, _record: Any) -> None:
    """Each new connection commits and rolls back with one simple query (pg8000's own take three round trips)
    and reads dates and times with ``fromisoformat`` (``crm_core.db.wire``)."""
    install_simple_ends(dbapi_connection)
    install_iso_dates(dbapi_connection)


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it has been idle for ``IDLE_PING_SECONDS``; a failed ping
    raises ``DisconnectionError``, on which the pool discards that connection and opens a new one."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("select 1")
            cursor.close()
        except Exception as exc:
            raise DisconnectionError(f"connection idle for {time.monotonic() - idle_since:.0f} s is gone") from exc


def set_tenant(connection: Connection, tenant_id: uuid.UUID) -> None:
    """Scope the connection's current transaction to ``tenant_id`` (the setting row-level security reads)."""
    connection.execute(text("select set_config('app.current_tenant', :tenant, true)"), {"tenant": str(tenant_id)})


@contextmanager
def tenant_transaction(tenant_id: uuid.UUID, *, engine: Engine | None = None) -> Iterator[Connection]:
    """A connection in one transaction scoped to ``tenant_id``; commits on success, rolls back on error."""
    with (engine or get_engine()).begin() as connection:
        set_tenant(connection, tenant_id)
        yield connection
