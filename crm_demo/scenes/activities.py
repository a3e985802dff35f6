"""Scene: the daily loop over CRM activities: find recent ones, update one, mark it done, schedule the follow-up."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.errors import ActionFailure
from crm_demo import ids
from crm_demo.stage import Stage


def _line(activity: dict[str, Any]) -> str:
    when = activity["interaction_date"][:16].replace("T", " ")
    who = activity["contact_name"] or activity["client_name"] or "-"
    status = activity["status_name"] or "no status"
    return f"{when}Z  {activity['type_name']:<26} {activity['title']:<28} {who:<12} [{status}]"


def _next_tuesday_10am(zone: str) -> str:
    """Next Tuesday 10:00 as local wall-clock time without an offset (the action reads it in the client's zone)."""
    today = datetime.now(ZoneInfo(zone)).date()
    days = (1 - today.weekday()) % 7 or 7
    return datetime.combine(today + timedelta(days=days), time(10, 0)).isoformat()


def play(stage: Stage) -> None:
    stage.scene("CRM activities: find, update, change status, schedule the follow-up")

    found = stage.invoke("crm.find_activities", {"client_id": ids.ACME, "limit": 3, "include_total": True})
    more = stage.invoke("crm.find_activities", {"client_id": ids.ACME, "limit": 3, "cursor": found["next_cursor"]})
    stage.show(
        f"Recent activities of Acme Corp (crm.find_activities, page of 3, {found['total']} in all)",
        [_line(a) for a in found["activities"]]
        + [
            stage.dim(f"next page via the opaque cursor -> {len(more['activities'])} more, has_more={more['has_more']}")
        ],
    )

    updated = stage.invoke(
        "crm.update_activity",
        {
            "activity_id": ids.ACME_KICKOFF_CALL,
            "patch": {
                "title": "Onboarding kickoff call",
                "notes": "Walked through the onboarding plan.\nCarol wants a QBR in March; firewall upgrade first.",
                "tags": ["onboarding", "qbr"],
                "category": "Onboarding",
                "visibility": "client_visible",
            },
            "reason": "call notes completed",
        },
    )
    before, after = updated["activity_before"], updated["activity_after"]
    lines = [
        stage.ok(
            f"changed_fields: {', '.join(updated['changed_fields'])} "
            "(title and category were sent unchanged, so they are not listed)"
        )
    ]
    for changed in updated["changed_fields"]:
        shown = "notes_preview" if changed == "notes" else changed
        lines.append(f"{shown:<14} {before[shown]!r}  ->  {after[shown]!r}")
    again = stage.invoke(
        "crm.update_activity",
        {"activity_id": ids.ACME_KICKOFF_CALL, "patch": {"tags": ["onboarding", "qbr"]}},
    )
    lines.append(stage.ok(f"same tags again -> no_op={again['no_op']}, changed_fields={again['changed_fields']}"))
    stage.show("Update the kickoff call (crm.update_activity, diff on full values)", lines)

    status = stage.invoke(
        "crm.update_activity_status",
        {"activity_id": ids.ACME_KICKOFF_CALL, "status_name": "completed", "reason": "call took place"},
    )
    stage.show(
        "Mark it done (crm.update_activity_status, by name)",
        [stage.ok(f"{status['previous_status_name']} -> {status['current_status_name']} (no_op={status['no_op']})")],
    )

    start = _next_tuesday_10am("America/New_York")
    scheduled = stage.invoke(
        "crm.schedule_activity",
        {
            "contact_id": ids.ACME_CAROL,
            "ticket_id": ids.ACME_TICKET,
            "type_id": ids.QBR_TYPE,
            "title": "Quarterly business review",
            "notes": "Firewall upgrade proposal; review the open ticket.",
            "start_time": start,
            "end_time": start.replace("T10:00", "T11:00"),
            "idempotency_key": f"demo-qbr-{start[:10]}",
        },
    )
    activity = scheduled["activity"]
    logged = [
        e
        for e in stage.events()
        if e["DetailType"] == "INTERACTION_LOGGED" and e["Detail"].get("interactionId") == activity["activity_id"]
    ]
    updates = [
        e
        for e in stage.events()
        if e["DetailType"] == "INTERACTION_UPDATED" and e["Detail"].get("interactionId") == str(ids.ACME_KICKOFF_CALL)
    ]
    lines = [
        stage.ok(
            f"{activity['title']} with {activity['contact_name']} ({activity['client_name']}, derived from the contact)"
        ),
        f"start {start} (no offset, read in Acme's zone America/New_York) -> stored {activity['start_time']}",
        f"duration {activity['duration']} min, status {activity['status_name']} (tenant default), "
        f"owner {activity['user_name']} (the actor), ticket {activity['ticket_number']}",
    ]
    for event in logged:
        detail = event["Detail"]
        lines.append(
            stage.ok(
                f"EventBridge: {event['DetailType']} channel={detail['channel']} type={detail['interactionType']!r} "
                f"key={detail['idempotencyKey']}"
            )
        )
    lines.append(stage.ok(f"EventBridge: INTERACTION_UPDATED x{len(updates)} for the kickoff call (update + status)"))
    refused = stage.attempt(
        "crm.schedule_activity",
        {
            "client_id": ids.ACME,
            "contact_id": ids.GLOBEX_HANK,
            "type_id": ids.CALL_TYPE,
            "title": "Wrong contact",
            "start_time": start,
        },
    )
    if isinstance(refused, ActionFailure):
        lines.append(stage.refused(refused) + f"  {refused.details}")
    stage.show("Schedule the follow-up (crm.schedule_activity)", lines)
