"""One call of every registered action, on a tenant seeded for the benchmarks (bench/calls.py, bench/cold_start.py).

``BenchTenant.seed(engine)`` creates a tenant like the demo's: an Admin and a Finance user, a client with a
contact, a ticket and a project, a tenant interaction type, an activity, a draft quote with items and a quote
template. ``scenario(action_id)`` says how to make the input of one new call of that action: ``new_input(i)``
may seed what the call needs first (a fresh draft quote to send, a quote pending approval to approve; untimed),
so that every timed call does the same work. ``dry_input`` is one fixed input for dry runs, which change nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from crm_dev.seed import TenantSeeder

NOW = datetime.now(UTC)
CALL_TYPE = "9c1577c5-795b-5c38-a3b3-e2b618aac6c8"  # the system type "Call" (seeded by the migrations)
ITEMS = [
    {
        "description": "Managed endpoint protection (per device)",
        "quantity": 40,
        "unit_price": 1200,
        "is_recurring": True,
        "billing_frequency": "monthly",
        "billing_method": "per_unit",
    },
    {"description": "Onboarding project (fixed fee)", "quantity": 1, "unit_price": 250000, "billing_method": "fixed"},
]


@dataclass
class BenchTenant:
    seed: TenantSeeder
    admin: uuid.UUID
    finance: uuid.UUID
    client: uuid.UUID
    contact: uuid.UUID
    ticket: uuid.UUID
    project: uuid.UUID
    qbr_type: uuid.UUID
    activity: uuid.UUID
    draft_quote: uuid.UUID
    template: uuid.UUID

    @property
    def id(self) -> uuid.UUID:
        return self.seed.tenant_id

    @classmethod
    def create(cls, engine: Engine) -> BenchTenant:
        seed = TenantSeeder(engine).create(settings={"billing": {"quotes": {"approvalRequired": False}}})
        admin = seed.user(roles=["Admin"], first_name="Ada", last_name="Admin")
        finance = seed.user(roles=["Finance"], first_name="Fiona", last_name="Finance")
        client = seed.client(
            "Acme Corp", timezone="America/New_York", billing_email="ap@acme.example", default_currency_code="USD"
        )
        contact = seed.contact(client, "Carol Chen", email="carol@acme.example")
        ticket = seed.ticket(client, contact, title="Firewall firmware upgrade", number="T-1001")
        project = seed.project(client, "Office move")
        qbr_type = seed.interaction_type("Quarterly Business Review", icon="presentation", display_order=1)
        for days in range(30):  # some history for the finds
            seed.interaction(
                type_id=uuid.UUID(CALL_TYPE),
                user_id=admin,
                interaction_date=NOW - timedelta(days=days + 1),
                client_id=client,
                contact_name_id=contact,
                title=f"Check-in {days}",
                status_id=seed.status_ids["Completed"],
                duration=30,
            )
        activity = seed.interaction(
            type_id=uuid.UUID(CALL_TYPE),
            user_id=admin,
            interaction_date=NOW - timedelta(days=3),
            client_id=client,
            contact_name_id=contact,
            title="Onboarding kickoff call",
            notes="Walked through the onboarding plan.",
            start_time=NOW - timedelta(days=3),
            end_time=NOW - timedelta(days=3) + timedelta(minutes=45),
            duration=45,
            status_id=seed.status_ids["Planned"],
            tags=["onboarding"],
        )
        tenant = cls(
            seed,
            admin,
            finance,
            client,
            contact,
            ticket,
            project,
            qbr_type,
            activity,
            uuid.UUID(int=0),
            uuid.UUID(int=0),
        )
        tenant.draft_quote = tenant.quote()
        tenant.template = seed.quote(
            client_id=None, title="Standard managed services", is_template=True, items=[dict(ITEMS[0])]
        )
        for _ in range(10):  # some quotes for find_quotes
            tenant.quote(status="sent", sent_at=NOW - timedelta(days=1))
        return tenant

    def quote(self, *, status: str = "draft", **values: Any) -> uuid.UUID:
        """A quote of the client and contact with the two usual items (totals as the items make them)."""
        return self.seed.quote(
            client_id=self.client,
            contact_id=self.contact,
            title="Endpoint protection rollout",
            quote_number=f"Q-{uuid.uuid4().hex[:8]}",
            status=status,
            quote_date=NOW,
            valid_until=NOW + timedelta(days=30),
            items=[dict(item) for item in ITEMS],
            subtotal=298000,
            total_amount=298000,
            **values,
        )


@dataclass
class Scenario:
    """How to call one action: ``new_input(i)`` for the i-th new call (seeding untimed), ``dry_input`` for dry
    runs, and the actor."""

    action: str
    new_input: Callable[[int], dict[str, Any]]
    dry_input: dict[str, Any]
    actor: uuid.UUID


def scenarios(t: BenchTenant) -> dict[str, Scenario]:
    """A scenario for every action of the registry (a KeyError in the caller names one that has none)."""
    unique = uuid.uuid4().hex[:6]
    statuses = ["Completed", "Planned"]

    def key(i: int) -> str:
        return f"bench-{unique}-{i}"

    def note(i: int) -> dict[str, Any]:
        return {"target": {"type": "client", "id": str(t.client)}, "body": f"Benchmark note {i}", "tags": ["qbr"]}

    def schedule(i: int) -> dict[str, Any]:
        start = datetime(2027, 3, 2, 10, tzinfo=UTC) + timedelta(hours=i)
        return {
            "contact_id": str(t.contact),
            "ticket_id": str(t.ticket),
            "type_id": str(t.qbr_type),
            "title": "Quarterly business review",
            "notes": "Review the firewall upgrade proposal.",
            "start_time": start.isoformat(),
            "end_time": (start + timedelta(minutes=60)).isoformat(),
            "tags": ["qbr"],
            "idempotency_key": key(i),
        }

    def create_quote(i: int) -> dict[str, Any]:
        return {
            "client_id": str(t.client),
            "contact_id": str(t.contact),
            "title": "Network refresh",
            "quote_date": NOW.date().isoformat(),
            "valid_until": (NOW + timedelta(days=30)).isoformat(),
            "currency_code": "USD",
            "idempotency_key": key(i),
        }

    def add_item(i: int, quote_id: uuid.UUID | None = None) -> dict[str, Any]:
        return {
            "quote_id": str(quote_id or t.quote()),
            "description": "On-site installation (hours)",
            "quantity": 6,
            "unit_price": 12500,
            "billing_method": "hourly",
            "idempotency_key": key(i),
        }

    def from_template(i: int) -> dict[str, Any]:
        return {
            "template_id": str(t.template),
            "client_id": str(t.client),
            "title": "Managed services",
            "quote_date": NOW.date().isoformat(),
            "valid_until": (NOW + timedelta(days=30)).date().isoformat(),
            "idempotency_key": key(i),
        }

    pending = t.quote(status="pending_approval", created_by=t.finance)
    accepted = t.quote(status="accepted", accepted_at=NOW - timedelta(days=1))
    found = [
        Scenario(
            "crm.find_activities",
            lambda i: {"client_id": str(t.client), "limit": 10},
            {"client_id": str(t.client), "limit": 10},
            t.admin,
        ),
        Scenario(
            "crm.find_quotes",
            lambda i: {"client_id": str(t.client), "limit": 10, "sort_by": "quote_date", "sort_order": "desc"},
            {"client_id": str(t.client), "limit": 10, "sort_by": "quote_date", "sort_order": "desc"},
            t.admin,
        ),
        Scenario("crm.create_activity_note", note, note(0), t.admin),
        Scenario(
            "crm.create_interaction_type",
            lambda i: {"type_name": f"Site visit {unique} {i}", "icon": "map-pin", "idempotency_key": key(i)},
            {"type_name": f"Site visit {unique} dry", "icon": "map-pin", "idempotency_key": key(-1)},
            t.admin,
        ),
        Scenario("crm.schedule_activity", schedule, schedule(-1), t.admin),
        Scenario(
            "crm.update_activity",
            lambda i: {"activity_id": str(t.activity), "patch": {"title": f"Kickoff call {i}"}, "reason": "notes"},
            {"activity_id": str(t.activity), "patch": {"title": "Kickoff call (dry)"}, "reason": "notes"},
            t.admin,
        ),
        Scenario(
            "crm.update_activity_status",
            lambda i: {"activity_id": str(t.activity), "status_name": statuses[i % 2], "reason": "bench"},
            {"activity_id": str(t.activity), "status_name": "Cancelled", "reason": "bench"},
            t.admin,
        ),
        Scenario(
            "crm.tag_entity",
            lambda i: {
                "target": {"type": "client", "id": str(t.client)},
                "tags": [f"tag-{unique}-{i}"],
                "idempotency_key": key(i),
            },
            {"target": {"type": "client", "id": str(t.client)}, "tags": ["tag-dry"], "idempotency_key": key(-1)},
            t.admin,
        ),
        Scenario(
            "crm.tag_activity",
            lambda i: {"activity_id": str(t.activity), "tags": [f"tag-{unique}-{i}"], "idempotency_key": key(i)},
            {"activity_id": str(t.activity), "tags": ["tag-dry"], "idempotency_key": key(-1)},
            t.admin,
        ),
        Scenario("crm.create_quote", create_quote, create_quote(-1), t.admin),
        Scenario("crm.create_quote_from_template", from_template, from_template(-1), t.admin),
        Scenario("crm.add_quote_item", add_item, add_item(-1, t.draft_quote), t.admin),
        Scenario(
            "crm.submit_quote_for_approval",
            lambda i: {"quote_id": str(t.quote()), "comment": "Please approve"},
            {"quote_id": str(t.draft_quote), "comment": "Please approve"},
            t.finance,
        ),
        Scenario(
            "crm.approve_quote",
            lambda i: {
                "quote_id": str(t.quote(status="pending_approval", created_by=t.finance)),
                "decision": "approve",
                "comment": "Looks good",
            },
            {"quote_id": str(pending), "decision": "approve", "comment": "Looks good"},
            t.admin,
        ),
        Scenario(
            "crm.convert_quote",
            lambda i: {
                "quote_id": str(t.quote(status="accepted", accepted_at=NOW - timedelta(days=1))),
                "target": "contract",
            },
            {"quote_id": str(accepted), "target": "contract"},
            t.admin,
        ),
        Scenario(
            "crm.send_quote",
            lambda i: {"quote_id": str(t.quote()), "subject": "Your quote", "message": "Hello Carol"},
            {"quote_id": str(t.draft_quote), "subject": "Your quote", "message": "Hello Carol"},
            t.admin,
        ),
    ]
    return {s.action: s for s in found}
