"""Powertools Logger, Tracer and Metrics, shared by every action in a container.

Logs go to standard error (CloudWatch collects both streams), which keeps standard output free for the
CLI's result. Metrics are CloudWatch EMF lines; ``POWERTOOLS_METRICS_DISABLED=true`` turns them off.

Tracing records what earns its cost: one subsegment for the handler, one for the action's transaction
(``capture_method``) and one per AWS call (botocore is the only module patched). Powertools' default patches
every module the X-Ray SDK knows, SQLAlchemy and pg8000 included: a subsegment per SQL statement, each
statement compiled again outside SQLAlchemy's cache, which doubled the Python time of a call.

When tracing is off (``POWERTOOLS_TRACE_DISABLED=true``, or outside Lambda, as Powertools decides), the
decorators return the function unchanged and the X-Ray SDK is never imported: it imports botocore's session
and client code, which the read-only functions otherwise never load.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "crm-workflow-actions")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CrmWorkflowActions")
# The only module whose calls get a subsegment each: AWS calls (DynamoDB, EventBridge, S3, SES, Secrets Manager).
TRACED_MODULES = ("botocore",)

logger = Logger(service=SERVICE, logger_handler=logging.StreamHandler(sys.stderr))
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled(environ: Any = None) -> bool:
    """Powertools' own rule: on in Lambda (``LAMBDA_TASK_ROOT``), off under ``sam local`` or Chalice, and off
    whenever ``POWERTOOLS_TRACE_DISABLED`` is true."""
    env = os.environ if environ is None else environ
    if env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "true", "yes", "on", "y", "t"):
        return False
    if env.get("AWS_SAM_LOCAL") or env.get("AWS_CHALICE_CLI_MODE"):
        return False
    return bool(env.get("LAMBDA_TASK_ROOT"))


class ActionTracer:
    """The two Tracer decorators the runtime uses; a Powertools ``Tracer`` patching botocore alone when tracing
    is on, plain pass-through (no X-Ray SDK import) when it is off."""

    def __init__(self, enabled: bool):
        self.powertools: Tracer | None = None
        if enabled:
            from aws_lambda_powertools import Tracer

            self.powertools = Tracer(service=SERVICE, patch_modules=list(TRACED_MODULES))

    @property
    def enabled(self) -> bool:
        return self.powertools is not None

    @overload
    def capture_lambda_handler(self, lambda_handler: F, **options: Any) -> F: ...
    @overload
    def capture_lambda_handler(self, lambda_handler: None = None, **options: Any) -> Callable[[F], F]: ...
    def capture_lambda_handler(self, lambda_handler: Any = None, **options: Any) -> Any:
        """``Tracer.capture_lambda_handler`` (a ``## handler`` subsegment with the cold-start annotation)."""
        if self.powertools is None:
            return lambda_handler if lambda_handler is not None else _unchanged
        return self.powertools.capture_lambda_handler(lambda_handler, **options)

    @overload
    def capture_method(self, method: F, **options: Any) -> F: ...
    @overload
    def capture_method(self, method: None = None, **options: Any) -> Callable[[F], F]: ...
    def capture_method(self, method: Any = None, **options: Any) -> Any:
        """``Tracer.capture_method`` (one subsegment per call of ``method``)."""
        if self.powertools is None:
            return method if method is not None else _unchanged
        return self.powertools.capture_method(method, **options)


def _unchanged(function: F) -> F:
    return function


tracer = ActionTracer(tracing_enabled())
