"""boto3 clients, created lazily once per container and service (boto3 is imported on first use only), and their
rehearsal at init (:func:`answered_locally`, :func:`rehearse_effect_client`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class _Body:
    """A response body botocore can read (``stream()``)."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


@contextmanager
def answered_locally(client: Any, body: bytes = b"{}", headers: dict[str, str] | None = None) -> Iterator[None]:
    """Inside the block, every request of ``client`` is answered by this container with HTTP 200, ``body`` and
    ``headers`` instead of being sent: the request goes through botocore's whole pipeline (parameter
    validation, serialisation, checksums, signing, the operation's event handlers) and the answer through its
    parser. For the init phase only: a first call then finds that work done for its operations."""
    from botocore.awsrequest import AWSResponse

    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}"

    def answer(request: Any, **_: Any) -> Any:
        return AWSResponse(request.url, 200, headers or {}, _Body(body))

    client.meta.events.register_first(event, answer)  # before any other answerer (an emulator's, in tests)
    try:
        yield
    finally:
        client.meta.events.unregister(event, answer)


# What each effect's client is asked at init (``rehearse_effect_client``): the operation the adapter calls, its
# parameters (of the same shape; made when asked, from the settings), and an answer botocore parses as a success.
_EFFECT_REHEARSALS: dict[str, tuple[str, Callable[[], dict[str, Any]], bytes, dict[str, str]]] = {
    "events": (
        "put_events",
        lambda: {
            "Entries": [
                {
                    "Source": "crm.init",
                    "DetailType": "init",
                    "Detail": "{}",
                    "EventBusName": get_settings().event_bus_name or "default",  # as the publisher names it
                }
            ]
        },
        b'{"FailedEntryCount":0,"Entries":[{"EventId":"init"}]}',
        {"content-type": "application/x-amz-json-1.1"},
    ),
    "s3": (
        "put_object",
        lambda: {
            "Bucket": "init",
            "Key": "init",
            "Body": b"init",
            "ContentType": "application/pdf",
            "Metadata": {"init": "init"},
            "ServerSideEncryption": "AES256",
        },
        b"",
        {"ETag": '"init"'},
    ),
    "sesv2": (
        "send_email",
        lambda: {
            "FromEmailAddress": "init@example.com",
            "Destination": {"ToAddresses": ["init@example.com"]},
            "Content": {"Raw": {"Data": b"init"}},
        },
        b'{"MessageId":"init"}',
        {"content-type": "application/json"},
    ),
}


def rehearse_effect_client(service: str) -> None:
    """Create ``service``'s client and run the operation its effect adapter calls once, answered locally
    (:func:`answered_locally`: nothing is sent). For the init phase; a service without a rehearsal only gets
    its client."""
    client = aws_client(service)
    rehearsal = _EFFECT_REHEARSALS.get(service)
    if rehearsal is None:
        return
    operation, parameters, body, headers = rehearsal
    with answered_locally(client, body, headers):
        getattr(client, operation)(**parameters())
