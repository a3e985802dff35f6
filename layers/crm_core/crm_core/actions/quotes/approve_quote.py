"""crm.approve_quote: an approver's decision on a quote pending approval, so a workflow can wait for it.

In the call's one transaction: lock the quote (expired on access like every quote action), refuse a template
and any status but ``pending_approval``, and refuse a decision by the user who submitted the quote (the
``performed_by`` of its latest move to ``pending_approval``), whichever the decision: nobody reviews their
own submission. ``approve`` moves it to ``approved`` with an ``approved`` activity; ``request_changes``
moves it back to ``draft`` with an ``approval_changes_requested`` activity, after which it can be edited and
submitted again. Each status change also writes its ``status_changed`` activity and recalculates the totals.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm_core.actions.fields import ActionInput, ActionOutput, Uuid
from crm_core.actions.quotes.common import add_quote_activity, change_status, load_quote
from crm_core.actions.quotes.detail import QuoteDetail, quote_detail
from crm_core.actions.quotes.transitions import require_status
from crm_core.dal.quote_approvals import latest_submission
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

Decision = Literal["approve", "request_changes"]

# decision -> (new status, activity type, description without a comment)
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "approve": ("approved", "approved", "Quote approved"),
    "request_changes": ("draft", "approval_changes_requested", "Changes requested to quote"),
}


class ApproveQuoteInput(ActionInput):
    """Approve a quote pending approval, or send it back to draft with requested changes."""

    quote_id: Uuid = Field(description="The quote pending approval.")
    decision: Decision = Field(description="approve (-> approved) or request_changes (-> draft).")
    comment: str | None = Field(default=None, max_length=10000, description="The approver's comment.")


class ApproveQuoteOutput(ActionOutput):
    quote: QuoteDetail
    previous_status: str | None
    new_status: str
    decision: Decision


def decision_description(decision: str, comment: str | None) -> str:
    """The activity description of ``decision``, with the comment after a colon when there is one."""
    base = OUTCOMES[decision][2]
    return f"{base}: {comment}" if comment else base


def approve_quote(ctx: ActionContext, data: ApproveQuoteInput) -> ApproveQuoteOutput:
    quote = load_quote(ctx, data.quote_id, template_refusal="approved")
    require_status(
        quote.status,
        ["pending_approval"],
        "quote_pending_approval",
        "Only quotes pending approval can be approved or sent back for changes",
    )
    submission = latest_submission(ctx.connection, ctx.tenant_id, quote.quote_id)
    if submission is not None and submission.submitted_by == ctx.actor_user_id:
        raise guard_failed(
            "approver_is_not_submitter",
            "The user who submitted a quote for approval cannot decide on it",
            field="actor_user_id",
            expected="a user other than the submitter",
            actual=str(ctx.actor_user_id),
            submitted_by=str(submission.submitted_by),
            submitted_at=submission.submitted_at.isoformat(),
        )
    target, activity_type, _ = OUTCOMES[data.decision]
    comment = data.comment.strip() if data.comment and data.comment.strip() else None
    decided = change_status(ctx, quote, target)
    add_quote_activity(
        ctx,
        quote.quote_id,
        activity_type,
        decision_description(data.decision, comment),
        {
            "decision": data.decision,
            "comment": comment,
            "submitted_by": str(submission.submitted_by) if submission and submission.submitted_by else None,
        },
    )
    ctx.audit(
        {
            "quote_id": quote.quote_id,
            "decision": data.decision,
            "previous_status": quote.status,
            "new_status": target,
            "comment": comment,
        }
    )
    return ApproveQuoteOutput(
        quote=quote_detail(decided), previous_status=quote.status, new_status=target, decision=data.decision
    )


SPEC = action_spec(
    approve_quote,
    label="Approve Quote",
    description="Approve a quote pending approval, or send it back to draft with requested changes.",
    permissions=requires("billing:read", "quotes:approve"),
    rehearsal_input={"quote_id": REHEARSAL_ID, "decision": "approve"},
)
