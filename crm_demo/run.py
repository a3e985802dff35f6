"""The demo run: local AWS emulator, database migration, demo tenant, the action scenes, then every workflow of
statemachines/ as Step Functions executions, and a summary. ``--flow NAME`` runs that one workflow alone."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from crm_core.db.engine import database_url, get_engine, tenant_transaction
from crm_core.db.migrate import upgrade
from crm_demo import ids
from crm_demo.flows import FLOWS
from crm_demo.flows.common import output_folder
from crm_demo.scenes import scenes
from crm_demo.seed import seed_demo_tenant
from crm_demo.stage import Stage
from crm_dev.aws_resources import apply_local_defaults, provision
from crm_dev.step_functions import on_server

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_moto() -> object:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's per-request log
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    os.environ["MOTO_PORT"] = str(port)
    apply_local_defaults(fake_credentials=True)
    return server


def _write_local_env(url: str) -> None:
    """Lets `crm-actions invoke ... ` reach the demo database afterwards (AWS then emulated in-process)."""
    env_file = ROOT / ".local" / "env"
    env_file.parent.mkdir(exist_ok=True)
    # The relay's and the owner's logins and the TLS mode too (scripts/database.sh set them for the demo).
    extra = "".join(
        f"{name}={os.environ[name]}\n"
        for name in ("RELAY_DATABASE_URL", "MIGRATION_DATABASE_URL", "DB_SSLMODE")
        if os.environ.get(name)
    )
    env_file.write_text(f"DATABASE_URL={url}\n{extra}CRM_EMULATE_AWS=1\n")


def _tenant_counts() -> dict[str, int]:
    tables = [
        "interactions",
        "audit_logs",
        "workflow_action_invocations",
        "workflow_event_outbox",
        "tag_mappings",
        "quote_activities",
        "email_sending_logs",
    ]
    with tenant_transaction(ids.TENANT, engine=get_engine()) as session:
        return {t: int(session.execute(text(f"select count(*) from {t}")).scalar_one()) for t in tables}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--flow",
        choices=list(FLOWS),
        help="run only this workflow (statemachines/<NAME>.asl.json), without the action scenes",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    color = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None
    url = database_url()
    print(f"PostgreSQL : {url.split('@')[-1]}  (actions run as a role without SUPERUSER/BYPASSRLS)")
    server = _start_moto()
    print(
        f"Local AWS  : moto server at {os.environ['AWS_ENDPOINT_URL']} "
        "(DynamoDB, EventBridge, SQS, S3, SES - nothing leaves this machine)"
    )
    try:
        upgrade()  # as the schema owner (MIGRATION_DATABASE_URL); the actions run as DATABASE_URL
        resources = provision()
        seed_demo_tenant(get_engine())
        print("Tenant     : Northwind MSP (4 clients, 4 users with the default roles, activities, quotes)")
        print(f"Output     : {output_folder()}  (the quote PDFs and the sent emails, .eml)")
        stage = Stage(resources, color=color)
        if args.flow is None:
            for _name, play in scenes():
                play(stage)
        with on_server(resources=resources) as runner:
            for name in [args.flow] if args.flow else list(FLOWS):
                FLOWS[name](stage, runner)
        counts = _tenant_counts()
        published = Counter(e["DetailType"] for e in stage.events())
        stage.scene("Summary")
        stage.show(
            "What the demo did",
            [
                f"{stage.calls} action calls through the Lambda handlers, {stage.failures} refused as expected",
                "rows now in the demo tenant: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
                "events published to EventBridge: "
                + (", ".join(f"{k} x{v}" for k, v in sorted(published.items())) or "none"),
                f"finished in {time.perf_counter() - started:.1f} s",
            ],
        )
        _write_local_env(url)
        print()
        print(
            "Try it yourself:  .venv/bin/crm-actions invoke crm.create_activity_note "
            "--event events/create_activity_note.json"
        )
    finally:
        server.stop()  # type: ignore[attr-defined]
    return 0
