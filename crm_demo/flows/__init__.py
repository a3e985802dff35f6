"""The workflows of statemachines/, each run as Step Functions executions on the demo's moto server, every Lambda
task dispatched to the action's real handler in this process. ``FLOWS``: name (the definition's file name) ->
``play(stage, runner)``, in the order the demo runs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_demo.flows import branch_on_recent_activity, quote_to_cash, ticket_follow_up, update_activity_from_trigger

FLOWS: dict[str, Callable[[Any, Any], None]] = {
    "ticket_follow_up": ticket_follow_up.play,
    "update_activity_from_trigger": update_activity_from_trigger.play,
    "branch_on_recent_activity": branch_on_recent_activity.play,
    "quote_to_cash": quote_to_cash.play,
}
