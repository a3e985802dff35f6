"""Flow: branch on recent activity (statemachines/branch_on_recent_activity.asl.json).

For each of the tenant's Sales, QBR, Onboarding and Support types the flow looks for the client's activity in
the last 90 days, then for older activity. Acme had a QBR 20 days ago (and one is planned): nothing to do.
Umbrella's last Sales and Support activity is months old: a QBR note. Initech only had a plain call: an
onboarding call is scheduled.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from crm_core.db.engine import get_engine, tenant_transaction
from crm_demo import ids
from crm_demo.flows.common import create, run, show
from crm_demo.stage import Stage
from crm_dev.step_functions import StateMachineRunner

ACTIVITY_TYPES = [
    {"name": "Sales", "type_id": str(ids.SALES_TYPE)},
    {"name": "QBR", "type_id": str(ids.QBR_TYPE)},
    {"name": "Onboarding", "type_id": str(ids.ONBOARDING_TYPE)},
    {"name": "Support", "type_id": str(ids.SUPPORT_TYPE)},
]


def _next_monday_10am(zone: str) -> str:
    today = datetime.now(ZoneInfo(zone)).date()
    return datetime.combine(today + timedelta(days=(7 - today.weekday()) or 7), time(10, 0)).isoformat()


def _input(client_id: uuid.UUID, zone: str) -> dict[str, Any]:
    """A client event now; recent_since is 90 days ago (the caller computes it: JSONPath has no date arithmetic)."""
    recent_since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=90)
    return {
        "tenant_id": str(ids.TENANT),
        "actor_user_id": str(ids.ADMIN),
        "client_id": str(client_id),
        "recent_since": recent_since.isoformat().replace("+00:00", "Z"),
        "activity_types": ACTIVITY_TYPES,
        "onboarding": {
            "type_id": str(ids.ONBOARDING_TYPE),
            "title": "Onboarding call",
            "start_time": _next_monday_10am(zone),
            "timezone": zone,
        },
    }


def _written(output: dict[str, Any]) -> list[str]:
    """What the execution wrote, read back: the QBR note's text, or the onboarding call."""
    activity_id = output.get("note_id") or output.get("activity_id")
    if not activity_id:
        return []
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        row = (
            session.execute(
                text("select title, notes, start_time from interactions where tenant = :t and interaction_id = :id"),
                {"t": ids.TENANT, "id": uuid.UUID(activity_id)},
            )
            .mappings()
            .one()
        )
    if output.get("note_id"):
        return [f"the note on the client: {row['notes']!r}"]
    return [f"scheduled: {row['title']!r} at {row['start_time'].astimezone(UTC):%Y-%m-%d %H:%M}Z"]


def play(stage: Stage, runner: StateMachineRunner) -> None:
    stage.scene("Flow: branch on recent activity (branch_on_recent_activity)")
    machine = create(stage, runner, "branch_on_recent_activity.asl.json")
    for name, title, client_id, zone in [
        ("acme", "Acme Corp: QBR activity in the last 90 days -> nothing to do", ids.ACME, "America/New_York"),
        ("umbrella", "Umbrella Corp: Sales and Support only months ago -> a QBR note", ids.UMBRELLA, "America/Chicago"),
        ("initech", "Initech: no activity of the four types -> an onboarding call", ids.INITECH, "America/Chicago"),
    ]:
        execution_input = _input(client_id, zone)
        execution, _ = run(stage, runner, machine, name, execution_input)
        extra = [stage.ok(line) for line in _written(execution.output or {})]
        show(stage, runner, title, execution, execution_input, extra=extra)
