"""Scene: tagging a client and an activity, added vs existing tags, refusals and the TAG_* events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from crm_core.db.engine import get_engine, tenant_transaction
from crm_core.errors import ActionFailure
from crm_demo import ids
from crm_demo.stage import Stage

TAG_ENTITY = "crm.tag_entity"
TAG_ACTIVITY = "crm.tag_activity"


def _tag_list(tags: list[dict[str, Any]]) -> str:
    return ", ".join(t["tag_text"] for t in tags) or "-"


def _activity_tags() -> list[str]:
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        tags = session.execute(
            text("select tags from interactions where tenant = :tenant and interaction_id = :id"),
            {"tenant": ids.TENANT, "id": ids.ACME_KICKOFF_CALL},
        ).scalar_one()
    return list(tags or [])


def _describe(event: dict[str, Any], names: dict[str, str]) -> str:
    detail = event["Detail"]
    tag = names[detail["tagId"]]
    if event["DetailType"] == "TAG_DEFINITION_CREATED":
        return f"TAG_DEFINITION_CREATED  {tag!r} by user {detail['createdByUserId']}"
    return f"TAG_APPLIED             {tag!r} -> {detail['entityType']} {detail['entityId']}"


def _in_story_order(events: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """EventBridge does not keep an order; show each tag's definition first, then where it was applied."""
    order = list(names)
    return sorted(
        events,
        key=lambda e: (order.index(e["Detail"]["tagId"]), e["DetailType"] != "TAG_DEFINITION_CREATED"),
    )


def play(stage: Stage) -> None:
    stage.scene("Tag records (crm.tag_entity, crm.tag_activity)")
    acme = {"type": "client", "id": ids.ACME}

    first = stage.invoke(TAG_ENTITY, {"target": acme, "tags": ["needs-qbr", " managed-firewall ", "needs-qbr"]})
    second = stage.invoke(TAG_ENTITY, {"target": acme, "tags": ["needs-qbr", "renewal-2026"]})
    stage.show(
        "Tagging the Acme client twice (tags are trimmed and deduplicated)",
        [
            stage.ok(f"first call  -> added: {_tag_list(first['added_tags'])}"),
            stage.ok(
                f"second call -> added: {_tag_list(second['added_tags'])}; "
                f"already there: {_tag_list(second['existing_tags'])}"
            ),
        ],
    )

    tagged = stage.invoke(TAG_ACTIVITY, {"activity_id": ids.ACME_KICKOFF_CALL, "tags": ["upsell-candidate"]})
    stage.show(
        "Tagging the Acme kickoff call (crm.tag_activity)",
        [
            stage.ok(f"added: {_tag_list(tagged['added_tags'])} on {tagged['target']['type']} {tagged['activity_id']}"),
            stage.ok(f"the activity's own tags column now reads {_activity_tags()}"),
        ],
    )

    refusals = [
        stage.attempt(TAG_ENTITY, {"target": acme, "tags": ["needs-qbr"], "if_exists": "error"}),
        stage.attempt(TAG_ENTITY, {"target": acme, "tags": ["needs|qbr"]}),
        stage.attempt(TAG_ENTITY, {"target": acme, "tags": ["vip"]}, actor=ids.TECHNICIAN),
    ]
    stage.show(
        "Refused calls (nothing written)",
        [stage.refused(r) if isinstance(r, ActionFailure) else f"unexpected success: {r}" for r in refusals],
    )

    names = {t["tag_id"]: t["tag_text"] for out in (first, second, tagged) for t in out["added_tags"]}
    events = [e for e in stage.events() if e["DetailType"].startswith("TAG_") and e["Detail"]["tagId"] in names]
    example = next((e["Detail"]["idempotencyKey"] for e in events if e["DetailType"] == "TAG_APPLIED"), "-")
    stage.show(
        f"TAG_* events published to EventBridge ({len(events)}: one per new definition, one per new mapping)",
        [
            *([_describe(e, names) for e in _in_story_order(events, names)] or [stage.dim("none")]),
            stage.dim(f"deterministic keys, e.g. {example}"),
        ],
    )
