"""Powertools Logger, Tracer and Metrics, shared by every action in a container.

Logs go to standard error (CloudWatch collects both streams), which keeps standard output free for the
CLI's result. Metrics are CloudWatch EMF lines; ``POWERTOOLS_METRICS_DISABLED=true`` turns them off.
"""

from __future__ import annotations

import logging
import os
import sys

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "crm-workflow-actions")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CrmWorkflowActions")

logger = Logger(service=SERVICE, logger_handler=logging.StreamHandler(sys.stderr))
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
