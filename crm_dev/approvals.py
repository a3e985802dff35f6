"""The approver's tool of statemachines/quote_to_cash.asl.json (``crm-actions approve``).

The state machine's ``WaitForApproval`` step (``lambda:invoke.waitForTaskToken``) writes an internal note on the
client, category ``Quote approval``::

    Quote Q-0007 (<quote_id>) awaits approval, round 2 of execution <execution arn>. Task token: <token>

and waits. ``decide`` finds the newest such note for a quote, checks that its execution still runs, runs
``crm.approve_quote`` through its real handler as the approver, then answers the token:

- ``approve`` / ``request_changes``: ``SendTaskSuccess`` with ``{decision, new_status, approver_user_id, comment}``;
  the state machine sends the quote, or starts the next approval round;
- ``reject``: ``crm.approve_quote`` has no rejection, so the quote goes back to draft (``request_changes``, the
  comment prefixed ``Rejected:``) and ``SendTaskFailure`` with error ``QuoteRejected`` ends the execution in its
  ``QuoteRejected`` state.

The decision's idempotency key is ``{execution}:decision:{round}``: running the same command again after a crash
between the decision and the answer replays the recorded decision and answers the token; a different decision for
the same round is the action's ``ConflictError``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

DECISIONS = ("approve", "request_changes", "reject")
REJECTED = "QuoteRejected"
NOTE_CATEGORY = "Quote approval"
NOTE = re.compile(
    r"Quote (?P<number>\S+) \((?P<quote_id>[0-9a-fA-F-]{36})\) awaits approval, round (?P<round>\d+)"
    r" of execution (?P<execution>\S+)\. Task token: (?P<token>\S+)\s*\Z",
    re.DOTALL,
)
_FIND_NOTES = "select notes from interactions where tenant = :tenant and category = :category and notes like :pattern"
_STALE_TOKEN = {"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"}


class NoApprovalWaiting(Exception):
    """No approval request of a running quote-to-cash execution waits for this quote."""


@dataclass(frozen=True)
class ApprovalRequest:
    """One ``WaitForApproval`` note: which quote, which round of which execution, and the task token."""

    quote_id: uuid.UUID
    quote_number: str
    round: int
    execution_arn: str
    task_token: str


def parse_request(note: str) -> ApprovalRequest | None:
    """The request a ``Quote approval`` note carries, or None when the note is not one of the state machine's."""
    found = NOTE.match(note.strip())
    if found is None:
        return None
    return ApprovalRequest(
        quote_id=uuid.UUID(found["quote_id"]),
        quote_number=found["number"],
        round=int(found["round"]),
        execution_arn=found["execution"],
        task_token=found["token"],
    )


def find_request(tenant_id: uuid.UUID, quote_id: uuid.UUID, *, engine: Any = None) -> ApprovalRequest:
    """The newest approval request (highest round) for the quote; NoApprovalWaiting when there is none."""
    from crm_core.db.engine import get_engine, tenant_transaction

    with tenant_transaction(tenant_id, engine=engine or get_engine()) as session:
        notes = session.execute(
            text(_FIND_NOTES),
            {"tenant": tenant_id, "category": NOTE_CATEGORY, "pattern": f"%({quote_id})%"},
        ).scalars()
        requests = [r for r in map(parse_request, notes) if r is not None and r.quote_id == quote_id]
    if not requests:
        raise NoApprovalWaiting(
            f"no approval request for quote {quote_id}: no quote-to-cash execution has submitted it for approval"
        )
    return max(requests, key=lambda r: r.round)


def _stepfunctions() -> Any:
    import boto3

    return boto3.client("stepfunctions")


def decide(
    tenant_id: uuid.UUID,
    approver_user_id: uuid.UUID,
    quote_id: uuid.UUID,
    decision: str,
    comment: str | None = None,
    *,
    sfn: Any = None,
    engine: Any = None,
) -> dict[str, Any]:
    """Decide on the quote's waiting approval request and answer its task token; what was done.

    Raises NoApprovalWaiting when nothing waits, and the action's error (``ActionFailure``) when
    ``crm.approve_quote`` refuses the decision (then the token is not answered and the execution keeps waiting).
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    from botocore.exceptions import ClientError

    from crm_core.runtime import build_handler, get_spec
    from crm_dev.lambda_context import LocalLambdaContext

    sfn = sfn or _stepfunctions()
    request = find_request(tenant_id, quote_id, engine=engine)
    status = sfn.describe_execution(executionArn=request.execution_arn)["status"]
    if status != "RUNNING":
        raise NoApprovalWaiting(
            f"quote {request.quote_number}: its approval request (round {request.round}) belongs to execution "
            f"{request.execution_arn}, which is {status}; nothing waits for a decision"
        )
    action_comment = comment
    if decision == "reject":
        action_comment = f"Rejected: {comment}" if comment else "Rejected"
    event = {
        "tenant_id": str(tenant_id),
        "actor_user_id": str(approver_user_id),
        "run_id": request.execution_arn,
        "step_path": "WaitForApproval/decision",
        "idempotency_key": f"{request.execution_arn}:decision:{request.round}",
        "input": {
            "quote_id": str(quote_id),
            "decision": "request_changes" if decision == "reject" else decision,
            "comment": action_comment,
        },
    }
    spec = get_spec("crm.approve_quote")
    output = build_handler(spec)(event, LocalLambdaContext(spec.name))
    answer = {
        "decision": decision,
        "new_status": output["new_status"],
        "approver_user_id": str(approver_user_id),
        "comment": comment,
    }
    try:
        if decision == "reject":
            sfn.send_task_failure(taskToken=request.task_token, error=REJECTED, cause=json.dumps(answer))
            answered = "SendTaskFailure"
        else:
            sfn.send_task_success(taskToken=request.task_token, output=json.dumps(answer))
            answered = "SendTaskSuccess"
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in _STALE_TOKEN:
            raise
        raise NoApprovalWaiting(
            f"quote {request.quote_number}: the approval request of round {request.round} no longer waits ({code}); "
            "it was answered already, or the next round has not asked yet (try again in a moment)"
        ) from exc
    return {
        "quote_id": str(quote_id),
        "quote_number": request.quote_number,
        "round": request.round,
        "execution_arn": request.execution_arn,
        "decision": decision,
        "new_status": output["new_status"],
        "answered": answered,
    }
