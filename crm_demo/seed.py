"""The demo tenant "Northwind MSP": reset and seeded on every run, with the fixed ids of ``ids.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from crm_core.db.base import tenant_tables
from crm_core.db.engine import tenant_transaction
from crm_demo import ids
from crm_dev.seed import TenantSeeder


def reset_demo_tenant(engine: Engine) -> None:
    """Delete every row of the demo tenant (children first), so each demo run starts the same."""
    with tenant_transaction(ids.TENANT, engine=engine) as session:
        for table in reversed(tenant_tables()):
            session.execute(text(f"delete from {table} where tenant = :tenant"), {"tenant": ids.TENANT})


def seed_demo_tenant(engine: Engine, now: datetime | None = None) -> TenantSeeder:
    """Users with the default roles, four clients with contacts, tickets, a project, activities and quotes."""
    now = now or datetime.now(UTC)
    reset_demo_tenant(engine)
    seed = TenantSeeder(engine, tenant_id=ids.TENANT, name="Northwind MSP").create(
        settings={"billing": {"quotes": {"approvalRequired": False}}}
    )
    seed.user(user_id=ids.ADMIN, roles=["Admin"], first_name="Ada", last_name="Admin", email="ada@northwind.example")
    seed.user(
        user_id=ids.DISPATCHER,
        roles=["Dispatcher"],
        first_name="Dana",
        last_name="Dispatcher",
        email="dana@northwind.example",
    )
    seed.user(
        user_id=ids.FINANCE, roles=["Finance"], first_name="Fiona", last_name="Finance", email="fiona@northwind.example"
    )
    seed.user(
        user_id=ids.TECHNICIAN, roles=["Technician"], first_name="Tom", last_name="Tech", email="tom@northwind.example"
    )

    seed.client(
        "Acme Corp",
        client_id=ids.ACME,
        timezone="America/New_York",
        billing_email="ap@acme.example",
        default_currency_code="USD",
        region_code="US-NY",
    )
    seed.client(
        "Globex GmbH",
        client_id=ids.GLOBEX,
        timezone="Europe/Berlin",
        billing_email="rechnung@globex.example",
        default_currency_code="EUR",
        region_code="DE",
    )
    seed.client("Initech", client_id=ids.INITECH)
    seed.client(
        "Umbrella Corp", client_id=ids.UMBRELLA, timezone="America/Chicago", billing_email="ap@umbrella.example"
    )
    seed.contact(ids.ACME, "Carol Chen", email="carol@acme.example", contact_id=ids.ACME_CAROL)
    seed.contact(ids.ACME, "Dave Diaz", email="dave@acme.example", contact_id=ids.ACME_DAVE)
    seed.contact(ids.GLOBEX, "Hank Hoffmann", email="hank@globex.example", contact_id=ids.GLOBEX_HANK)
    seed.contact(ids.INITECH, "Peter Gibbons", email="peter@initech.example", contact_id=ids.INITECH_PETER)
    seed.contact(ids.UMBRELLA, "Alice Abernathy", email="alice@umbrella.example", contact_id=ids.UMBRELLA_ALICE)
    seed.ticket(ids.ACME, ids.ACME_CAROL, title="Firewall firmware upgrade", number="T-1001", ticket_id=ids.ACME_TICKET)
    seed.ticket(ids.GLOBEX, ids.GLOBEX_HANK, title="VPN drops every hour", number="T-1002", ticket_id=ids.GLOBEX_TICKET)
    seed.ticket(
        ids.INITECH, ids.INITECH_PETER, title="TPS report printer jams", number="T-1003", ticket_id=ids.INITECH_TICKET
    )
    seed.project(ids.ACME, "Office move to Brooklyn", project_id=ids.ACME_PROJECT)
    seed.interaction_type("Quarterly Business Review", icon="presentation", display_order=1, type_id=ids.QBR_TYPE)
    # The activity types the branch-on-recent-activity flow looks at (with the QBR type above).
    seed.interaction_type("Sales", icon="handshake", display_order=2, type_id=ids.SALES_TYPE)
    seed.interaction_type("Onboarding", icon="rocket", display_order=3, type_id=ids.ONBOARDING_TYPE)
    seed.interaction_type("Support", icon="lifebuoy", display_order=4, type_id=ids.SUPPORT_TYPE)

    planned, completed = seed.status_ids["Planned"], seed.status_ids["Completed"]
    seed.interaction(
        interaction_id=ids.ACME_KICKOFF_CALL,
        type_id=ids.CALL_TYPE,
        user_id=ids.ADMIN,
        interaction_date=now - timedelta(days=3),
        client_id=ids.ACME,
        contact_name_id=ids.ACME_CAROL,
        title="Onboarding kickoff call",
        notes="Walked through the onboarding plan.\nCarol wants a QBR in March.",
        start_time=now - timedelta(days=3),
        end_time=now - timedelta(days=3) + timedelta(minutes=45),
        duration=45,
        status_id=planned,
        visibility="internal",
        category="Onboarding",
        tags=["onboarding"],
    )
    history = [
        (ids.ACME, ids.ACME_DAVE, "Renewal check-in", 10, ids.CALL_TYPE),
        (ids.ACME, ids.ACME_CAROL, "Security review", 20, ids.QBR_TYPE),
        (ids.GLOBEX, ids.GLOBEX_HANK, "VPN escalation call", 2, ids.CALL_TYPE),
        (ids.GLOBEX, ids.GLOBEX_HANK, "Quarterly business review", 40, ids.QBR_TYPE),
        (ids.INITECH, None, "Intro meeting", 60, ids.CALL_TYPE),
        (ids.UMBRELLA, ids.UMBRELLA_ALICE, "Renewal pitch", 200, ids.SALES_TYPE),
        (ids.UMBRELLA, ids.UMBRELLA_ALICE, "Password reset help", 130, ids.SUPPORT_TYPE),
    ]
    for client_id, contact_id, title, days_ago, type_id in history:
        seed.interaction(
            type_id=type_id,
            user_id=ids.TECHNICIAN,
            interaction_date=now - timedelta(days=days_ago),
            client_id=client_id,
            contact_name_id=contact_id,
            title=title,
            status_id=completed,
            duration=30,
            notes=f"{title} with the client.",
        )

    seed.interaction(
        interaction_id=ids.GLOBEX_SITE_VISIT,
        type_id=ids.CALL_TYPE,
        user_id=ids.TECHNICIAN,
        interaction_date=now - timedelta(hours=2),
        client_id=ids.GLOBEX,
        contact_name_id=ids.GLOBEX_HANK,
        title="VPN site visit",
        notes="Check the VPN concentrator.",
        status_id=planned,
        visibility="internal",
    )

    managed = {
        "description": "Managed endpoint protection (per device)",
        "quantity": 40,
        "unit_price": 1200,
        "is_recurring": True,
        "billing_frequency": "monthly",
        "billing_method": "per_unit",
    }
    onboarding = {
        "description": "Onboarding project (fixed fee)",
        "quantity": 1,
        "unit_price": 250000,
        "billing_method": "fixed",
    }
    seed.quote(
        quote_id=ids.ACME_DRAFT_QUOTE,
        client_id=ids.ACME,
        contact_id=ids.ACME_CAROL,
        quote_number="Q-0001",
        title="Endpoint protection rollout",
        quote_date=now,
        valid_until=now + timedelta(days=30),
        items=[dict(managed), dict(onboarding)],
        subtotal=298000,
        total_amount=298000,
    )
    seed.quote(
        quote_id=ids.ACME_ACCEPTED_QUOTE,
        client_id=ids.ACME,
        contact_id=ids.ACME_CAROL,
        quote_number="Q-0002",
        title="Backup as a service",
        status="accepted",
        quote_date=now - timedelta(days=14),
        valid_until=now + timedelta(days=16),
        accepted_at=now - timedelta(days=2),
        items=[dict(managed)],
        subtotal=48000,
        total_amount=48000,
    )
    seed.quote(
        quote_id=ids.GLOBEX_SENT_QUOTE,
        client_id=ids.GLOBEX,
        contact_id=ids.GLOBEX_HANK,
        quote_number="Q-0003",
        title="Firewall replacement",
        status="sent",
        currency_code="EUR",
        quote_date=now - timedelta(days=5),
        valid_until=now + timedelta(days=25),
        sent_at=now - timedelta(days=5),
    )
    seed.quote(
        quote_id=ids.ACME_PENDING_QUOTE,
        client_id=ids.ACME,
        contact_id=ids.ACME_DAVE,
        quote_number="Q-0004",
        title="Network monitoring",
        status="pending_approval",
        quote_date=now,
        valid_until=now + timedelta(days=30),
        created_by=ids.FINANCE,
        items=[dict(managed), dict(onboarding)],
        subtotal=298000,
        total_amount=298000,
    )
    seed.quote(
        quote_id=ids.QUOTE_TEMPLATE,
        client_id=None,
        title="Standard managed services",
        is_template=True,
        items=[dict(managed)],
    )
    return seed
