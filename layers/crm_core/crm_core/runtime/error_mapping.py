"""The one place where failures become the contract's error classes.

Database, AWS and programming failures alike become ValidationError, NotFoundError, PermissionDeniedError,
ConflictError, TransientError or InternalError.
"""

from __future__ import annotations

import logging
from typing import Any

from crm_core.errors import ActionFailure, ConflictError, InternalError, TransientError, ValidationError

logger = logging.getLogger(__name__)

# SQLSTATEs after which the same call may succeed: serialization failure, deadlock, lock timeout, cancel
# (statement timeout), too many connections, server shutting down, connection problems (class 08).
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "53300", "57P01", "57P02", "57P03"}
THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "SlowDown",
}


def _sqlstate(exc: BaseException) -> tuple[str | None, dict[str, Any]]:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], dict):
        fields: dict[str, Any] = args[0]
        return fields.get("C"), fields
    return None, {}


def _from_database(exc: BaseException) -> ActionFailure | None:
    from sqlalchemy import exc as sa_exc

    if not isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError):
        return None
    if isinstance(exc, sa_exc.TimeoutError):
        return TransientError("Timed out waiting for a database connection", {"reason": "pool_timeout"})
    code, fields = _sqlstate(exc)
    if (
        exc.connection_invalidated
        or isinstance(exc, sa_exc.InterfaceError)
        or (code or "").startswith("08")
        or code in ("57P01", "57P02", "57P03")  # the server ended the session
    ):
        return TransientError("Database connection unavailable", {"reason": "connection", "sqlstate": code})
    if code in TRANSIENT_SQLSTATES:
        return TransientError("Database asked to retry the transaction", {"reason": fields.get("M"), "sqlstate": code})
    if code == "23505":
        return ConflictError(
            "A record with the same unique values already exists",
            {"constraint": fields.get("n"), "detail": fields.get("D")},
        )
    if code in ("23503", "23514", "23502") or (code or "").startswith("22"):
        return ValidationError(
            "The database rejected the data",
            {
                "rule": "database_constraint",
                "constraint": fields.get("n"),
                "reason": fields.get("M"),
                "sqlstate": code,
            },
        )
    if isinstance(exc, sa_exc.OperationalError):
        return TransientError("Database unavailable", {"reason": str(exc.orig)[:500], "sqlstate": code})
    return None


def _from_driver(exc: BaseException) -> ActionFailure | None:
    """A pg8000 error SQLAlchemy did not wrap (a socket reset while reading a reply, a statement sent on the raw
    connection) that means the connection is gone: TransientError, as for a wrapped one."""
    from crm_core.dal.alone import connection_lost

    if connection_lost(exc):
        return TransientError("Database connection lost", {"reason": "connection", "error": type(exc).__name__})
    return None


def _from_aws(exc: BaseException) -> ActionFailure | None:
    try:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
        )
        from botocore.exceptions import (
            ConnectionError as BotoConnectionError,
        )
    except ImportError:  # pragma: no cover - botocore is always installed with boto3
        return None
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in THROTTLING_CODES:
            return TransientError("AWS throttled the request", {"aws_error": code}, code="RATE_LIMITED")
        if code in ("InternalError", "InternalFailure", "ServiceUnavailable", "InternalServerError"):
            return TransientError("AWS service error", {"aws_error": code})
        return InternalError(f"AWS request failed: {code}", {"aws_error": code})
    if isinstance(exc, EndpointConnectionError | BotoConnectionError):
        return TransientError("AWS endpoint unreachable", {"reason": str(exc)[:500]})
    return None


def _refusal_behind(exc: BaseException) -> ActionFailure | None:
    """The action's own error that an idempotency-store failure happened while handling, if any.

    Powertools deletes the record of a failed call; when that delete fails it raises a persistence error from
    the delete's exception, whose context is the action's error.
    """
    seen: set[int] = set()
    current: BaseException | None = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ActionFailure):
            return current
        current = current.__cause__ or current.__context__
    return None


def to_action_failure(exc: BaseException) -> ActionFailure:
    """``exc`` as one of the contract's error classes (an ActionFailure passes through unchanged)."""
    if isinstance(exc, ActionFailure):
        return exc
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    refusal = _refusal_behind(exc)
    if refusal is not None:  # the call was refused, then cleaning its DynamoDB record failed: the refusal counts
        return refusal
    if isinstance(exc, IdempotencyInconsistentStateError):
        return TransientError("Idempotency record changed while it was read; retry", {"reason": str(exc)[:500]})

    if isinstance(exc, IdempotencyValidationError):
        return ConflictError(
            "Idempotency key was already used with a different input", {"rule": "idempotency_key_reuse"}
        )
    if isinstance(exc, IdempotencyPersistenceLayerError):
        cause = exc.__cause__
        mapped = _from_aws(cause) if cause is not None else None
        if mapped is not None:
            return mapped
        return TransientError("Idempotency store unavailable", {"reason": str(exc)[:500]})
    mapped = _from_database(exc) or _from_driver(exc) or _from_aws(exc)
    if mapped is not None:
        return mapped
    logger.exception("unexpected error", exc_info=exc)
    return InternalError(f"Unexpected internal error ({type(exc).__name__})", {"type": type(exc).__name__})
