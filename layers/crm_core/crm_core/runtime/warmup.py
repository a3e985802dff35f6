"""The init phase's one-time work, so that a container's first call costs about what its later calls cost.

A function module calls ``warm_up(lambda_handler)`` right after building its handler. Lambda runs module
code in the init phase, before the first request; without this, the first call pays for:

- **the engine**: ``create_engine`` imports the pg8000 dialect and builds the pool;
- **the connection**: the TCP (and TLS) connection, the login (SCRAM in pure Python) and SQLAlchemy's dialect
  initialisation (a few queries the first connection runs). The container's one pooled connection is opened
  here and returned to the pool; it is pinged before use only if it sat idle for 30 s (``crm_core.db.engine``);
- **the first execution**: the rehearsal (``ActionRunner.rehearse``) runs the call's opening statement and,
  when the spec names a ``rehearsal_input``, the action itself as a dry run under the nil tenant (no rows),
  in a transaction that is rolled back: the action's prepared statements are compiled (the rest goes into
  SQLAlchemy's compiled cache) and PostgreSQL compiles the call's PL/pgSQL function and loads its catalog
  caches in this session;
- **the statements**: the statements of the shapes the action's calls use (recorded in
  ``statement_shapes.json``: the columns its inserts give, the closing statement of its writes, audit row,
  events and ledger completion, the pages of its filters; ``crm_core.db.shapes``) are built, and every prepared
  statement the function's modules define that the rehearsal did not reach is compiled (an action that stops
  at NOT_FOUND under the nil tenant never runs its writes);
- **the action's own one-time work** (``spec.prepare``; crm.send_quote loads reportlab and its fonts);
- **the call's log line and metrics**: one log record is formatted as the per-call INFO line is, and one metric
  set serialised as the per-call EMF line is, neither emitted (a first call paid about 0.25 ms more for both);
- **AWS clients** of side-effectful actions: the DynamoDB first line of idempotency (Powertools' persistence
  layer and a boto3 client; boto3 loads the service's model on creation), primed with one ``GetItem`` of a
  record that never exists (endpoint resolution and the HTTPS connection) and one idempotent call whose
  ``PutItem`` and ``UpdateItem`` are answered in the container (``crm_core.aws.clients.answered_locally``:
  nothing is written), and the clients of the services their effects go to (``spec.effect_services``:
  EventBridge, or S3 and SES), each running its operation once, answered the same way (nothing is sent: a
  first call finds botocore's per-operation work done). Read-only actions create none:
  with ``DATABASE_URL`` they never import boto3 (with ``DB_SECRET_ARN`` the engine step reads the secret, which
  the first call would otherwise do).

Each step is skipped when its configuration is missing (importing a module outside Lambda needs none) and
any failure is logged, never raised: the first call then does the work, and reports the error, as before.

Lambda SnapStart (Python 3.12+): a snapshot must not hold an open connection. When the runtime provides
``snapshot_restore_py``, the pooled connections are closed before the snapshot is taken, and after a restore
any connection the snapshot still holds is discarded (never closed: its socket belongs to another machine)
and the connection is opened again, within the restore phase rather than by the first call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from crm_core.runtime.observability import logger, metrics
from crm_core.settings import get_settings

# Milliseconds each step took in this container (for the cold-start benchmark and the init log line).
timings: dict[str, float] = {}


def warm_up(handler: Any, *, connect: bool = True) -> dict[str, float]:
    """Do ``handler``'s one-time work now (see the module docstring); returns the milliseconds of each step."""
    spec = handler.spec
    timings.clear()
    settings = get_settings()
    if settings.database_url or settings.db_secret_arn:
        _step("engine", _create_engine)
        if connect:
            _step("connection", _open_connection)
            _step("rehearsal", handler.runner.rehearse)
            _step("statements", lambda: _compile_statements(spec.id))
            _register_snapshot_hooks()
    if spec.prepare is not None:
        _step("prepare", spec.prepare)
    _step("log and metrics", _rehearse_observability)
    if spec.records_invocations and settings.idempotency_table:  # configured as deployed
        _step("idempotency", lambda: _create_first_line(spec.qualified_id))
        if spec.effect_services:
            _step("aws clients", lambda: _create_clients(spec.effect_services))
    logger.debug("init warm-up", extra={"warm_up_ms": timings})
    return dict(timings)


def _step(name: str, work: Callable[[], Any]) -> None:
    started = time.perf_counter()
    try:
        work()
    except Exception:  # the first call does this work again and reports what is wrong
        logger.exception("init warm-up step failed", extra={"step": name})
    timings[name] = round((time.perf_counter() - started) * 1000, 1)


def _rehearse_observability() -> None:
    """Format one log record as a call's INFO line is formatted and serialise one metric set as a call's EMF line
    is; emit neither, and leave the metric set empty (each call starts from a clean one anyway)."""
    record = logging.makeLogRecord(
        {"name": logger.name, "levelno": logging.INFO, "levelname": "INFO", "msg": "init warm-up", "duration_ms": 0.0}
    )
    logger.registered_handler.format(record)
    try:
        metrics.add_metric(name="ActionSucceeded", unit=MetricUnit.Count, value=1)
        json.dumps(metrics.serialize_metric_set(), separators=(",", ":"))
    finally:
        metrics.clear_metrics()


def _create_engine() -> None:
    from crm_core.db.engine import get_engine

    get_engine()


def _open_connection() -> None:
    """Open the pool's connection (and run the dialect's first-connect queries), then give it back."""
    from crm_core.db.engine import get_engine

    get_engine().connect().close()


def _compile_statements(action_id: str) -> None:
    """Build the statements of the shapes recorded for the action (``crm_core.db.shapes``), then compile every
    prepared statement the rehearsal did not reach (an action that stops at NOT_FOUND under the nil tenant
    never runs its writes)."""
    from crm_core.db.engine import get_engine
    from crm_core.db.prepared import compile_all
    from crm_core.db.shapes import build_recorded_shapes

    build_recorded_shapes(action_id)
    compile_all(get_engine().dialect)


def _create_clients(services: tuple[str, ...]) -> None:
    from crm_core.aws.clients import rehearse_effect_client

    for service in services:
        rehearse_effect_client(service)


def _create_first_line(qualified_id: str) -> None:
    from crm_core.runtime.idempotency import first_line_for

    first_line_for(qualified_id).prime()


def close_connections_before_snapshot() -> None:
    """SnapStart's before-snapshot hook: close the pooled connections, so the snapshot holds none."""
    from crm_core.db.engine import get_engine

    get_engine().dispose()


def reconnect_after_restore() -> None:
    """SnapStart's after-restore hook: forget the snapshot's connections without closing them (their sockets
    are not this machine's) and open a new one, so the first call finds it ready."""
    from crm_core.db.engine import get_engine

    engine = get_engine()
    engine.dispose(close=False)
    _step("connection after restore", _open_connection)


def _register_snapshot_hooks() -> None:
    try:  # part of Lambda's managed Python runtimes (3.12 and later); absent elsewhere
        from snapshot_restore_py import register_after_restore, register_before_snapshot  # type: ignore[import-not-found]
    except ImportError:
        return
    register_before_snapshot(close_connections_before_snapshot)
    register_after_restore(reconnect_after_restore)
