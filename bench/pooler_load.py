"""Hundreds of Lambda containers against a small PostgreSQL: through PgBouncer in transaction mode, and without.

Starts its own PostgreSQL (``max_connections = 20``, in a temporary folder, as the ``postgres`` user) and
PgBouncer (Debian's package, installed with apt-get when missing; ``pool_mode = transaction``, 15 server
connections), migrates and seeds one tenant, then runs ``--callers`` processes (default 200), each one
"container": its own engine (``DB_CONNECTION_MODE=pooler``: one connection, no pool growth), its own handlers,
AWS emulated in-process by moto (forked from one provisioned parent, so every caller has its own tables).
Each caller runs a mix of crm.find_activities (40%), crm.schedule_activity, crm.update_activity and
crm.tag_entity (20% each) back to back, each on a client, contact and activity of its own (no caller
waits on another's row locks).

1. **pooler**: ``--seconds`` (default 60) through PgBouncer; the run must end with zero errors.
2. **direct**: the same mix straight to PostgreSQL (the engine's default pool), until the first error or
   ``--seconds``; the first error is reported.

    .venv/bin/python -m bench.pooler_load                # 200 callers, 60 s (root: it starts the servers)
    .venv/bin/python -m bench.pooler_load --callers 20 --seconds 10

The transaction pooler is safe because nothing keeps session state: the tenant and the planner settings are
``set_config(..., true)`` (transaction-local), advisory locks are ``pg_advisory_xact_lock``, and pg8000 sends
unnamed prepared statements only.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
MIX = [
    ("crm.find_activities", 0.4),
    ("crm.schedule_activity", 0.2),
    ("crm.update_activity", 0.2),
    ("crm.tag_entity", 0.2),
]
OWNER, ACTIONS = "crm", "crm_actions_login"
DATABASE = "crm_pooler"
HUNG_AFTER_SECONDS = 60.0
SERVER_CONNECTIONS = 15  # PgBouncer's pool: max_connections 20 minus the 3 reserved for superusers, minus 2


# ----------------------------------------------------------------------------------------------- the servers


def as_postgres(*command: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, text=True, **kwargs)


def ensure_pgbouncer() -> str:
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if found:
        return found
    print("pooler_load: installing PgBouncer from Debian packages", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "pgbouncer"], check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Servers:
    folder: Path
    pg_port: int
    bouncer_port: int
    bin: Path
    bouncer: subprocess.Popen[bytes] | None = None

    def url(self, *, login: str = ACTIONS, pooled: bool) -> str:
        password = "crm" if login == OWNER else login
        port = self.bouncer_port if pooled else self.pg_port
        return f"postgresql+pg8000://{login}:{password}@127.0.0.1:{port}/{DATABASE}"

    def start(self) -> None:
        data = self.folder / "data"
        as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            stdout=subprocess.DEVNULL,
        )
        options = (
            f"-p {self.pg_port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=20 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.folder / "postgres.log"),
            "-w",
            "-o",
            options,
            "start",
            stdout=subprocess.DEVNULL,
        )
        sql = f"""
            CREATE ROLE {OWNER} LOGIN PASSWORD 'crm' NOSUPERUSER NOBYPASSRLS CREATEDB;
            CREATE ROLE crm_actions NOLOGIN;
            CREATE ROLE crm_relay NOLOGIN;
            CREATE ROLE {ACTIONS} LOGIN PASSWORD '{ACTIONS}' NOSUPERUSER NOBYPASSRLS;
            CREATE ROLE crm_relay_login LOGIN PASSWORD 'crm_relay_login' NOSUPERUSER NOBYPASSRLS;
            GRANT crm_actions TO {ACTIONS};
            GRANT crm_relay TO crm_relay_login;
            CREATE DATABASE {DATABASE} OWNER {OWNER};
        """
        self.psql("-v", "ON_ERROR_STOP=1", "-q", input=sql, stdout=subprocess.DEVNULL)
        config = self.folder / "pgbouncer.ini"
        config.write_text(
            f"""[databases]
{DATABASE} = host=127.0.0.1 port={self.pg_port} dbname={DATABASE} user={ACTIONS}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.bouncer_port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_db_connections = {SERVER_CONNECTIONS}
reserve_pool_size = 0
max_client_conn = 2000
server_reset_query =
ignore_startup_parameters = extra_float_digits,application_name
logfile = {self.folder / "pgbouncer.log"}
pidfile = {self.folder / "pgbouncer.pid"}
"""
        )
        shutil.chown(config, "postgres")
        self.bouncer = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", ensure_pgbouncer(), str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
        if self.bouncer.poll() is not None:
            raise SystemExit(f"pooler_load: PgBouncer exited: {(self.folder / 'pgbouncer.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.bouncer is not None and self.bouncer.poll() is None:
            pid_file = self.folder / "pgbouncer.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            self.bouncer.wait(timeout=10)
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def psql(self, *arguments: str, **run: Any) -> subprocess.CompletedProcess[str]:
        """The server's psql as the superuser postgres, on the maintenance database."""
        command = [str(self.bin / "psql"), "-h", str(self.folder), "-p", str(self.pg_port), "-U", "postgres"]
        return as_postgres(*command, "-d", "postgres", *arguments, **run)

    def query(self, sql: str) -> str:
        """What psql prints for ``sql``, unaligned and without headers."""
        return self.psql("-qAt", "-c", sql, capture_output=True).stdout

    def activity(self) -> str:
        return self.query(
            "select state, wait_event_type, wait_event, now() - xact_start, left(query, 70) "
            f"from pg_stat_activity where datname = '{DATABASE}'"
        )

    def server_connections(self) -> int:
        return int(self.query(f"select count(*) from pg_stat_activity where datname = '{DATABASE}'").strip() or 0)


# ----------------------------------------------------------------------------------------------- the callers


@dataclass
class Seeded:
    tenant: str
    actor: str
    qbr_type: str
    clients: list[str]
    contacts: list[str]
    activities: list[str]


def seed(owner_url: str, actions_url: str, callers: int) -> Seeded:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from crm_core.db.migrate import upgrade
    from crm_dev.seed import TenantSeeder

    upgrade(owner_url)
    from crm_core.db.engine import get_engine

    get_engine(owner_url).dispose()  # the migration's pooled connection would hold one of the 17 slots
    engine = create_engine(actions_url, poolclass=NullPool)
    seeder = TenantSeeder(engine).create()
    actor = seeder.user(roles=["Admin"])
    qbr = seeder.interaction_type("Quarterly Business Review")
    now = datetime.now(UTC)
    clients, contacts, activities = [], [], []
    for i in range(callers):  # a client, contact and activity per caller: no caller waits on another's row lock
        clients.append(seeder.client(f"Client {i}", timezone="America/New_York"))
        contacts.append(seeder.contact(clients[-1], f"Contact {i}", email=f"c{i}@client.example"))
        for days in range(5):
            activity = seeder.interaction(
                type_id=uuid.UUID("9c1577c5-795b-5c38-a3b3-e2b618aac6c8"),
                user_id=actor,
                interaction_date=now - timedelta(days=days),
                client_id=clients[-1],
                title=f"Call {i}.{days}",
            )
        activities.append(activity)
    engine.dispose()
    return Seeded(
        str(seeder.tenant_id),
        str(actor),
        str(qbr),
        [str(c) for c in clients],
        [str(c) for c in contacts],
        [str(a) for a in activities],
    )


HANDLERS: dict[str, Any] = {}


def build_handlers() -> None:
    """Every caller's handlers, built once before the callers fork (building reaches no database or AWS)."""
    from crm_core.runtime import build_handler, get_spec

    HANDLERS.update({action: build_handler(get_spec(action)) for action, _ in MIX})


def caller(
    index: int,
    seeded: Seeded,
    url: str,
    mode: str,
    start_at: float,
    stop_at: float,
    stop_on_error: bool,
    warm_up: bool,
    out: str,
) -> None:
    """One container: its own engine and handlers; calls back to back until ``stop_at``."""
    os.environ["DATABASE_URL"] = url
    os.environ["DB_CONNECTION_MODE"] = mode
    from crm_core.settings import reset_settings
    from crm_dev.lambda_context import LocalLambdaContext

    reset_settings()  # this container's settings: read from the environment at its first call
    logged_errors: list[str] = []

    class ErrorLines(logging.Handler):  # errors the handler logs without raising (deferred effect delivery)
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            logged_errors.append(text[:500])

    logging.getLogger("crm-workflow-actions").addHandler(ErrorLines(level=logging.ERROR))
    handlers = HANDLERS
    warmed_at: float | None = None
    context = LocalLambdaContext(f"caller-{index}")
    rng = random.Random(index)
    activity, client, contact = seeded.activities[index], seeded.clients[index], seeded.contacts[index]
    latencies: list[tuple[str, float]] = []
    errors: list[dict[str, Any]] = []
    n = 0

    def payload(action: str) -> dict[str, Any]:
        if action == "crm.find_activities":
            return {"client_id": client, "limit": 10}
        if action == "crm.schedule_activity":
            start = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(minutes=index * 100_000 + n)
            return {
                "contact_id": contact,
                "type_id": seeded.qbr_type,
                "title": "Follow-up call",
                "start_time": start.isoformat(),
                "idempotency_key": f"s-{index}-{n}",
            }
        if action == "crm.update_activity":
            return {"activity_id": activity, "patch": {"title": f"Call {index}.{n}"}}
        return {
            "target": {"type": "client", "id": client},
            "tags": [f"tag-{n % 5}"],
            "if_exists": "no_op",
            "idempotency_key": f"t-{index}-{n}",
        }

    actions = [a for a, _ in MIX] if warm_up else []  # one call of each before the window: a warm container
    while True:
        if not actions and warmed_at is None:
            warmed_at = time.time()
        if actions:
            action = actions.pop()
        elif time.time() < start_at:
            time.sleep(0.01)
            continue
        elif time.time() < stop_at:
            action = rng.choices([a for a, _ in MIX], weights=[w for _, w in MIX])[0]
        else:
            break
        timed = time.time() >= start_at
        event = {
            "tenant_id": seeded.tenant,
            "actor_user_id": seeded.actor,
            "idempotency_key": f"{index}-{n}-{uuid.uuid4().hex[:8]}",
            "input": payload(action),
        }
        begun = time.perf_counter()
        try:
            handlers[action](event, context)
            if timed:
                latencies.append((action, (time.perf_counter() - begun) * 1000))
        except Exception as exc:  # every error is the result
            cause = exc.__cause__ or exc.__context__
            errors.append(
                {
                    "at": time.time() - start_at,
                    "action": action,
                    "error": f"{type(exc).__name__}: {exc}"[:500],
                    "cause": f"{type(cause).__name__}: {cause}"[:500] if cause else None,
                    "trace": traceback.format_exc()[-1500:],
                }
            )
            if stop_on_error:
                break
        n += 1
    Path(out).write_text(
        json.dumps(
            {
                "latencies": latencies,
                "errors": errors,
                "late": warmed_at is None or warmed_at > start_at,
                "logged_errors": logged_errors,
            }
        )
    )


def run_phase(
    name: str, seeded: Seeded, url: str, mode: str, args: argparse.Namespace, servers: Servers, scratch: Path
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    start_at = time.time() + args.startup
    stop_at = start_at + args.seconds
    processes = []
    for index in range(args.callers):
        out = scratch / f"{name}-{index}.json"
        p = ctx.Process(
            target=caller,
            args=(index, seeded, url, mode, start_at, stop_at, name == "direct", args.warm_up, str(out)),
        )
        p.start()
        processes.append((p, out))
    peak = 0
    while any(p.is_alive() for p, _ in processes):
        time.sleep(1.0)
        if time.time() > stop_at + HUNG_AFTER_SECONDS:  # a caller still waiting for PostgreSQL: it hangs
            for p, _ in processes:
                if p.is_alive():
                    p.terminate()
        if time.time() > start_at:
            peak = max(peak, servers.server_connections())
            if os.environ.get("POOLER_LOAD_DEBUG"):
                print(servers.activity(), file=sys.stderr)
    latencies, errors, late, logged = [], [], 0, []
    for p, out in processes:
        p.join()
        if out.exists():
            found = json.loads(out.read_text())
            latencies += found["latencies"]
            errors += found["errors"]
            late += found["late"]
            logged += found["logged_errors"]
        else:
            hung = p.exitcode == -signal.SIGTERM
            errors.append(
                {
                    "at": args.seconds if hung else None,
                    "action": None,
                    "error": f"caller hung (no answer {HUNG_AFTER_SECONDS:.0f} s after the end)"
                    if hung
                    else f"caller exited with {p.exitcode}",
                    "cause": None,
                }
            )
    ms = sorted(m for _, m in latencies)

    def pct(f: float) -> float | None:
        return ms[min(len(ms) - 1, round(f * (len(ms) - 1)))] if ms else None

    by_action = {a: len([1 for x, _ in latencies if x == a]) for a, _ in MIX}
    return {
        "calls": len(latencies),
        "calls_per_second": len(latencies) / args.seconds,
        "p50_ms": pct(0.5),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(ms) if ms else None,
        "by_action": by_action,
        "errors": len(errors),
        "first_error": min(errors, key=lambda e: e["at"] if e["at"] is not None else 1e9) if errors else None,
        "peak_server_connections": peak,
        "callers_late": late,
        "error_kinds": dict(
            Counter(
                " ".join(str(e["cause"] or e["error"]).split("(Background on this error", maxsplit=1)[0].split())[:160]
                for e in errors
            ).most_common(5)
        ),
        "logged_errors": len(logged),
        "first_logged_error": logged[0] if logged else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--startup", type=float, default=20.0, help="seconds for every caller to be ready")
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="measure from each container's first call (default: one call of each action before the window)",
    )
    parser.add_argument("--phases", nargs="*", default=["pooler", "direct"], choices=["pooler", "direct"])
    parser.add_argument("--json")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("pooler_load: run as root (it starts PostgreSQL and PgBouncer as the postgres user)")
    ensure_pgbouncer()
    for name, value in {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "AWS_LAMBDA_FUNCTION_NAME": "pooler-load",
        "DB_SSLMODE": "disable",
    }.items():
        os.environ[name] = value
    for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL", "RELAY_DATABASE_URL", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    bin_dir = next(d for d in PG_BIN_CANDIDATES if (d / "initdb").exists())
    folder = Path(tempfile.mkdtemp(prefix="crm-pooler-"))
    shutil.chown(folder, "postgres")
    os.chmod(folder, 0o755)
    servers = Servers(folder, free_port(), free_port(), bin_dir)
    results: dict[str, Any] = {
        "callers": args.callers,
        "seconds": args.seconds,
    }
    try:
        servers.start()
        seeded = seed(servers.url(login=OWNER, pooled=False), servers.url(pooled=False), args.callers)
        from moto import mock_aws

        from crm_dev.aws_resources import apply_local_defaults, provision

        apply_local_defaults(fake_credentials=True)
        build_handlers()
        with mock_aws():
            provision()
            for phase in args.phases:
                pooled = phase == "pooler"
                url = servers.url(pooled=pooled)
                print(f"pooler_load: {phase}: {args.callers} callers for {args.seconds:.0f} s", file=sys.stderr)
                results[phase] = run_phase(phase, seeded, url, "pooler" if pooled else "direct", args, servers, folder)
                print(json.dumps({k: v for k, v in results[phase].items() if k != "first_error"}), file=sys.stderr)
    finally:
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    pooler = results.get("pooler")
    return 1 if pooler is not None and (pooler["errors"] or pooler["logged_errors"]) else 0


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"{results['callers']} callers (processes), {results['seconds']:.0f} s, PostgreSQL max_connections = 20, "
        f"PgBouncer transaction mode with {SERVER_CONNECTIONS} server connections; milliseconds.\n",
        "| run | calls | calls/s | p50 | p95 | p99 | errors | errors logged, not raised | peak server connections | "
        "first error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in ("pooler", "direct"):
        r = results.get(phase)
        if r is None:
            continue
        first = r["first_error"]
        if first is None:
            error = "none"
        else:
            at = first["at"]
            when = "at exit" if at is None else "in a container's first calls" if at < 0 else f"after {at:.1f} s"
            error = f"{when} ({first['action']}): {first['cause'] or first['error']}"
        error = " ".join(error.split("(Background on this error", maxsplit=1)[0].split())

        def f(v: float | None) -> str:
            return "—" if v is None else f"{v:.0f}"

        lines.append(
            f"| {phase} | {r['calls']} | {r['calls_per_second']:.1f} | {f(r['p50_ms'])} | {f(r['p95_ms'])} | "
            f"{f(r['p99_ms'])} | {r['errors']} | {r['logged_errors']} | {r['peak_server_connections']} | "
            f"{error.replace('|', '/')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
