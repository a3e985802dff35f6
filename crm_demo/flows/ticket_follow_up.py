"""Flow: follow-up after a ticket closes (statemachines/ticket_follow_up.asl.json), three executions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from crm_core import errors
from crm_core.db.engine import get_engine, tenant_transaction
from crm_demo import ids
from crm_demo.stage import Stage
from crm_demo.trace import path_lines
from crm_dev.step_functions import STATE_MACHINES, Execution, Invocation, StateMachineRunner

DEFINITION = STATE_MACHINES / "ticket_follow_up.asl.json"
COUNT_ACTIVITIES = "select count(*) from interactions where tenant = :tenant"


def _next_monday_10am(zone: str) -> str:
    """Next Monday 10:00 as local wall-clock time without an offset (read in the follow-up's ``timezone``)."""
    today = datetime.now(ZoneInfo(zone)).date()
    return datetime.combine(today + timedelta(days=(7 - today.weekday()) or 7), time(10, 0)).isoformat()


def _execution_input(
    client_id: uuid.UUID, contact_id: uuid.UUID, ticket_id: uuid.UUID, *, title: str, zone: str, since: str
) -> dict[str, Any]:
    """The state machine's input (README, Workflows): the records, ``since`` and the follow-up to schedule."""
    start = _next_monday_10am(zone)
    return {
        "tenant_id": str(ids.TENANT),
        "actor_user_id": str(ids.ADMIN),
        "client_id": str(client_id),
        "contact_id": str(contact_id),
        "ticket_id": str(ticket_id),
        "since": since,
        "follow_up": {
            "type_id": str(ids.CALL_TYPE),
            "title": title,
            "start_time": start,
            "end_time": start.replace("T10:00", "T10:30"),
            "timezone": zone,
            "notes": "The ticket was resolved; check that the client is happy.",
        },
    }


def _tasks(runner: StateMachineRunner, execution: Execution) -> list[Invocation]:
    """The Lambda invocations of one execution, in order (every payload carries run_id = the execution)."""
    return [i for i in runner.invocations if i.payload.get("run_id") == execution.arn]


def _answer(task: Invocation) -> str:
    """How a task's handler answered; for the search, what it found (the state machine keeps only the count)."""
    if task.error:
        return f"✘ {task.error}"
    activities = (task.output or {}).get("activities")
    if task.action != "crm.find_activities" or activities is None:
        return "✔"
    if not activities:
        return "✔ found nothing since `since`"
    first = activities[0]
    when = datetime.fromisoformat(first["interaction_date"].replace("Z", "+00:00"))
    planned = " (planned)" if when > datetime.now(UTC) else ""
    return f"✔ {first['title']!r} {when:%Y-%m-%d}{planned}"


def _trace(stage: Stage, runner: StateMachineRunner, execution: Execution, tasks: list[Invocation]) -> list[str]:
    """The execution's path, state by state with inputs and outputs, and what each search found."""
    lines = path_lines(execution, runner.actions)
    lines += [
        f"  search {t.payload.get('step_path', '?')}: {_answer(t)}" for t in tasks if t.action == "crm.find_activities"
    ]
    lines.append(stage.dim(f"execution {execution.arn.rsplit(':', 1)[-1]}, {execution.seconds:.2f} s"))
    return lines


def _failure(execution: Execution) -> errors.ActionFailure:
    """The action's error as the execution reports it: error = its class name, cause = its JSON."""
    cause = execution.cause_json
    cls = getattr(errors, execution.error or "", None)
    if not (isinstance(cls, type) and issubclass(cls, errors.ActionFailure)):
        cls = errors.ActionFailure
    return cls(cause["message"], cause.get("details"), code=cause["code"])


def _activity(activity_id: str) -> dict[str, Any]:
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        return dict(
            session.execute(
                text(
                    "select i.title, i.notes, i.start_time, c.full_name, t.ticket_number from interactions i"
                    " left join contacts c on c.tenant = i.tenant and c.contact_name_id = i.contact_name_id"
                    " left join tickets t on t.tenant = i.tenant and t.ticket_id = i.ticket_id"
                    " where i.tenant = :tenant and i.interaction_id = :id"
                ),
                {"tenant": ids.TENANT, "id": uuid.UUID(activity_id)},
            )
            .mappings()
            .one()
        )


def _client_tags(client_id: uuid.UUID) -> list[str]:
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        rows = session.execute(
            text(
                "select d.tag_text from tag_mappings m join tag_definitions d"
                " on d.tenant = m.tenant and d.tag_id = m.tag_id"
                " where m.tenant = :tenant and m.tagged_id = :client order by d.tag_text"
            ),
            {"tenant": ids.TENANT, "client": client_id},
        )
        return [str(tag) for tag in rows.scalars()]


def _count(sql: str) -> int:
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        return int(session.execute(text(sql), {"tenant": ids.TENANT}).scalar_one())


def _run(
    stage: Stage, runner: StateMachineRunner, machine: str, name: str, execution_input: dict[str, Any]
) -> tuple[Execution, list[Invocation]]:
    execution = runner.run(machine, execution_input, name=f"{stage.run_id}-{name}")
    tasks = _tasks(runner, execution)
    stage.calls += len(tasks)  # the summary counts the state machine's Lambda calls like the scenes' own
    stage.failures += sum(1 for t in tasks if t.error)
    return execution, tasks


def _event(event: dict[str, Any], tags: dict[str, str]) -> str:
    """One event of the workflow's, as the tags scene shows them."""
    kind, detail = event["DetailType"], event["Detail"]
    if kind == "INTERACTION_LOGGED":
        return f"{kind:<22} activity {detail['interactionId']} ({detail['interactionType']})"
    if kind == "TAG_APPLIED":
        return f"{kind:<22} {tags[detail['tagId']]!r} -> {detail['entityType']} {detail['entityId']}"
    return f"{kind:<22} {tags[detail['tagId']]!r}"


def _unexpected(execution: Execution) -> str:
    return f"unexpected: {execution.status} {execution.output or ''} {execution.error or ''} {execution.cause or ''}"


def play(stage: Stage, runner: StateMachineRunner) -> None:
    stage.scene("Flow: follow-up after a ticket closes (ticket_follow_up)")
    since = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    resource = runner.state_machines[DEFINITION.resolve()]
    machine = runner.create_state_machine(DEFINITION, name=f"ticket-follow-up-{stage.run_id}")
    stage.show(
        f"{DEFINITION.relative_to(DEFINITION.parents[1])} as {resource.logical_id} (template.yaml)",
        [
            "moto runs the ASL; every Lambda task is dispatched to the action's real handler, in this process:",
            *(
                f"  ${{{placeholder}}} -> {function} -> {runner.actions[function]}"
                for placeholder, function in resource.substitutions.items()
            ),
            f"each execution looks back to since = {since} (30 days ago)",
        ],
    )

    # Initech: its only activity is 60 days old -> a follow-up call on the ticket, and the client tagged.
    before = _count(COUNT_ACTIVITIES)
    initech, tasks = _run(
        stage,
        runner,
        machine,
        "initech",
        _execution_input(
            ids.INITECH,
            ids.INITECH_PETER,
            ids.INITECH_TICKET,
            title="Follow-up on T-1003",
            zone="America/Chicago",
            since=since,
        ),
    )
    out = initech.output or {}
    if initech.status == "SUCCEEDED" and out.get("outcome") == "scheduled":
        row = _activity(out["activity_id"])
        tags = {t["tag_id"]: t["tag_text"] for task in tasks for t in (task.output or {}).get("added_tags", [])}
        order = ["INTERACTION_LOGGED", "TAG_DEFINITION_CREATED", "TAG_APPLIED"]  # EventBridge keeps none
        events = sorted(
            (
                e
                for e in stage.events()
                if e["Detail"].get("interactionId") == out["activity_id"] or e["Detail"].get("tagId") in tags
            ),
            key=lambda e: order.index(e["DetailType"]) if e["DetailType"] in order else len(order),
        )
        lines = [
            stage.ok(
                f"{initech.status}: outcome {out['outcome']}, recent_activity_count {out['recent_activity_count']}"
            ),
            *_trace(stage, runner, initech, tasks),
            stage.ok(f"activity {out['activity_id']}: {out['title']!r} at {out['start_time']}"),
            f"  with {row['full_name']}, on ticket {row['ticket_number']}; Monday 10:00 America/Chicago is "
            f"{row['start_time'].astimezone(UTC):%Y-%m-%d %H:%M}Z",
            f"  interactions in the tenant {before} -> {_count(COUNT_ACTIVITIES)}",
            stage.ok(f"tag_added {out['tag_added']}: Initech's tags are now {', '.join(_client_tags(ids.INITECH))}"),
            "published to EventBridge:",
            *(stage.ok(_event(e, tags)) for e in events),
        ]
    else:
        lines = [_unexpected(initech), *_trace(stage, runner, initech, tasks)]
    stage.show("Initech: ticket T-1003 resolved, last activity 60 days ago", lines)

    # Acme: activities in the last days -> only a note on the ticket that no follow-up is needed.
    before = _count(COUNT_ACTIVITIES)
    acme, tasks = _run(
        stage,
        runner,
        machine,
        "acme",
        _execution_input(
            ids.ACME,
            ids.ACME_CAROL,
            ids.ACME_TICKET,
            title="Follow-up on T-1001",
            zone="America/New_York",
            since=since,
        ),
    )
    out = acme.output or {}
    if acme.status == "SUCCEEDED" and out.get("outcome") == "not_needed":
        note = _activity(out["note_id"])
        lines = [
            stage.ok(
                f"{acme.status}: outcome {out['outcome']}, recent_activity_count {out['recent_activity_count']} "
                "(the search stops at one)"
            ),
            *_trace(stage, runner, acme, tasks),
            stage.ok(f"note {out['note_id']} on {note['ticket_number']}: {note['notes']!r}"),
            f"  nothing scheduled or tagged; interactions in the tenant {before} -> {_count(COUNT_ACTIVITIES)}",
        ]
    else:
        lines = [_unexpected(acme), *_trace(stage, runner, acme, tasks)]
    stage.show("Acme Corp: ticket T-1001 resolved, activities in the last days", lines)

    # Refused: a ticket id of no tenant. The note task answers NotFoundError; Catch -> Fail state ActionRefused.
    before = _count(COUNT_ACTIVITIES)
    refused, tasks = _run(
        stage,
        runner,
        machine,
        "refused",
        _execution_input(ids.GLOBEX, ids.GLOBEX_HANK, ids.TENANT, title="Follow-up", zone="Europe/Berlin", since=since),
    )
    if refused.status == "FAILED" and refused.cause:
        failure = _failure(refused)
        lines = [
            f"{refused.status}: error {refused.error}, cause = the action's error:",
            stage.refused(failure) + f"  {failure.details}",
            *_trace(stage, runner, refused, tasks),
            stage.ok(
                f"interactions in the tenant {before} -> {_count(COUNT_ACTIVITIES)} (a refused step writes nothing)"
            ),
        ]
    else:
        lines = [_unexpected(refused), *_trace(stage, runner, refused, tasks)]
    stage.show("Refused: Globex with a ticket id of no tenant", lines)
