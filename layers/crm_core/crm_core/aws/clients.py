"""boto3 clients, created lazily once per container and service (boto3 is imported on first use only)."""

from __future__ import annotations

import threading
from typing import Any

from crm_core.settings import get_settings

_clients: dict[tuple[str, str | None, str | None], Any] = {}
_lock = threading.Lock()


def aws_client(service: str) -> Any:
    """A boto3 client for ``service`` honouring AWS_REGION and AWS_ENDPOINT_URL (a local emulator in development)."""
    settings = get_settings()
    endpoint, region = settings.aws_endpoint_url, settings.aws_region
    key = (service, endpoint, region)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                import boto3
                from botocore.config import Config

                client = boto3.client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint,
                    config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10),
                )
                _clients[key] = client
    return client
