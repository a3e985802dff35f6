"""crm.submit_quote_for_approval: move a draft quote to ``pending_approval``.

In the call's one transaction: lock the quote (expired on access like every quote action), refuse a template,
return ``no_op`` (no audit row) for a quote already pending approval unless ``no_op_if_already_pending`` is
false, refuse any other status than ``draft``; then change the status with its ``status_changed`` activity,
recalculate the totals, add an ``approval_submitted`` activity when a comment (or, failing that, a reason) is
given, and record the audit row. Whoever submits cannot then approve the quote (crm.approve_quote).
"""

from __future__ import annotations

from pydantic import Field

from crm_core.actions.fields import ActionInput, ActionOutput, Uuid
from crm_core.actions.quotes.common import add_quote_activity, change_status, load_quote
from crm_core.actions.quotes.detail import QuoteDetail, quote_detail
from crm_core.actions.quotes.transitions import require_status
from crm_core.errors import guard_failed
from crm_core.runtime.context import ActionContext
from crm_core.runtime.spec import REHEARSAL_ID, action_spec, requires

PENDING = "pending_approval"


class SubmitQuoteForApprovalInput(ActionInput):
    """Submit a draft quote for approval."""

    quote_id: Uuid = Field(description="The quote to submit.")
    comment: str | None = Field(default=None, max_length=10000, description="A note for the approver.")
    reason: str | None = Field(
        default=None, max_length=10000, description="Why approval is needed (used when no comment is given)."
    )
    no_op_if_already_pending: bool = Field(
        default=True, description="Return no_op for a quote already pending approval (otherwise a ValidationError)."
    )


class SubmitQuoteForApprovalOutput(ActionOutput):
    quote: QuoteDetail
    previous_status: str | None
    new_status: str | None
    no_op: bool


def submission_note(comment: str | None, reason: str | None) -> str | None:
    """The note of the ``approval_submitted`` activity: the comment, else the reason (trimmed), else None."""
    for text in (comment, reason):
        if text and text.strip():
            return text.strip()
    return None


def submit_quote_for_approval(ctx: ActionContext, data: SubmitQuoteForApprovalInput) -> SubmitQuoteForApprovalOutput:
    quote = load_quote(ctx, data.quote_id, template_refusal="submitted for approval")
    if quote.status == PENDING:
        if data.no_op_if_already_pending:
            return SubmitQuoteForApprovalOutput(
                quote=quote_detail(quote), previous_status=PENDING, new_status=PENDING, no_op=True
            )
        raise guard_failed(
            "quote_not_already_pending",
            "Quote is already pending approval",
            field="status",
            expected=["draft"],
            actual=PENDING,
        )
    require_status(
        quote.status, ["draft"], "quote_submittable_status", "Only draft quotes can be submitted for approval"
    )
    submitted = change_status(ctx, quote, PENDING)
    note = submission_note(data.comment, data.reason)
    if note is not None:
        add_quote_activity(
            ctx, quote.quote_id, "approval_submitted", f"Quote submitted for approval: {note}", {"comment": note}
        )
    ctx.audit(
        {
            "quote_id": quote.quote_id,
            "previous_status": quote.status,
            "new_status": PENDING,
            "comment": note,
            "total_amount": submitted.total_amount,
        }
    )
    return SubmitQuoteForApprovalOutput(
        quote=quote_detail(submitted), previous_status=quote.status, new_status=PENDING, no_op=False
    )


SPEC = action_spec(
    submit_quote_for_approval,
    label="Submit Quote for Approval",
    description="Move a draft quote to pending approval, with an optional comment for the approver.",
    permissions=requires("billing:read", "billing:update"),
    rehearsal_input={"quote_id": REHEARSAL_ID},
)
