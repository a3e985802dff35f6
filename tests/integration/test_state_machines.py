"""The state machines of statemachines/: their structure, and the real definitions executed in moto.

Executions run moto's ASL interpreter with every Lambda task dispatched to the real crm_core handler, against
the real PostgreSQL (see tests/support/local_aws.py). Retry intervals really elapse in moto, so only one
test retries (one second).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crm_core.errors import TransientError
from crm_dev.step_functions import (
    STATE_MACHINES,
    SUBSTITUTION,
    StateMachineRunner,
    function_actions,
    state_machine_resources,
)
from tests.support.activities import CALL_TYPE, add_activity, at, iso
from tests.support.events import published
from tests.support.executions import assert_refused, assert_succeeded, executes
from tests.support.rows import activity_row, count_rows, execute, tag_mappings, tenant_row_counts
from tests.support.tenants import Tenant, actor_with

TICKET_FOLLOW_UP = STATE_MACHINES / "ticket_follow_up.asl.json"
DEFINITIONS = sorted(STATE_MACHINES.glob("*.asl.json"))
REFUSALS = {"NotFoundError", "ValidationError", "PermissionDeniedError", "ConflictError"}
NOTE_BODY = "Follow-up not needed: the client had recent activity"


# ---- structure of every definition ---------------------------------------------------------------------------


def _scopes(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(StartAt, States) of the definition and of every nested Parallel branch and Map processor."""
    yield "", states
    for state in states["States"].values():
        for branch in state.get("Branches", []):
            yield from _scopes(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _scopes(state[key])


def _targets(state: dict[str, Any]) -> list[str]:
    targets = [state[key] for key in ("Next", "Default") if key in state]
    targets += [choice["Next"] for choice in state.get("Choices", [])]
    targets += [catch["Next"] for catch in state.get("Catch", [])]
    return targets


def _lambda_function_of(state: dict[str, Any]) -> str | None:
    """The function a Lambda Task calls: its Resource (direct ARN) or Parameters.FunctionName (lambda:invoke)."""
    resource = state["Resource"]
    if resource.startswith("arn:aws:states:::lambda:invoke"):
        return str(state.get("Parameters", {}).get("FunctionName"))
    return str(resource)


def test_there_are_state_machines() -> None:
    assert TICKET_FOLLOW_UP in DEFINITIONS


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_definition_parses_with_moto_asl_parser(path: Path) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _tree = AmazonStateLanguageParser.parse(path.read_text())

    assert program is not None


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_definition_graph_is_closed(path: Path) -> None:
    definition = json.loads(path.read_text())

    assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"  # moto cannot run JSONata
    for _, scope in _scopes(definition):
        states = scope["States"]
        assert scope["StartAt"] in states
        for name, state in states.items():
            assert state.get("QueryLanguage", "JSONPath") == "JSONPath", name
            for target in _targets(state):
                assert target in states, f"{path.name}: {name} goes to missing state {target}"
        terminal = [n for n, s in states.items() if s.get("End") is True or s["Type"] in {"Succeed", "Fail"}]
        assert terminal, f"{path.name}: no terminal state"
        reachable, frontier = set(), [scope["StartAt"]]
        while frontier:
            name = frontier.pop()
            if name not in reachable:
                reachable.add(name)
                frontier += _targets(states[name])
        assert reachable == set(states), f"{path.name}: unreachable {sorted(set(states) - reachable)}"


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_every_task_calls_a_function_the_template_substitutes_and_allows(path: Path) -> None:
    resource = state_machine_resources().get(path.resolve())
    assert resource is not None, f"no AWS::Serverless::StateMachine in template.yaml has DefinitionUri {path.name}"
    actions = function_actions()
    text = path.read_text()
    definition = json.loads(text)

    used = set(SUBSTITUTION.findall(text))
    assert used <= set(resource.substitutions), f"not in DefinitionSubstitutions: {used - set(resource.substitutions)}"
    tasks = [state for _, scope in _scopes(definition) for state in scope["States"].values() if state["Type"] == "Task"]
    assert tasks
    for state in tasks:
        function = _lambda_function_of(state)
        match = SUBSTITUTION.fullmatch(function or "")
        assert match, f"{path.name}: a Task calls {function!r}, not a ${{...}} substitution"
        logical_id = resource.substitutions[match.group(1)]
        assert logical_id in actions, f"{match.group(1)} is not the Arn of an action function"
        assert logical_id in resource.invocable, f"{resource.logical_id} has no LambdaInvokePolicy for {logical_id}"
        retried = {error for retry in state.get("Retry", []) for error in retry["ErrorEquals"]}
        assert {"TransientError", "IdempotencyAlreadyInProgressError", "Lambda.ServiceException"} <= retried
        caught = {error for catch in state.get("Catch", []) for error in catch["ErrorEquals"]}
        assert caught >= REFUSALS
        assert "States.ALL" in caught
    # The policy invokes exactly the functions the definition calls, and every substitution is used.
    assert set(resource.substitutions) == used, f"unused substitutions: {set(resource.substitutions) - used}"
    called = {resource.substitutions[placeholder] for placeholder in used}
    assert resource.invocable == called, f"{resource.logical_id} may also invoke {resource.invocable - called}"


# ---- ticket_follow_up executed in moto -------------------------------------------------------------------------


@pytest.fixture
def follow_up(harness: StateMachineRunner) -> str:
    return harness.create_state_machine(TICKET_FOLLOW_UP)


def follow_up_input(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    """The follow-up of the tenant's ticket: a Call next Monday 10:00 New York time, looking back from 2026-03-01."""
    execution_input: dict[str, Any] = {
        "tenant_id": str(tenant.id),
        "actor_user_id": str(tenant.actor),
        "client_id": str(tenant.client),
        "contact_id": str(tenant.contact),
        "ticket_id": str(tenant.ticket),
        "since": "2026-03-01T00:00:00Z",
        "follow_up": {
            "type_id": str(CALL_TYPE),
            "title": "Follow-up on T-1001",
            "start_time": "2026-03-09T10:00:00",
            "timezone": "America/New_York",
        },
    }
    for key, value in changes.items():
        execution_input[key] = str(value) if isinstance(value, uuid.UUID) else value
    return execution_input


def after_the_search(*states: str) -> list[str]:
    """The states a follow-up execution enters: the search for recent activity, its check, then ``states``."""
    return ["FindRecentActivities", "HadRecentActivity", *states]


@executes
def test_no_recent_activity_schedules_one_follow_up_and_tags_the_client(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, engine: Any
) -> None:
    add_activity(tenant, when=at(-10))  # before `since`: does not count

    execution = harness.run(follow_up, follow_up_input(tenant))

    output = assert_succeeded(execution)
    activity_id = output.pop("activity_id")
    assert output == {
        "outcome": "scheduled",
        "start_time": "2026-03-09T14:00:00Z",
        "title": "Follow-up on T-1001",
        "client_id": str(tenant.client),
        "ticket_id": str(tenant.ticket),
        "recent_activity_count": 0,
        "tag_added": 1,
    }
    assert execution.entered_states() == after_the_search(
        "PrepareFollowUp", "ScheduleFollowUp", "TagClient", "FollowUpScheduled"
    )
    row = activity_row(engine, tenant.id, activity_id)
    assert row["client_id"] == tenant.client
    assert row["contact_name_id"] == tenant.contact
    assert row["ticket_id"] == tenant.ticket
    assert row["type_id"] == CALL_TYPE
    assert row["title"] == "Follow-up on T-1001"
    assert iso(row["start_time"]) == "2026-03-09T14:00:00Z"
    assert count_rows(engine, tenant.id, "interactions") == 2  # the old one and the follow-up
    assert [m["tag_text"] for m in tag_mappings(engine, tenant.id, tenant.client)] == ["needs-follow-up"]
    events = published(harness.resources)
    logged = [e for e in events if e["detail-type"] == "INTERACTION_LOGGED"]
    assert len(logged) == 1
    assert logged[0]["detail"]["interactionId"] == activity_id
    assert logged[0]["detail"]["clientId"] == str(tenant.client)
    assert logged[0]["detail"]["idempotencyKey"] == f"interaction_logged:{activity_id}"
    assert [e["detail"]["entityId"] for e in events if e["detail-type"] == "TAG_APPLIED"] == [str(tenant.client)]
    # Each task ran once, with the execution as run and its own step; the effects are keyed by the execution.
    schedule = harness.calls("ScheduleActivityFunction")
    assert len(schedule) == 1
    assert schedule[0].payload["run_id"] == execution.arn
    assert schedule[0].payload["idempotency_key"] == f"{execution.arn}:follow-up"
    assert schedule[0].payload["input"] == {
        "type_id": str(CALL_TYPE),
        "title": "Follow-up on T-1001",
        "start_time": "2026-03-09T10:00:00",
        "timezone": "America/New_York",
        "client_id": str(tenant.client),
        "contact_id": str(tenant.contact),
        "ticket_id": str(tenant.ticket),
    }
    assert harness.calls("TagEntityFunction")[0].payload["idempotency_key"] == f"{execution.arn}:tag-client"
    assert harness.calls("CreateActivityNoteFunction") == []


@executes
def test_follow_up_without_timezone_is_read_in_the_clients_time_zone(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant
) -> None:
    execution_input = follow_up_input(tenant)
    del execution_input["follow_up"]["timezone"]
    execution_input["follow_up"]["end_time"] = "2026-03-09T10:30:00"

    output = assert_succeeded(harness.run(follow_up, execution_input))

    assert output["outcome"] == "scheduled"
    assert output["start_time"] == "2026-03-09T14:00:00Z"  # Acme is in America/New_York


@executes
def test_recent_activity_logs_a_note_on_the_ticket_and_schedules_nothing(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, engine: Any
) -> None:
    add_activity(tenant, when=at(0))  # 2026-03-02 09:00Z, after `since`

    execution = harness.run(follow_up, follow_up_input(tenant))

    output = assert_succeeded(execution)
    note_id = output.pop("note_id")
    assert output == {
        "outcome": "not_needed",
        "client_id": str(tenant.client),
        "ticket_id": str(tenant.ticket),
        "recent_activity_count": 1,
    }
    assert execution.entered_states() == after_the_search("LogNoFollowUpNeeded", "NoFollowUpNeeded")
    note = activity_row(engine, tenant.id, note_id)
    assert note["ticket_id"] == tenant.ticket
    assert note["notes"] == NOTE_BODY
    assert count_rows(engine, tenant.id, "interactions") == 2  # the recent one and the note
    assert harness.calls("ScheduleActivityFunction") == []
    assert tag_mappings(engine, tenant.id, tenant.client) == []
    assert [e for e in published(harness.resources) if e["detail-type"] == "INTERACTION_LOGGED"] == []
    assert harness.calls("CreateActivityNoteFunction")[0].payload["run_id"] == execution.arn


@executes
def test_ticket_of_another_tenant_is_refused_and_nothing_is_written(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, other_tenant: Tenant, engine: Any
) -> None:
    before = tenant_row_counts(engine, tenant.id)
    other_before = tenant_row_counts(engine, other_tenant.id)

    execution = harness.run(follow_up, follow_up_input(tenant, ticket_id=other_tenant.ticket))

    failure = assert_refused(execution, "NotFoundError", "NOT_FOUND")
    assert failure["details"]["resource"] == "ticket"
    assert failure["details"]["id"] == str(other_tenant.ticket)
    assert execution.entered_states()[-2] == "ScheduleFollowUp"
    assert [i.error for i in harness.calls("ScheduleActivityFunction")] == ["NotFoundError"]  # not retried
    assert harness.calls("TagEntityFunction") == []
    assert tenant_row_counts(engine, tenant.id) == before
    assert tenant_row_counts(engine, other_tenant.id) == other_before
    assert published(harness.resources) == []


@executes
def test_unknown_client_finds_nothing_and_scheduling_for_it_is_refused(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, engine: Any
) -> None:
    """A search by an unknown client matches nothing (a workflow can branch on zero); scheduling for it is
    refused, and the refused step writes nothing."""
    before = tenant_row_counts(engine, tenant.id)
    unknown = uuid.uuid4()

    execution = harness.run(follow_up, follow_up_input(tenant, client_id=unknown))

    # The client is looked up before it is compared with the ticket's contact: an unknown client is NOT_FOUND.
    failure = assert_refused(execution, "NotFoundError", "NOT_FOUND")
    assert (failure["details"]["resource"], failure["details"]["id"]) == ("client", str(unknown))
    assert execution.entered_states()[0] == "FindRecentActivities"
    assert execution.entered_states()[-2:] == ["ScheduleFollowUp", "ActionRefused"]
    assert tenant_row_counts(engine, tenant.id) == before


@executes
def test_actor_without_permission_is_refused(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, engine: Any
) -> None:
    reader = actor_with(tenant, ("interaction", "read"), ("client", "read"))
    before = tenant_row_counts(engine, tenant.id)

    execution = harness.run(follow_up, follow_up_input(tenant, actor_user_id=reader))

    failure = assert_refused(execution, "PermissionDeniedError", "PERMISSION_DENIED")
    assert failure["details"]["resource"] == "interaction"
    assert execution.entered_states()[-2] == "ScheduleFollowUp"
    assert tenant_row_counts(engine, tenant.id) == before


@executes
def test_invalid_follow_up_is_refused(harness: StateMachineRunner, follow_up: str, tenant: Tenant) -> None:
    execution_input = follow_up_input(tenant)
    execution_input["follow_up"]["start_time"] = "next monday"

    execution = harness.run(follow_up, execution_input)

    assert_refused(execution, "ValidationError", "VALIDATION_ERROR")


@executes
def test_internal_error_fails_as_unexpected_with_the_original_error(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, engine: Any
) -> None:
    execute(engine, tenant.id, "update statuses set is_default = false where tenant = :tenant")

    execution = harness.run(follow_up, follow_up_input(tenant))

    assert execution.status == "FAILED"
    assert execution.error == "InternalError"
    assert execution.entered_states()[-2:] == ["ScheduleFollowUp", "Unexpected"]
    assert execution.cause_json["code"] == "INTERNAL_ERROR"
    assert count_rows(engine, tenant.id, "interactions") == 0


@executes
@pytest.mark.parametrize(
    "when",
    [
        pytest.param("before", id="failed-before-the-effect"),
        pytest.param("after", id="effect-committed-response-lost"),
    ],
)
def test_retried_schedule_task_schedules_exactly_once(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, engine: Any, when: str
) -> None:
    harness.fail_once("ScheduleActivityFunction", TransientError("database unreachable (injected)"), when=when)

    execution = harness.run(follow_up, follow_up_input(tenant))

    output = assert_succeeded(execution)
    assert output["outcome"] == "scheduled"
    calls = harness.calls("ScheduleActivityFunction")
    assert [c.error for c in calls] == ["TransientError", None]
    assert calls[0].payload == calls[1].payload  # same execution, same key
    assert count_rows(engine, tenant.id, "interactions") == 1
    assert count_rows(engine, tenant.id, "interactions", "interaction_id = :id", id=uuid.UUID(output["activity_id"]))
    assert len([e for e in published(harness.resources) if e["detail-type"] == "INTERACTION_LOGGED"]) == 1
    retries = [e for e in execution.history if e["type"] == "TaskFailed"]
    assert len(retries) == 1


@executes
def test_two_executions_for_the_same_ticket_follow_up_once(
    harness: StateMachineRunner, follow_up: str, tenant: Tenant, engine: Any
) -> None:
    first = assert_succeeded(harness.run(follow_up, follow_up_input(tenant)))
    second = assert_succeeded(harness.run(follow_up, follow_up_input(tenant)))

    assert first["outcome"] == "scheduled"
    assert second["outcome"] == "not_needed"  # the follow-up scheduled by the first counts as activity
    assert second["recent_activity_count"] == 1
    assert count_rows(engine, tenant.id, "interactions", "type_id = :call", call=CALL_TYPE) == 1
