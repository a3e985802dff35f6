"""The AWS services effects are delivered through, as one bundle that tests and tools can swap.

The default bundle talks to EventBridge, SES and S3 through boto3 clients created on first use; a test passes
the same adapters pointed at emulated AWS (moto), never a mock of the project's own logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crm_core.aws.document_store import DocumentStore, S3DocumentStore
from crm_core.aws.event_publisher import EventBridgePublisher, EventPublisher
from crm_core.aws.mailer import Mailer, SesMailer


@dataclass(frozen=True)
class EffectPorts:
    """Where each kind of after-commit effect goes: events, emails, documents."""

    events: EventPublisher = field(default_factory=EventBridgePublisher)
    mailer: Mailer = field(default_factory=SesMailer)
    documents: DocumentStore = field(default_factory=S3DocumentStore)
