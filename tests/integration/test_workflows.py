"""The PRD's workflows (statemachines/*.asl.json besides the ticket follow-up) executed in moto.

Each execution runs moto's ASL interpreter with every Lambda task dispatched to the real crm_core handler,
against the real PostgreSQL (see tests/support/local_aws.py and crm_dev/step_functions.py). The structure of
every definition is checked by tests/integration/test_state_machines.py. Retry intervals really elapse in moto,
so only one test here retries (one second).
"""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from crm_core.errors import TransientError, ValidationError
from crm_dev.approvals import ApprovalRequest, NoApprovalWaiting, decide
from crm_dev.step_functions import STATE_MACHINES, Execution, StateMachineRunner
from tests.support.activities import MEETING_TYPE, add_activity, at, iso
from tests.support.events import published
from tests.support.executions import assert_refused, assert_succeeded, executes, wait_for_request
from tests.support.quotes import quote_activities, quote_items, quote_row
from tests.support.rows import (
    activity_row,
    audit_rows,
    count_rows,
    fetch_all,
    fetch_one,
    tag_mappings,
    tenant_row_counts,
)
from tests.support.tenants import Tenant, actor_with

UPDATE_ACTIVITY = STATE_MACHINES / "update_activity_from_trigger.asl.json"
BRANCH_ON_RECENT_ACTIVITY = STATE_MACHINES / "branch_on_recent_activity.asl.json"
QUOTE_TO_CASH = STATE_MACHINES / "quote_to_cash.asl.json"


def envelope(tenant: Tenant, **values: Any) -> dict[str, Any]:
    """The execution input: the tenant and its actor, and ``values`` (uuids as strings)."""
    execution_input: dict[str, Any] = {"tenant_id": str(tenant.id), "actor_user_id": str(tenant.actor)}
    for key, value in values.items():
        execution_input[key] = str(value) if isinstance(value, uuid.UUID) else value
    return execution_input


def written_rows(engine: Any, tenant: Tenant) -> dict[str, int]:
    """Row counts of the tenant's tables, but the idempotency ledger (every completed call has its row)."""
    counts = tenant_row_counts(engine, tenant.id)
    del counts["workflow_action_invocations"]
    return counts


def interaction_status(engine: Any, tenant: Tenant, name: str) -> uuid.UUID:
    sql = "select status_id from statuses where tenant = :tenant and status_type = 'interaction' and name = :name"
    status_id: uuid.UUID = fetch_one(engine, tenant.id, sql, name=name)["status_id"]
    return status_id


# ---- update_activity_from_trigger ----------------------------------------------------------------------------


@pytest.fixture
def update_activity(harness: StateMachineRunner) -> str:
    return harness.create_state_machine(UPDATE_ACTIVITY)


@pytest.fixture
def planned_activity(tenant: Tenant, engine: Any) -> uuid.UUID:
    """A Planned call with notes "Agenda", internal, without tags."""
    planned = interaction_status(engine, tenant, "Planned")
    return add_activity(tenant, when=at(1), notes="Agenda", visibility="internal", status_id=planned)


def update_input(tenant: Tenant, activity_id: uuid.UUID, patch: dict[str, Any], status: str) -> dict[str, Any]:
    return envelope(tenant, activity_id=activity_id, patch=patch, status={"status_name": status})


@executes
def test_trigger_patch_and_status_update_the_activity(
    harness: StateMachineRunner, update_activity: str, tenant: Tenant, engine: Any, planned_activity: uuid.UUID
) -> None:
    patch = {"notes": "Customer confirmed", "tags": ["renewal"], "visibility": "client_visible"}

    execution = harness.run(update_activity, update_input(tenant, planned_activity, patch, "Completed"))

    assert assert_succeeded(execution) == {
        "outcome": "updated",
        "activity_id": str(planned_activity),
        "changed_fields": ["notes", "tags", "visibility"],
        "status_no_op": False,
        "previous_status": "Planned",
        "status": "Completed",
    }
    assert execution.entered_states() == [
        "UpdateActivity",
        "PrepareStatusChange",
        "UpdateStatus",
        "WhatChanged",
        "ActivityUpdated",
    ]
    row = activity_row(engine, tenant.id, planned_activity)
    assert (row["notes"], row["tags"], row["visibility"]) == ("Customer confirmed", ["renewal"], "client_visible")
    assert row["status_id"] == interaction_status(engine, tenant, "Completed")
    updated = published(harness.resources, "INTERACTION_UPDATED")
    assert [e["detail"]["changedFields"] for e in updated] == [["notes", "tags", "visibility"], ["status_id"]]
    (call,) = harness.calls("UpdateActivityFunction")
    assert call.payload["run_id"] == execution.arn
    assert call.payload["idempotency_key"] == f"{execution.arn}:update-activity"
    assert harness.calls("UpdateActivityStatusFunction")[0].payload["input"] == {
        "status_name": "Completed",
        "activity_id": str(planned_activity),
    }


@executes
def test_patch_that_changes_nothing_still_moves_the_status(
    harness: StateMachineRunner, update_activity: str, tenant: Tenant, engine: Any, planned_activity: uuid.UUID
) -> None:
    execution = harness.run(update_activity, update_input(tenant, planned_activity, {"notes": "Agenda"}, "Completed"))

    output = assert_succeeded(execution)
    assert output["outcome"] == "status_changed"
    assert output["changed_fields"] == ["status_id"]
    assert (output["previous_status"], output["status"]) == ("Planned", "Completed")
    assert execution.entered_states()[-1] == "StatusChanged"
    assert audit_rows(engine, tenant.id, "crm.update_activity") == []
    assert len(audit_rows(engine, tenant.id, "crm.update_activity_status")) == 1


@executes
def test_activity_already_as_asked_is_unchanged_and_nothing_is_written(
    harness: StateMachineRunner, update_activity: str, tenant: Tenant, engine: Any, planned_activity: uuid.UUID
) -> None:
    before = written_rows(engine, tenant)

    execution = harness.run(update_activity, update_input(tenant, planned_activity, {"notes": "Agenda"}, "planned"))

    assert assert_succeeded(execution) == {
        "outcome": "unchanged",
        "activity_id": str(planned_activity),
        "changed_fields": [],
        "previous_status": "Planned",
        "status": "Planned",
    }
    assert execution.entered_states()[-2:] == ["WhatChanged", "Unchanged"]
    assert written_rows(engine, tenant) == before
    assert published(harness.resources, "INTERACTION_UPDATED") == []


@executes
def test_unknown_activity_is_refused_by_the_first_step(
    harness: StateMachineRunner, update_activity: str, tenant: Tenant, engine: Any
) -> None:
    before = tenant_row_counts(engine, tenant.id)

    execution = harness.run(update_activity, update_input(tenant, uuid.uuid4(), {"notes": "x"}, "Completed"))

    failure = assert_refused(execution, "NotFoundError", "NOT_FOUND")
    assert failure["details"]["resource"] == "interaction"
    assert execution.entered_states() == ["UpdateActivity", "ActionRefused"]
    assert [c.error for c in harness.calls("UpdateActivityFunction")] == ["NotFoundError"]  # not retried
    assert harness.calls("UpdateActivityStatusFunction") == []
    assert tenant_row_counts(engine, tenant.id) == before


@executes
def test_update_whose_response_was_lost_is_retried_to_exactly_one_update(
    harness: StateMachineRunner, update_activity: str, tenant: Tenant, engine: Any, planned_activity: uuid.UUID
) -> None:
    harness.fail_once("UpdateActivityFunction", TransientError("connection reset (injected)"), when="after")

    execution = harness.run(
        update_activity, update_input(tenant, planned_activity, {"notes": "Customer confirmed"}, "Completed")
    )

    output = assert_succeeded(execution)
    assert output["changed_fields"] == ["notes"]  # the replayed output of the committed update
    calls = harness.calls("UpdateActivityFunction")
    assert [c.error for c in calls] == ["TransientError", None]
    assert calls[0].payload == calls[1].payload
    assert len(audit_rows(engine, tenant.id, "crm.update_activity")) == 1
    updated = published(harness.resources, "INTERACTION_UPDATED")
    assert [e["detail"]["changedFields"] for e in updated] == [["notes"], ["status_id"]]
    assert len([e for e in execution.history if e["type"] == "TaskFailed"]) == 1


# ---- branch_on_recent_activity -------------------------------------------------------------------------------


@pytest.fixture
def branch_on_recent(harness: StateMachineRunner) -> str:
    return harness.create_state_machine(BRANCH_ON_RECENT_ACTIVITY)


ACTIVITY_TYPES = ("Sales", "QBR", "Onboarding", "Support")
RunBranch = Callable[..., Execution]
Waiting = tuple[str, ApprovalRequest]  # a waiting execution's arn and its approval request


@pytest.fixture
def activity_types(tenant: Tenant) -> dict[str, uuid.UUID]:
    """The tenant's Sales, QBR, Onboarding and Support interaction types, by name."""
    return {name: tenant.seed.interaction_type(name) for name in ACTIVITY_TYPES}


def branch_input(tenant: Tenant, types: dict[str, uuid.UUID], **changes: Any) -> dict[str, Any]:
    """A client event "now" (2026-03-02 09:00Z): recent means since 90 days before, as the caller computes it."""
    values: dict[str, Any] = {
        "client_id": tenant.client,
        "recent_since": iso(at(-90)),
        "activity_types": [{"name": name, "type_id": str(type_id)} for name, type_id in types.items()],
        "onboarding": {
            "type_id": str(types["Onboarding"]),
            "title": "Onboarding call",
            "start_time": "2026-03-09T10:00:00",
            "timezone": "America/New_York",
        },
    }
    return envelope(tenant, **{**values, **changes})


@pytest.fixture
def run_branch(
    harness: StateMachineRunner, branch_on_recent: str, tenant: Tenant, activity_types: dict[str, uuid.UUID]
) -> RunBranch:
    """Runs branch_on_recent_activity to its end for the tenant's client and the four types (``branch_input``);
    keyword arguments change that input."""

    def run(**changes: Any) -> Execution:
        return harness.run(branch_on_recent, branch_input(tenant, activity_types, **changes))

    return run


def add_of_types(tenant: Tenant, types: dict[str, uuid.UUID], *dated: tuple[str, int]) -> None:
    """An activity for each (type name, days from now) of ``dated``."""
    for name, days in dated:
        add_activity(tenant, when=at(days), type_id=types[name])


def per_type_states(first: str, *more: str) -> list[str]:
    return ["FindRecentOfType", "HadRecentOfType", first, *more]


@executes
def test_client_without_activity_of_the_types_gets_an_onboarding_call(
    harness: StateMachineRunner, run_branch: RunBranch, tenant: Tenant, engine: Any, activity_types: dict[str, Any]
) -> None:
    add_activity(tenant, when=at(-5), type_id=MEETING_TYPE)  # recent, but of none of the four types

    execution = run_branch()

    output = assert_succeeded(execution)
    activity_id = output.pop("activity_id")
    assert output == {
        "outcome": "onboarding_scheduled",
        "client_id": str(tenant.client),
        "start_time": "2026-03-09T14:00:00Z",
        "title": "Onboarding call",
    }
    none_of_type = per_type_states("FindLastOfType", "HadAnyOfType", "NoneOfType")
    assert execution.entered_states() == [
        "FindByType",
        *(none_of_type * 4),
        "Summarize",
        "WhatWasFound",
        "PrepareOnboarding",
        "ScheduleOnboarding",
        "OnboardingScheduled",
    ]
    row = activity_row(engine, tenant.id, activity_id)
    assert (row["client_id"], row["type_id"], row["title"]) == (
        tenant.client,
        activity_types["Onboarding"],
        "Onboarding call",
    )
    assert count_rows(engine, tenant.id, "interactions") == 2
    finds = harness.calls("FindActivitiesFunction")
    client = str(tenant.client)
    assert [c.payload["input"] for c in finds] == [
        request
        for type_id in map(str, activity_types.values())
        for request in (
            {"client_id": client, "type_id": type_id, "date_from": iso(at(-90)), "limit": 1},
            {"client_id": client, "type_id": type_id, "limit": 1},
        )
    ]
    assert [c.payload["step_path"] for c in finds[:2]] == [
        "FindByType/0/FindRecentOfType",
        "FindByType/0/FindLastOfType",
    ]
    (schedule,) = harness.calls("ScheduleActivityFunction")
    assert schedule.payload["idempotency_key"] == f"{execution.arn}:onboarding"
    assert harness.calls("CreateActivityNoteFunction") == []


@executes
def test_client_with_only_old_activity_of_the_types_gets_a_qbr_note(
    harness: StateMachineRunner, run_branch: RunBranch, tenant: Tenant, engine: Any, activity_types: dict[str, Any]
) -> None:
    # Support's newest (-120 days) is still old
    add_of_types(tenant, activity_types, ("Sales", -200), ("Support", -300), ("Support", -120))
    add_activity(tenant, when=at(-3), type_id=MEETING_TYPE)  # recent, but of none of the four types

    execution = run_branch()

    output = assert_succeeded(execution)
    note_id = output.pop("note_id")
    sales, support = iso(at(-200)), iso(at(-120))
    assert output == {
        "outcome": "qbr_note_logged",
        "client_id": str(tenant.client),
        "by_type": [
            {"type": "Sales", "activity": "old", "last_activity_date": sales, "summary": f"Sales on {sales}"},
            {"type": "QBR", "activity": "none", "last_activity_date": None, "summary": "QBR: none"},
            {"type": "Onboarding", "activity": "none", "last_activity_date": None, "summary": "Onboarding: none"},
            {"type": "Support", "activity": "old", "last_activity_date": support, "summary": f"Support on {support}"},
        ],
    }
    assert execution.entered_states()[-4:] == ["Summarize", "WhatWasFound", "LogQbrNote", "QbrNoteLogged"]
    note = activity_row(engine, tenant.id, note_id)
    assert note["client_id"] == tenant.client
    assert note["category"] == "QBR"
    assert note["notes"] == (
        f'QBR due: no ["Sales","QBR","Onboarding","Support"] activity since {iso(at(-90))}; '
        f'the last of each: ["Sales on {sales}","QBR: none","Onboarding: none","Support on {support}"]'
    )
    assert harness.calls("CreateActivityNoteFunction")[0].payload["idempotency_key"] == f"{execution.arn}:qbr-note"
    assert harness.calls("ScheduleActivityFunction") == []
    assert count_rows(engine, tenant.id, "interactions") == 5


@executes
def test_client_with_recent_activity_of_one_type_is_left_alone(
    harness: StateMachineRunner, run_branch: RunBranch, tenant: Tenant, engine: Any, activity_types: dict[str, Any]
) -> None:
    add_of_types(tenant, activity_types, ("Sales", -200), ("QBR", -10))
    before = written_rows(engine, tenant)

    execution = run_branch()

    assert assert_succeeded(execution) == {
        "outcome": "recent_activity",
        "client_id": str(tenant.client),
        "by_type": [
            {
                "type": "Sales",
                "activity": "old",
                "last_activity_date": iso(at(-200)),
                "summary": f"Sales on {iso(at(-200))}",
            },
            {
                "type": "QBR",
                "activity": "recent",
                "last_activity_date": iso(at(-10)),
                "summary": f"QBR on {iso(at(-10))} (recent)",
            },
            {"type": "Onboarding", "activity": "none", "last_activity_date": None, "summary": "Onboarding: none"},
            {"type": "Support", "activity": "none", "last_activity_date": None, "summary": "Support: none"},
        ],
    }
    states = execution.entered_states()
    assert states[-4:] == ["Summarize", "WhatWasFound", "RecentActivity", "NothingToDo"]
    assert states.count("RecentOfType") == 1
    assert states.count("OldOfType") == 1
    assert written_rows(engine, tenant) == before
    assert len(harness.calls("FindActivitiesFunction")) == 7  # QBR's recent activity needs no second search


@executes
def test_onboarding_call_whose_response_was_lost_is_retried_to_exactly_one_call(
    harness: StateMachineRunner, run_branch: RunBranch, tenant: Tenant, engine: Any
) -> None:
    harness.fail_once("ScheduleActivityFunction", TransientError("connection reset (injected)"), when="after")

    execution = run_branch()

    output = assert_succeeded(execution)
    assert output["outcome"] == "onboarding_scheduled"
    calls = harness.calls("ScheduleActivityFunction")
    assert [c.error for c in calls] == ["TransientError", None]
    assert calls[0].payload == calls[1].payload
    assert count_rows(engine, tenant.id, "interactions") == 1  # the committed call, replayed
    assert output["activity_id"] == str(
        fetch_one(engine, tenant.id, "select interaction_id from interactions where tenant = :tenant")["interaction_id"]
    )


@executes
def test_actor_who_may_not_schedule_is_refused_and_nothing_is_written(
    harness: StateMachineRunner, run_branch: RunBranch, tenant: Tenant, engine: Any
) -> None:
    reader = actor_with(tenant, ("interaction", "read"), ("client", "read"))
    before = written_rows(engine, tenant)

    execution = run_branch(actor_user_id=reader)

    failure = assert_refused(execution, "PermissionDeniedError", "PERMISSION_DENIED")
    assert failure["details"]["resource"] == "interaction"
    assert execution.entered_states()[-2:] == ["ScheduleOnboarding", "ActionRefused"]
    assert [c.error for c in harness.calls("ScheduleActivityFunction")] == ["PermissionDeniedError"]
    assert written_rows(engine, tenant) == before


@executes
def test_search_refused_for_one_type_fails_the_map_with_the_actions_error(
    harness: StateMachineRunner, run_branch: RunBranch, tenant: Tenant, engine: Any
) -> None:
    blind = actor_with(tenant, ("client", "read"))  # may not read activities
    before = written_rows(engine, tenant)

    execution = run_branch(actor_user_id=blind)

    failure = assert_refused(execution, "PermissionDeniedError", "PERMISSION_DENIED")
    assert failure["details"]["resource"] == "interaction"
    assert execution.entered_states() == ["FindByType", "FindRecentOfType", "TypeRefused", "ActionRefused"]
    assert written_rows(engine, tenant) == before


# ---- quote_to_cash -------------------------------------------------------------------------------------------
#
# moto runs ``lambda:invoke.waitForTaskToken``: it invokes the function with the token and waits. The approver is
# the real approver's tool (crm_dev/approvals.py, behind ``crm-actions approve``): it reads the token from the
# client's "Quote approval" note, runs crm.approve_quote as the approver and calls SendTaskSuccess or
# SendTaskFailure on moto's Step Functions.


@pytest.fixture
def quote_to_cash(harness: StateMachineRunner) -> str:
    return harness.create_state_machine(QUOTE_TO_CASH)


def quote_input(tenant: Tenant, *, approval_required: bool, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "client_id": tenant.client,
        "contact_id": tenant.contact,
        "approval_required": approval_required,
        "quote": {"title": "Managed services", "quote_date": "2026-03-02", "valid_until": "2026-04-01"},
        "items": [
            {"description": "Managed endpoint", "quantity": 10, "unit_price": 25_00},
            {"description": "Onboarding", "quantity": 1, "unit_price": 500_00},
        ],
    }
    return envelope(tenant, **{**values, **changes})


@pytest.fixture
def awaiting_approval(harness: StateMachineRunner, quote_to_cash: str, tenant: Tenant, engine: Any) -> Waiting:
    """A quote-to-cash execution for a quote that needs approval, waiting for the first decision: its arn and the
    approval request."""
    arn = harness.start(quote_to_cash, quote_input(tenant, approval_required=True))
    return arn, wait_for_request(engine, tenant, 1)


def sent_emails(harness: StateMachineRunner, quote_number: str) -> list[email.message.EmailMessage]:
    """The raw messages moto's SES accepted whose subject names the quote."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    found = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID][harness.region].sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is not None:
            parsed = email.message_from_string(raw, policy=email.policy.default)
            if quote_number in str(parsed["Subject"]):
                found.append(parsed)
    return found


def assert_sent_with_pdf(harness: StateMachineRunner, engine: Any, tenant: Tenant, output: dict[str, Any]) -> None:
    quote_id = uuid.UUID(output["quote_id"])
    assert quote_row(engine, tenant.id, quote_id)["status"] == "sent"
    assert [i["description"] for i in quote_items(engine, tenant.id, quote_id)] == ["Managed endpoint", "Onboarding"]
    [message] = sent_emails(harness, output["quote_number"])
    assert message["To"] == "carol@acme.example"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"Quote_{output['quote_number']}.pdf"
    assert [m["tag_text"] for m in tag_mappings(engine, tenant.id, tenant.client)] == ["quote-sent"]


@executes
def test_quote_without_approval_is_created_filled_sent_and_the_client_tagged(
    harness: StateMachineRunner, quote_to_cash: str, tenant: Tenant, engine: Any
) -> None:
    execution = harness.run(quote_to_cash, quote_input(tenant, approval_required=False))

    output = assert_succeeded(execution)
    assert output["outcome"] == "sent"
    assert (output["lines"], output["status"], output["email_sent"]) == (2, "sent", True)
    assert output["recipients"] == ["carol@acme.example"]
    assert output["tag_added"] == 1
    assert_sent_with_pdf(harness, engine, tenant, output)
    states = execution.entered_states()
    assert states[:3] == ["PrepareQuote", "CreateQuote", "AddItems"]
    assert states[-4:] == ["ApprovalRequired", "SendQuote", "TagClient", "QuoteSent"]
    assert states.count("AddQuoteItem") == 2
    items = harness.calls("AddQuoteItemFunction")
    assert [c.payload["idempotency_key"] for c in items] == [f"{execution.arn}:item:0", f"{execution.arn}:item:1"]
    assert [c.payload["step_path"] for c in items] == ["AddItems/0/AddQuoteItem", "AddItems/1/AddQuoteItem"]
    assert harness.calls("SubmitQuoteForApprovalFunction") == []


@executes
def test_approval_loop_requests_changes_once_then_approves_and_sends_one_email(
    harness: StateMachineRunner, awaiting_approval: Waiting, tenant: Tenant, engine: Any, approver: uuid.UUID
) -> None:
    arn, first = awaiting_approval
    assert (first.round, first.execution_arn) == (1, arn)
    changes = decide(tenant.id, approver, first.quote_id, "request_changes", "Bundle the onboarding", sfn=harness.sfn)
    assert (changes["new_status"], changes["answered"]) == ("draft", "SendTaskSuccess")
    second = wait_for_request(engine, tenant, 2)
    assert second.task_token != first.task_token
    assert second.quote_id == first.quote_id
    approved = decide(tenant.id, approver, second.quote_id, "approve", sfn=harness.sfn)
    assert (approved["round"], approved["new_status"]) == (2, "approved")
    execution = harness.wait(arn, timeout=20.0)

    output = assert_succeeded(execution)
    assert (output["status"], output["email_sent"]) == ("sent", True)
    assert_sent_with_pdf(harness, engine, tenant, output)
    states = execution.entered_states()
    assert states[states.index("ApprovalRequired") :] == [
        "ApprovalRequired",
        "FirstApprovalRound",
        "SubmitForApproval",
        "WaitForApproval",
        "Decision",
        "NextApprovalRound",
        "SubmitForApproval",
        "WaitForApproval",
        "Decision",
        "SendQuote",
        "TagClient",
        "QuoteSent",
    ]
    activities = quote_activities(engine, tenant.id, first.quote_id)
    decisions = [(a["activity_type"], a["performed_by"]) for a in activities if a["activity_type"].startswith("appro")]
    assert decisions == [("approval_changes_requested", approver), ("approved", approver)]
    assert [a["description"] for a in activities if a["activity_type"] == "approval_changes_requested"] == [
        "Changes requested to quote: Bundle the onboarding"
    ]
    keys = fetch_all(
        engine,
        tenant.id,
        "select idempotency_key from workflow_action_invocations where action_id = 'crm.approve_quote'"
        " order by idempotency_key",
    )
    prefix = f"{tenant.id}:crm.approve_quote@1:"
    assert [k["idempotency_key"] for k in keys] == [f"{prefix}{arn}:decision:1", f"{prefix}{arn}:decision:2"]
    submits = harness.calls("SubmitQuoteForApprovalFunction")
    assert [c.payload["idempotency_key"] for c in submits] == [f"{arn}:submit:1", f"{arn}:submit:2"]
    assert [c.output["new_status"] for c in submits if c.output] == ["pending_approval", "pending_approval"]
    assert len(sent_emails(harness, output["quote_number"])) == 1


class RecordingStepFunctions:
    """The harness's Step Functions client, recording the arguments of each SendTask* call."""

    def __init__(self, client: Any):
        self.client = client
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if not name.startswith("send_task_"):
            return attribute

        def record(**kwargs: Any) -> Any:
            self.sent.append((name, kwargs))
            return attribute(**kwargs)

        return record


@executes
def test_rejected_quote_ends_in_quote_rejected_and_is_not_sent(
    harness: StateMachineRunner, awaiting_approval: Waiting, tenant: Tenant, engine: Any, approver: uuid.UUID
) -> None:
    arn, request = awaiting_approval
    sfn = RecordingStepFunctions(harness.sfn)

    answer = decide(tenant.id, approver, request.quote_id, "reject", "Too expensive", sfn=sfn)
    execution = harness.wait(arn, timeout=20.0)

    assert answer["answered"] == "SendTaskFailure"
    [(call, sent)] = sfn.sent
    assert (call, sent["taskToken"], sent["error"]) == ("send_task_failure", request.task_token, "QuoteRejected")
    assert json.loads(sent["cause"]) == {
        "decision": "reject",
        "new_status": "draft",
        "approver_user_id": str(approver),
        "comment": "Too expensive",
    }
    assert (execution.status, execution.error) == ("FAILED", "QuoteRejected")
    # Step Functions gives the Fail state the cause sent with the error; moto 5.2.5 drops SendTaskFailure's cause
    # on the way in (moto/stepfunctions/responses.py passes only the error), so here it may be missing.
    assert execution.cause in {None, sent["cause"]}
    assert execution.entered_states()[-2:] == ["WaitForApproval", "QuoteRejected"]
    assert quote_row(engine, tenant.id, request.quote_id)["status"] == "draft"
    descriptions = [a["description"] for a in quote_activities(engine, tenant.id, request.quote_id)]
    assert "Changes requested to quote: Rejected: Too expensive" in descriptions
    assert harness.calls("SendQuoteFunction") == []
    with pytest.raises(NoApprovalWaiting, match="FAILED"):
        decide(tenant.id, approver, request.quote_id, "approve", sfn=harness.sfn)


@executes
def test_submitter_cannot_approve_and_the_execution_keeps_waiting(
    harness: StateMachineRunner, awaiting_approval: Waiting, tenant: Tenant, engine: Any
) -> None:
    arn, request = awaiting_approval

    with pytest.raises(ValidationError) as refused:
        decide(tenant.id, tenant.actor, request.quote_id, "approve", sfn=harness.sfn)

    assert refused.value.details["rule"] == "approver_is_not_submitter"
    assert harness.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert quote_row(engine, tenant.id, request.quote_id)["status"] == "pending_approval"
    harness.sfn.stop_execution(executionArn=arn)


@executes
def test_send_whose_response_was_lost_is_retried_to_exactly_one_email(
    harness: StateMachineRunner, quote_to_cash: str, tenant: Tenant, engine: Any
) -> None:
    harness.fail_once("SendQuoteFunction", TransientError("connection reset (injected)"), when="after")

    execution = harness.run(quote_to_cash, quote_input(tenant, approval_required=False))

    output = assert_succeeded(execution)
    assert [c.error for c in harness.calls("SendQuoteFunction")] == ["TransientError", None]
    assert_sent_with_pdf(harness, engine, tenant, output)  # exactly one email, with the PDF
    assert len([e for e in execution.history if e["type"] == "TaskFailed"]) == 1


@executes
def test_send_without_the_approval_the_tenant_requires_is_refused(
    harness: StateMachineRunner, quote_to_cash: str, tenant: Tenant, engine: Any
) -> None:
    tenant.seed.update_settings({"billing": {"quotes": {"approvalRequired": True}}})

    execution = harness.run(quote_to_cash, quote_input(tenant, approval_required=False))

    failure = assert_refused(execution, "ValidationError", "VALIDATION_ERROR")
    assert failure["details"]["rule"] == "quote_approved_before_send"
    assert execution.entered_states()[-2:] == ["SendQuote", "ActionRefused"]
    assert [c.error for c in harness.calls("SendQuoteFunction")] == ["ValidationError"]
    (quote,) = fetch_all(engine, tenant.id, "select status from quotes where tenant = :tenant")
    assert quote["status"] == "draft"
    assert harness.calls("TagEntityFunction") == []


@executes
def test_refused_line_fails_the_map_with_the_actions_error(
    harness: StateMachineRunner, quote_to_cash: str, tenant: Tenant
) -> None:
    items = [{"description": "Managed endpoint", "quantity": 0, "unit_price": 25_00}]

    execution = harness.run(quote_to_cash, quote_input(tenant, approval_required=False, items=items))

    assert_refused(execution, "ValidationError", "VALIDATION_ERROR")
    assert execution.entered_states()[-3:] == ["AddQuoteItem", "ItemRefused", "ActionRefused"]
    assert harness.calls("SendQuoteFunction") == []
