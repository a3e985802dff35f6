"""The init phase's one-time work, so that a container's first call costs about what its later calls cost.

A function module calls ``warm_up(lambda_handler)`` right after building its handler. Lambda runs module
code in the init phase, before the first request (and with the full CPU, whatever the memory size); without
this, the first call pays for it:

- **mapper configuration**: SQLAlchemy configures every ORM mapper (32 tables, their relationships) on the
  first ORM query;
- **the engine**: ``create_engine`` imports the pg8000 dialect and builds the pool (no connection is opened:
  the first checkout connects, so an idle pre-initialised container holds no database connection);
- **AWS clients** of side-effectful actions: the DynamoDB first line of idempotency (Powertools' persistence
  layer and a boto3 client; boto3 loads the service's model on creation). Read-only actions create none:
  with ``DATABASE_URL`` they never import boto3 (with ``DB_SECRET_ARN`` the engine step reads the secret, which
  the first call would otherwise do).

Each step is skipped when its configuration is missing (importing a module outside Lambda needs none) and
any failure is logged, never raised: the first call then does the work, and reports the error, as before.
"""

from __future__ import annotations

import time
from typing import Any

from crm_core.runtime.observability import logger
from crm_core.settings import get_settings

# Milliseconds each step took in this container (for the cold-start benchmark and the init log line).
timings: dict[str, float] = {}


def warm_up(handler: Any) -> dict[str, float]:
    """Do ``handler``'s one-time work now (see the module docstring); returns the milliseconds of each step."""
    spec = handler.spec
    _step("mappers", _configure_mappers)
    settings = get_settings()
    if settings.database_url or settings.db_secret_arn:
        _step("engine", _create_engine)
    if spec.records_invocations and settings.idempotency_table:
        _step("idempotency", lambda: _create_first_line(spec.qualified_id))
    logger.debug("init warm-up", extra={"warm_up_ms": timings})
    return dict(timings)


def _step(name: str, work: Any) -> None:
    started = time.perf_counter()
    try:
        work()
    except Exception:  # the first call does this work again and reports what is wrong
        logger.exception("init warm-up step failed", extra={"step": name})
    timings[name] = round((time.perf_counter() - started) * 1000, 1)


def _configure_mappers() -> None:
    from sqlalchemy.orm import configure_mappers

    configure_mappers()


def _create_engine() -> None:
    from crm_core.db.engine import get_engine

    get_engine()


def _create_first_line(qualified_id: str) -> None:
    from crm_core.runtime.idempotency import first_line_for

    first_line_for(qualified_id)
