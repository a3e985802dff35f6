"""Flow: update an activity from a trigger (statemachines/update_activity_from_trigger.asl.json).

Globex's planned VPN site visit is done: the trigger patches its notes, tags and visibility and completes it.
The same trigger again changes nothing (both actions answer no_op). An unknown activity is refused by the
first step.
"""

from __future__ import annotations

import uuid

from crm_demo import ids
from crm_demo.flows.common import create, run, show
from crm_demo.stage import Stage
from crm_dev.step_functions import StateMachineRunner


def _input(activity_id: uuid.UUID) -> dict[str, object]:
    return {
        "tenant_id": str(ids.TENANT),
        "actor_user_id": str(ids.DISPATCHER),
        "activity_id": str(activity_id),
        "patch": {
            "notes": "Replaced the VPN concentrator's power supply; stable for 24 h.",
            "tags": ["vpn", "resolved-on-site"],
            "visibility": "client_visible",
        },
        "status": {"status_name": "Completed"},
    }


def play(stage: Stage, runner: StateMachineRunner) -> None:
    stage.scene("Flow: update an activity from a trigger (update_activity_from_trigger)")
    machine = create(stage, runner, "update_activity_from_trigger.asl.json")
    visit = ids.GLOBEX_SITE_VISIT
    for name, title, activity_id in [
        ("site-visit", "Globex's VPN site visit is done: notes, tags, visibility, then Completed", visit),
        ("site-visit-again", "The same trigger again: both actions are no-ops, nothing is written", visit),
        ("unknown", "An activity of no tenant: refused by the first step", ids.TENANT),
    ]:
        execution_input = _input(activity_id)
        execution, _ = run(stage, runner, machine, name, execution_input)
        show(stage, runner, title, execution, execution_input)
