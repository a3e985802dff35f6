"""Create the AWS resources the actions use, on an emulator (moto) or any endpoint boto3 is pointed at.

Names come from the usual settings; unset ones get the local defaults below, written back to the
environment so the actions find them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from crm_core.settings import reset_settings

LOCAL_DEFAULTS = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "IDEMPOTENCY_TABLE": "crm-idempotency",
    "EVENT_BUS_NAME": "crm-events",
    "QUOTE_BUCKET": "crm-quotes-local",
    "EMAIL_FROM": "quotes@msp.example.com",
    "PORTAL_BASE_URL": "http://localhost:3000",
}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
EVENT_TAP_QUEUE = "crm-events-tap"


def apply_local_defaults(*, fake_credentials: bool) -> None:
    """Fill unset settings with local defaults (and fake credentials for an emulator)."""
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if fake_credentials:
        for name, value in FAKE_CREDENTIALS.items():
            os.environ[name] = value
    reset_settings()  # the environment changed: let the layer read it again


@dataclass(frozen=True)
class LocalResources:
    """What was created; ``tap_queue_url`` receives a copy of every event put on the bus."""

    table_name: str
    bus_name: str
    bucket: str
    sender: str
    tap_queue_url: str

    def drain_events(self, max_messages: int = 100) -> list[dict[str, Any]]:
        """EventBridge events delivered to the tap queue since the last call (each as the full event)."""
        import boto3

        sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
        events: list[dict[str, Any]] = []
        while len(events) < max_messages:
            response = sqs.receive_message(QueueUrl=self.tap_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = response.get("Messages", [])
            if not messages:
                break
            for message in messages:
                events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.tap_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return events


def provision() -> LocalResources:
    """Create the idempotency table, event bus (with a tap queue), quote bucket and verified SES sender."""
    import boto3

    region, endpoint = os.environ["AWS_REGION"], os.environ.get("AWS_ENDPOINT_URL")

    def client(service: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint)

    table, bus = os.environ["IDEMPOTENCY_TABLE"], os.environ["EVENT_BUS_NAME"]
    bucket, sender = os.environ["QUOTE_BUCKET"], os.environ["EMAIL_FROM"]
    dynamodb = client("dynamodb")
    if table not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
        )
    events = client("events")
    if bus not in [b["Name"] for b in events.list_event_buses()["EventBuses"]]:
        events.create_event_bus(Name=bus)
    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName=EVENT_TAP_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="crm-events-tap", EventBusName=bus, EventPattern=json.dumps({"source": ["crm.workflow-actions"]})
    )
    events.put_targets(Rule="crm-events-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    s3 = client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        s3.create_bucket(Bucket=bucket)
    client("ses").verify_email_identity(EmailAddress=sender)
    return LocalResources(table, bus, bucket, sender, queue_url)
