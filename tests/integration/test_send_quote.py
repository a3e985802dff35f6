"""crm.send_quote against real PostgreSQL and moto: guards, recipients, the PDF in S3, the email in SES,
exactly once under concurrency and retries, failures of SES and S3, another tenant, dry run."""

from __future__ import annotations

import email
import email.policy
import io
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from crm_core.aws.ports import EffectPorts
from crm_core.db.models.quotes import QUOTE_STATUSES
from crm_core.errors import NotFoundError, PermissionDeniedError, ValidationError
from crm_core.runtime.effects import relay_pending_effects
from tests.support.quotes import NOW, add_quote
from tests.support.rows import count_rows, fetch_one, tenant_row_counts
from tests.support.tenants import Tenant

ACTION = "crm.send_quote"
EMAIL_LOG = "select * from email_sending_logs where entity_id = :q"


def sent_messages(subject_part: str) -> list[email.message.EmailMessage]:
    """Raw messages moto's SES accepted whose subject contains ``subject_part``."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    found = []
    for message in backend.sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is None:
            continue
        parsed = email.message_from_string(raw, policy=email.policy.default)
        if subject_part in str(parsed["Subject"]):
            found.append(parsed)
    return found


def quote_number(engine, tenant: Tenant, quote_id: uuid.UUID) -> str:
    row = fetch_one(engine, tenant.id, "select quote_number from quotes where quote_id = :q", q=quote_id)
    return str(row["quote_number"])


def test_sends_a_draft_quote_with_pdf_in_s3_and_email_in_ses(aws, tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant, lines=3)
    number = quote_number(engine, tenant, quote_id)

    out = invoke(ACTION, {"quote_id": str(quote_id), "subject": f"Your quote {number}"})

    assert out["no_op"] is False
    assert (out["previous_status"], out["new_status"], out["quote"]["status"]) == ("draft", "sent", "sent")
    assert out["recipients"] == ["carol@acme.example"]
    assert out["email_sent"] is True and out["message_id"]
    assert out["pdf_stored"] is True
    pdf = out["pdf"]
    assert pdf["key"].startswith(f"{tenant.id}/quotes/{quote_id}/") and pdf["key"].endswith(f"Quote_{number}.pdf")
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=pdf["bucket"], Key=pdf["key"])["Body"].read()
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert number in text
    for i in range(3):
        assert f"Managed endpoint {i + 1}" in text
    assert "$150.00" in text  # 2 x 12.50 + 2 x 25.00 + 2 x 37.50

    [message] = sent_messages(number)
    assert message["To"] == "carol@acme.example"
    types = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html", "application/pdf"} <= types
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"Quote_{number}.pdf"
    assert attachment.get_content() == body

    quote = fetch_one(engine, tenant.id, "select * from quotes where quote_id = :q", q=quote_id)
    assert quote["status"] == "sent" and quote["sent_at"] is not None and quote["total_amount"] == 150_00
    activity = fetch_one(
        engine, tenant.id, "select * from quote_activities where quote_id = :q and activity_type = 'sent'", q=quote_id
    )
    assert activity["description"] == "Quote sent to carol@acme.example and published in client portal"
    assert activity["metadata"]["email_sent"] is True
    assert activity["metadata"]["message_id"] == out["message_id"]
    log = fetch_one(engine, tenant.id, "select * from email_sending_logs where entity_id = :q", q=quote_id)
    assert (log["status"], log["message_id"], log["entity_type"]) == ("sent", out["message_id"], "quote")
    document = fetch_one(
        engine,
        tenant.id,
        "select d.* from documents d join document_associations a on a.document_id = d.document_id "
        "and a.tenant = d.tenant where a.entity_type = 'quote' and a.entity_id = :q",
        q=quote_id,
    )
    assert (document["document_name"], document["folder_path"]) == (f"Quote_{number}.pdf", "/Quotes/Generated")
    assert str(document["document_id"]) == pdf["document_id"]
    assert count_rows(engine, tenant.id, "audit_logs", "operation = 'workflow_action:crm.send_quote'") == 1


def test_replay_returns_what_really_happened_and_sends_nothing_more(aws, tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    number = quote_number(engine, tenant, quote_id)
    first = invoke(ACTION, {"quote_id": str(quote_id)}, idempotency_key="send-once")
    again = invoke(ACTION, {"quote_id": str(quote_id)}, idempotency_key="send-once")

    assert again == first
    assert len(sent_messages(number)) == 1
    ledger = fetch_one(
        engine, tenant.id, "select output_json from workflow_action_invocations where action_id = 'crm.send_quote'"
    )
    assert ledger["output_json"]["email_sent"] is True
    assert ledger["output_json"]["message_id"] == first["message_id"]


# Every status of the quotes CHECK except "sent" (a no-op, tested on its own), with approval off and on.
SENDABLE = {False: {"draft", "approved"}, True: {"approved"}}


@pytest.mark.parametrize("status", [s for s in QUOTE_STATUSES if s != "sent"])
@pytest.mark.parametrize("approval_required", [False, True], ids=["approval-off", "approval-on"])
def test_approval_rule_across_statuses(
    aws, tenant: Tenant, engine, invoke, approval_required: bool, status: str
) -> None:
    allowed = status in SENDABLE[approval_required]
    tenant.seed.update_settings({"billing": {"quotes": {"approvalRequired": approval_required}}})
    quote_id = add_quote(tenant, status=status)
    before = tenant_row_counts(engine, tenant.id)

    if allowed:
        assert invoke(ACTION, {"quote_id": str(quote_id)})["new_status"] == "sent"
        return
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id)})
    details = caught.value.details
    assert details["actual"] == status
    assert details["rule"] == ("quote_approved_before_send" if approval_required else "quote_sendable_status")
    assert tenant_row_counts(engine, tenant.id) == before


def test_template_is_refused(aws, tenant: Tenant, engine, invoke) -> None:
    template = tenant.seed.quote(client_id=None, title="Template", is_template=True, items=[])
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(template)})
    assert caught.value.message == "Quote templates cannot be sent to clients"
    assert caught.value.details["rule"] == "quote_is_not_template"


def test_already_sent_is_a_no_op_or_an_error(aws, tenant: Tenant, engine, invoke) -> None:
    sent_at = NOW - timedelta(days=1)
    quote_id = add_quote(tenant, status="sent", sent_at=sent_at)

    out = invoke(ACTION, {"quote_id": str(quote_id)})
    assert out["no_op"] is True and out["recipients"] == [] and out["email_sent"] is False and out["pdf"] is None
    assert abs(datetime.fromisoformat(out["sent_at"]) - sent_at) < timedelta(milliseconds=1)
    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id), "no_op_if_already_sent": False})
    assert caught.value.details["rule"] == "quote_not_already_sent"


def test_recipients_explicit_then_contact_then_billing_then_none(aws, tenant: Tenant, engine, invoke) -> None:
    explicit = add_quote(tenant)
    out = invoke(ACTION, {"quote_id": str(explicit), "email_addresses": ["a@x.example", " b@x.example", "a@x.example"]})
    assert out["recipients"] == ["a@x.example", "b@x.example"]

    assert invoke(ACTION, {"quote_id": str(add_quote(tenant))})["recipients"] == ["carol@acme.example"]

    no_contact = add_quote(tenant, contact_id=None)
    assert invoke(ACTION, {"quote_id": str(no_contact)})["recipients"] == ["billing@acme.example"]

    bare_client = tenant.seed.client("No Mail Ltd")
    nobody = add_quote(tenant, client_id=bare_client, contact_id=None)
    out = invoke(ACTION, {"quote_id": str(nobody)})
    assert out["recipients"] == [] and out["email_sent"] is False and out["message_id"] is None
    assert out["new_status"] == "sent" and out["pdf_stored"] is True
    assert count_rows(engine, tenant.id, "email_sending_logs", "entity_id = :q", q=nobody) == 0


def test_a_sixty_line_quote_makes_a_multi_page_pdf(aws, tenant: Tenant, invoke) -> None:
    from pypdf import PdfReader

    out = invoke(ACTION, {"quote_id": str(add_quote(tenant, lines=60))})
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=out["pdf"]["bucket"], Key=out["pdf"]["key"])
    assert len(PdfReader(io.BytesIO(body["Body"].read())).pages) > 1


def test_another_tenants_quote_is_not_found(aws, tenant: Tenant, other_tenant: Tenant, engine, invoke) -> None:
    foreign = add_quote(other_tenant)
    with pytest.raises(NotFoundError) as caught:
        invoke(ACTION, {"quote_id": str(foreign)})
    assert caught.value.details == {"resource": "quote", "id": str(foreign), "field": "quote_id"}
    assert fetch_one(engine, other_tenant.id, "select status from quotes where quote_id = :q", q=foreign)["status"] == (
        "draft"
    )


def test_missing_billing_permission_is_refused(aws, tenant: Tenant, engine, invoke) -> None:
    technician = tenant.seed.user(roles=["Technician"], first_name="Tess")
    quote_id = add_quote(tenant)
    with pytest.raises(PermissionDeniedError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id)}, actor=technician)
    assert (caught.value.details["resource"], caught.value.details["action"]) == ("billing", "read")


def test_dry_run_sends_and_stores_nothing(aws, tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    number = quote_number(engine, tenant, quote_id)
    before = tenant_row_counts(engine, tenant.id)

    out = invoke(ACTION, {"quote_id": str(quote_id)}, dry_run=True)

    assert (out["new_status"], out["recipients"], out["pdf"]) == ("sent", ["carol@acme.example"], None)
    assert tenant_row_counts(engine, tenant.id) == before
    assert sent_messages(number) == []
    assert boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=aws.bucket).get("KeyCount", 0) == 0


def test_twenty_concurrent_sends_send_one_email(aws, tenant: Tenant, engine, invoke) -> None:
    quote_id = add_quote(tenant)
    number = quote_number(engine, tenant, quote_id)
    outputs: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            outputs.append(invoke(ACTION, {"quote_id": str(quote_id)}, run_id=f"run-{n}"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(o["no_op"] for o in outputs) == [False] + [True] * 19
    assert len(sent_messages(number)) == 1
    assert (
        count_rows(engine, tenant.id, "quote_activities", "quote_id = :q and activity_type = 'sent'", q=quote_id) == 1
    )


def test_ses_failure_keeps_the_quote_sent_and_the_relay_sends_once(
    aws, tenant: Tenant, engine, invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    quote_id = add_quote(tenant)
    number = quote_number(engine, tenant, quote_id)
    with monkeypatch.context() as broken:
        from moto.ses.models import SESBackend

        def unavailable(self: object, *args: object, **kwargs: object) -> None:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError("ServiceUnavailable", "SES is down")

        broken.setattr(SESBackend, "send_raw_email", unavailable)  # SESv2's raw send goes through it
        out = invoke(ACTION, {"quote_id": str(quote_id)}, idempotency_key="ses-down")  # the email waits

    assert out["new_status"] == "sent" and out["email_sent"] is False and out["message_id"] is None
    assert out["email_error"]
    activity = fetch_one(
        engine,
        tenant.id,
        "select metadata from quote_activities where quote_id = :q and activity_type = 'sent'",
        q=quote_id,
    )
    assert activity["metadata"]["email_sent"] is False and activity["metadata"]["email_error"]
    log = fetch_one(
        engine, tenant.id, "select status, error_message from email_sending_logs where entity_id = :q", q=quote_id
    )
    assert log["status"] == "pending" and log["error_message"]

    later = datetime.now(UTC) + timedelta(hours=2)
    relay_pending_effects(engine, EffectPorts(), later, tenant_id=tenant.id)
    relay_pending_effects(engine, EffectPorts(), later + timedelta(hours=2), tenant_id=tenant.id)

    assert len(sent_messages(number)) == 1
    log = fetch_one(
        engine, tenant.id, "select status, message_id from email_sending_logs where entity_id = :q", q=quote_id
    )
    assert log["status"] == "sent" and log["message_id"]
    replay = invoke(ACTION, {"quote_id": str(quote_id)}, idempotency_key="ses-down")
    ledger = fetch_one(
        engine,
        tenant.id,
        "select output_json from workflow_action_invocations where idempotency_key like '%ses-down'",
    )
    assert ledger["output_json"]["email_sent"] is True
    assert ledger["output_json"]["message_id"] == log["message_id"]
    assert replay["new_status"] == "sent"


def test_rejected_email_is_reported_and_not_retried(
    aws, tenant: Tenant, engine, invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    quote_id = add_quote(tenant)
    monkeypatch.setenv("EMAIL_FROM", "unverified@nowhere.example")
    from crm_core.settings import reset_settings

    reset_settings()
    out = invoke(ACTION, {"quote_id": str(quote_id)})

    assert out["email_sent"] is False and "MessageRejected" in (out["email_error"] or "")
    log = fetch_one(
        engine, tenant.id, "select status, attempts from email_sending_logs where entity_id = :q", q=quote_id
    )
    assert (log["status"], log["attempts"]) == ("failed", 1)
    assert fetch_one(engine, tenant.id, "select status from quotes where quote_id = :q", q=quote_id)["status"] == "sent"


def test_s3_failure_leaves_the_pdf_pending_for_the_relay(
    aws, tenant: Tenant, engine, invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    quote_id = add_quote(tenant)
    with monkeypatch.context() as broken:
        from moto.s3.models import S3Backend

        def unavailable(self: object, *args: object, **kwargs: object) -> None:
            from moto.s3.exceptions import S3ClientError

            raise S3ClientError("ServiceUnavailable", "S3 is down")

        broken.setattr(S3Backend, "put_object", unavailable)
        out = invoke(ACTION, {"quote_id": str(quote_id)})

    assert out["pdf_stored"] is False and out["email_sent"] is True
    relay_pending_effects(engine, EffectPorts(), datetime.now(UTC) + timedelta(hours=2), tenant_id=tenant.id)
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.get_object(Bucket=out["pdf"]["bucket"], Key=out["pdf"]["key"])["ContentType"] == "application/pdf"


def _die(*args: object, **kwargs: object) -> None:
    raise SystemExit("container died")


def _send_in_a_dying_container(
    invoke, monkeypatch: pytest.MonkeyPatch, quote_id: uuid.UUID, key: str, target: str, dying_step=_die
) -> None:
    """Send ``quote_id`` with ``target`` replaced by ``dying_step``, which ends the container: the call dies."""
    with monkeypatch.context() as dying:
        dying.setattr(target, dying_step)
        with pytest.raises(SystemExit):
            invoke(ACTION, {"quote_id": str(quote_id)}, idempotency_key=key)


def _forget_dead_calls(aws) -> None:
    """The dead container's in-progress DynamoDB record is gone (it expired): the retry reaches the ledger."""
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(aws.table_name)
    for item in table.scan()["Items"]:
        table.delete_item(Key={"id": item["id"]})


def _relay_twice_later(engine, tenant: Tenant) -> None:
    """The relay runs two and four hours from now, past any backoff: a pending effect is delivered at most once."""
    for hours in (2, 4):
        relay_pending_effects(engine, EffectPorts(), datetime.now(UTC) + timedelta(hours=hours), tenant_id=tenant.id)


def test_a_retry_after_a_crash_before_delivery_sends_one_email(
    aws, tenant: Tenant, engine, invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the commit and before delivery, and its DynamoDB record is lost: the retry is
    answered by the ledger (no second send) and the relay delivers the pending email once."""
    quote_id = add_quote(tenant)
    number = quote_number(engine, tenant, quote_id)

    _send_in_a_dying_container(
        invoke, monkeypatch, quote_id, "crash-once", "crm_core.runtime.handler.deliver_after_commit"
    )

    assert sent_messages(number) == []
    _forget_dead_calls(aws)
    retry = invoke(ACTION, {"quote_id": str(quote_id)}, idempotency_key="crash-once")
    assert retry["new_status"] == "sent" and retry["no_op"] is False
    _relay_twice_later(engine, tenant)
    assert len(sent_messages(number)) == 1


def test_a_crash_between_storing_the_pdf_and_sending_the_email_sends_one_email(
    aws, tenant: Tenant, engine, invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF is stored; the container dies as the email is about to go, before any outcome is recorded. The
    retry replays the ledger; the relay stores the PDF again under the same key (an idempotent put: still one
    object) and sends the email once."""
    quote_id = add_quote(tenant)
    number = quote_number(engine, tenant, quote_id)

    _send_in_a_dying_container(invoke, monkeypatch, quote_id, "crash-mid", "crm_core.aws.mailer.SesMailer.send_raw")

    document = fetch_one(engine, tenant.id, "select status, payload from workflow_event_outbox where kind = 'document'")
    s3 = boto3.client("s3", region_name="us-east-1")
    assert document["status"] == "PENDING"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=aws.bucket)["Contents"] if str(quote_id) in o["Key"]] == [
        document["payload"]["key"]
    ]
    assert sent_messages(number) == []
    _forget_dead_calls(aws)
    retry = invoke(ACTION, {"quote_id": str(quote_id)}, idempotency_key="crash-mid")
    assert (retry["new_status"], retry["no_op"]) == ("sent", False)
    _relay_twice_later(engine, tenant)
    assert len(sent_messages(number)) == 1
    assert count_rows(engine, tenant.id, "workflow_event_outbox", "status = 'DELIVERED'") == 2  # the PDF and the email
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=aws.bucket)["Contents"] if str(quote_id) in o["Key"]] == [
        document["payload"]["key"]
    ]


def test_the_documented_window_a_crash_after_ses_accepted_and_before_the_mark_sends_again(
    aws, tenant: Tenant, engine, invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one duplicate the design allows (crm_core.actions.quotes.send_quote's docstring): SES accepted the
    message, then the container died before the delivery's transaction committed. The row is still pending,
    so the relay sends it again: at most one extra email, and only in that window."""
    quote_id = add_quote(tenant)
    number = quote_number(engine, tenant, quote_id)
    from crm_core.dal import effects as effects_dal

    real_mark = effects_dal.record_marks

    def die_after_email(session, tenant_id, marks) -> None:  # type: ignore[no-untyped-def]
        if any(mark.result and "message_id" in mark.result for mark in marks):
            raise SystemExit("container died before the commit")
        real_mark(session, tenant_id, marks)

    _send_in_a_dying_container(
        invoke, monkeypatch, quote_id, "crash-window", "crm_core.runtime.effects.record_marks", die_after_email
    )

    assert len(sent_messages(number)) == 1
    email_row = fetch_one(engine, tenant.id, "select status from workflow_event_outbox where kind = 'email'")
    assert email_row["status"] == "PENDING"
    _relay_twice_later(engine, tenant)
    assert len(sent_messages(number)) == 2


def test_a_sent_quote_past_its_valid_until_is_expired_on_access_and_not_sent_again(
    aws, tenant: Tenant, engine, invoke
) -> None:
    quote_id = add_quote(tenant, status="sent", sent_at=NOW - timedelta(days=40), valid_until=NOW - timedelta(days=2))
    before = tenant_row_counts(engine, tenant.id)

    with pytest.raises(ValidationError) as caught:
        invoke(ACTION, {"quote_id": str(quote_id)})

    assert (caught.value.details["rule"], caught.value.details["actual"]) == ("quote_sendable_status", "expired")
    assert tenant_row_counts(engine, tenant.id) == before  # the refused call keeps nothing, its expiry included
