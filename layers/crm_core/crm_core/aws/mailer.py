"""Sending email through Amazon SES (v2 API) as raw MIME, so attachments travel with the message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Mailer(Protocol):
    """Sends one raw MIME message; returns the provider's message id. Raises on failure."""

    def send_raw(self, *, sender: str, recipients: Sequence[str], raw_message: bytes) -> str: ...


class SesMailer:
    """SES ``SendEmail`` with ``Content.Raw``: the message as built, text and HTML parts and attachments."""

    def send_raw(self, *, sender: str, recipients: Sequence[str], raw_message: bytes) -> str:
        from crm_core.aws.clients import aws_client

        response = aws_client("sesv2").send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": list(recipients)},
            Content={"Raw": {"Data": raw_message}},
        )
        return str(response["MessageId"])
