"""Scene: logging activity notes, with the guards, the permission model, retries and dry runs."""

from __future__ import annotations

from sqlalchemy import text

from crm_core.db.engine import get_engine, tenant_transaction
from crm_core.errors import ActionFailure
from crm_demo import ids
from crm_demo.stage import Stage

ACTION = "crm.create_activity_note"


def _count(sql: str) -> int:
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        return int(session.execute(text(sql), {"tenant": ids.TENANT}).scalar_one())


def play(stage: Stage) -> None:
    stage.scene("Log activity notes (crm.create_activity_note)")
    note = stage.invoke(
        ACTION,
        {
            "target": {"type": "client", "id": ids.ACME},
            "body": "QBR booked for March; Carol asked about the firewall upgrade.",
            "tags": ["qbr", "upsell-candidate"],
            "category": "QBR",
        },
    )
    stage.show(
        "Note on a client",
        [
            stage.ok(f"note {note['note_id']} on {note['target_summary']['client_name']} at {note['created_at']}"),
        ],
    )

    ticket_note = stage.invoke(
        ACTION,
        {
            "target": {"type": "ticket", "id": ids.ACME_TICKET},
            "body": "Firmware staged; reboot window agreed with Carol.",
            "visibility": "client_visible",
        },
        idempotency_key="demo-ticket-note",
    )
    again = stage.invoke(
        ACTION,
        {
            "target": {"type": "ticket", "id": ids.ACME_TICKET},
            "body": "Firmware staged; reboot window agreed with Carol.",
            "visibility": "client_visible",
        },
        idempotency_key="demo-ticket-note",
    )
    rows = _count(f"select count(*) from interactions where tenant = :tenant and ticket_id = '{ids.ACME_TICKET}'")
    stage.show(
        "Note on a ticket, retried with the same idempotency key",
        [
            stage.ok(
                f"first call  -> note {ticket_note['note_id']} "
                f"(ticket {ticket_note['target_summary']['ticket_number']})"
            ),
            stage.ok(f"retry       -> note {again['note_id']} (same output, replayed)"),
            stage.ok(f"interactions on the ticket: {rows} (written once)"),
        ],
    )

    before = _count("select count(*) from interactions where tenant = :tenant")
    dry = stage.invoke(ACTION, {"target": {"type": "contact", "id": ids.ACME_DAVE}, "body": "Draft only"}, dry_run=True)
    after = _count("select count(*) from interactions where tenant = :tenant")
    stage.show(
        "Dry run (validated, computed, rolled back)",
        [
            stage.ok(f"would create note {dry['note_id']} for {dry['target_summary']['full_name']}"),
            stage.ok(f"interactions before/after: {before}/{after}"),
        ],
    )

    refusals = [
        stage.attempt(
            ACTION,
            {"target": {"type": "project", "id": ids.ACME_PROJECT}, "body": "Hi", "visibility": "client_visible"},
        ),
        stage.attempt(ACTION, {"target": {"type": "client", "id": ids.ACME}, "body": "Hi"}, actor=ids.DISPATCHER),
        stage.attempt(ACTION, {"target": {"type": "contact", "id": ids.TENANT}, "body": "Hi"}),
        stage.attempt(ACTION, {"target": {"type": "client", "id": ids.ACME}, "body": "Hi", "colour": "red"}),
    ]
    stage.show(
        "Refused calls (nothing written)",
        [stage.refused(r) if isinstance(r, ActionFailure) else f"unexpected success: {r}" for r in refusals],
    )
