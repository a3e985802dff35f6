"""The contract's error classes: what a workflow's ``Retry`` and ``Catch`` match.

Each class name is the Lambda ``errorType`` that Step Functions matches in ``Retry`` and ``Catch``. Every
error carries ``category``, ``code``, ``message`` and ``details``; ``str(error)`` is a JSON object with those
four keys, so the ``Cause`` a state machine sees is machine-readable.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar


class ActionFailure(Exception):
    """Base class of every error an action reports to its caller."""

    category: ClassVar[str] = "ActionError"
    default_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, details: dict[str, Any] | None = None, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] | None = details
        self.code = code or self.default_code

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object the contract describes."""
        return {
            "category": self.category,
            "code": self.code,
            "message": self.message,
            "details": self.details,
        }

    def __str__(self) -> str:
        return json.dumps(self.to_dict(), default=str, sort_keys=True)


class ValidationError(ActionFailure):
    """Bad envelope or input, or a broken guard."""

    category = "ValidationError"
    default_code = "VALIDATION_ERROR"


class NotFoundError(ActionFailure):
    """A referenced record is not in this tenant."""

    default_code = "NOT_FOUND"


class PermissionDeniedError(ActionFailure):
    """The actor lacks a permission, or is not an active internal user of the tenant."""

    default_code = "PERMISSION_DENIED"


class ConflictError(ActionFailure):
    """A duplicate, or an idempotency key reused with a different input."""

    default_code = "CONFLICT"


class TransientError(ActionFailure):
    """A retry may succeed: database unreachable, deadlock, serialization failure, throttling."""

    category = "TransientError"
    default_code = "TRANSIENT_FAILURE"


class InternalError(ActionFailure):
    """Anything else, for example missing setup data."""

    default_code = "INTERNAL_ERROR"


def guard_failed(
    rule: str,
    message: str,
    *,
    field: str | None = None,
    expected: Any = None,
    actual: Any = None,
    **extra: Any,
) -> ValidationError:
    """A ValidationError for a broken guard, with details naming the rule, field, expected and actual value."""
    details: dict[str, Any] = {"rule": rule}
    if field is not None:
        details["field"] = field
    details["expected"] = expected
    details["actual"] = actual
    details.update(extra)
    return ValidationError(message, details)
