"""Flow: quote to cash with the approval loop (statemachines/quote_to_cash.asl.json).

Fiona (Finance) starts the execution: a quote for Acme with two lines (a Map), submitted for approval. The
execution then waits on a task token, which it left in a "Quote approval" note on the client. Ada (Admin) answers
with the approver's tool (``crm-actions approve``, crm_dev/approvals.py): first she requests changes (a second
round starts), then she approves. The quote is sent (PDF to S3, email through SES) and the client tagged; the PDF
and the email are written to the output folder.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from crm_demo import ids
from crm_demo.flows.common import account, create, output_folder, show
from crm_demo.scenes.quotes import save_artifacts
from crm_demo.stage import Stage
from crm_dev.approvals import ApprovalRequest, NoApprovalWaiting, decide, find_request
from crm_dev.step_functions import StateMachineRunner


def _input() -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "tenant_id": str(ids.TENANT),
        "actor_user_id": str(ids.FINANCE),
        "client_id": str(ids.ACME),
        "contact_id": str(ids.ACME_CAROL),
        "approval_required": True,
        "quote": {
            "title": "Managed firewall for Acme",
            "quote_date": today.isoformat(),
            "valid_until": (today + timedelta(days=30)).isoformat(),
        },
        "items": [
            {"description": "Managed firewall (monthly)", "quantity": 2, "unit_price": 149_00,
             "is_recurring": True, "billing_frequency": "monthly", "billing_method": "per_unit"},
            {"description": "Firewall firmware upgrade (fixed fee)", "quantity": 1, "unit_price": 600_00},
        ],
    }  # fmt: skip


def _request(runner: StateMachineRunner, arn: str, round_number: int, timeout: float = 15.0) -> ApprovalRequest | None:
    """The approval request of that round, once the execution has written it (the approver's tool reads it); None
    when the execution ended without asking."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        created = [i for i in runner.invocations_of(arn) if i.action == "crm.create_quote" and i.output]
        if created:
            quote_id = uuid.UUID(created[0].output["quote"]["quote_id"])  # type: ignore[index]
            try:
                request = find_request(ids.TENANT, quote_id)
            except NoApprovalWaiting:
                request = None
            if request is not None and request.round == round_number:
                return request
        if runner.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            return None
        time.sleep(0.05)
    raise RuntimeError(f"execution {arn} did not ask for approval round {round_number} in {timeout} s")


def play(stage: Stage, runner: StateMachineRunner) -> None:
    stage.scene("Flow: quote to cash with the approval loop (quote_to_cash)")
    machine = create(stage, runner, "quote_to_cash.asl.json")
    execution_input = _input()
    arn = runner.start(machine, execution_input, name=f"{stage.run_id}-acme-quote")
    answers = []
    for round_number, decision, comment in [
        (1, "request_changes", "Quote the firmware upgrade as a fixed fee, please"),
        (2, "approve", "Good to go"),
    ]:
        request = _request(runner, arn, round_number)
        if request is None:
            break
        answer = decide(ids.TENANT, ids.ADMIN, request.quote_id, decision, comment, sfn=runner.sfn)
        stage.calls += 1  # crm.approve_quote, run by the approver's tool
        answers.append(
            stage.ok(
                f"round {round_number}: Ada (Admin) ran crm-actions approve --decision {decision}: quote "
                f"{request.quote_number} -> {answer['new_status']}, then {answer['answered']}"
            )
        )
    execution = runner.wait(arn)
    tasks = account(stage, runner, arn)
    extra = ["the approver's tool (crm_dev/approvals.py) answered the task token:", *answers] if answers else []
    sent = [t.output for t in tasks if t.action == "crm.send_quote" and t.output]
    if sent:
        extra += [stage.ok(line) for line in save_artifacts(sent[0])]
    show(stage, runner, "Acme: a quote with two lines, changes requested once, then approved and sent", execution,
         execution_input, extra=extra)  # fmt: skip
    print(f"    {stage.dim(f'quote PDF and sent email (.eml) written to {output_folder()}')}")
