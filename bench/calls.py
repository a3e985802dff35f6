"""Statements, transactions and warm latency of every action, against the raw floor, with tracing off and as
deployed.

For every action of the registry (inputs: bench/scenarios.py), through its real Lambda handler (PostgreSQL
for real, AWS emulated in-process by moto, logs and metrics on as deployed):

- statements and transactions sent to PostgreSQL (``crm_dev.sql_count``, at pg8000's wire level) by one new
  call, by a replay answered by the DynamoDB first line, by a replay answered by the ledger (the DynamoDB record
  forgotten first), and by a dry run;
- warm p50/p95 of ``--calls`` new calls, of ``--calls`` dry runs, and of the **raw floor**: the exact SQL one
  dry run sent to PostgreSQL (its statements and parameter values, ``begin`` to ``rollback``), replayed through
  pg8000 alone on one connection the way pg8000 sends it (three round trips per statement and per commit or
  rollback); and the ratios to the floor;
- the **one-trip floor**: the same messages replayed as the layer sends them, on a pg8000 connection tuned as
  the layer's engine tunes its own (``crm_core.db.wire``: one round trip each, dates read with
  ``fromisoformat``), so "dry / one-trip floor" is the handler's own Python on top of the same driver work;
- round trips of a dry run, as pg8000 alone would make them and as sent.

Each tracing mode runs in a fresh process: ``off`` (``POWERTOOLS_TRACE_DISABLED=true``) and ``deployed``
(``Tracing: Active`` as in template.yaml: in a Lambda environment, with a new sampled trace header per call; the
X-Ray SDK's own UDP emitter sends every entity to 127.0.0.1:2000 as it would to the Lambda daemon, and the
entities are counted).

    .venv/bin/python -m bench.calls --calls 200 --runs 3   # the issue's figures: medians of three runs
    .venv/bin/python -m bench.calls --calls 20 --actions crm.find_activities crm.schedule_activity

Database: ``DATABASE_URL`` (with ``MIGRATION_DATABASE_URL``, as scripts/database.sh sets them), or the private
PostgreSQL's ``crm_bench`` (started by ``scripts/postgres.sh``).
With ``--runs N`` each tracing mode runs N times (fresh processes, the modes alternating) and every timed figure
is the median of the N runs' figures, as the issue measured them. Prints a markdown table and which actions meet
the warm-overhead budget (dry run p50 <= 1.3x the raw floor); ``--json FILE`` keeps every figure and every run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODES = ("off", "deployed")


# ---------------------------------------------------------------------------------------------------- parent


def database_environment(database: str = "crm_bench") -> dict[str, str]:
    """The three logins (README "Database roles") as scripts/database.sh sets them: the given environment's, or
    the private PostgreSQL's (started here) on ``database``."""
    names = ("DATABASE_URL", "MIGRATION_DATABASE_URL", "RELAY_DATABASE_URL", "DB_SSLMODE")
    if os.environ.get("DATABASE_URL"):
        return {name: os.environ[name] for name in names if os.environ.get(name)}
    script = str(ROOT / "scripts" / "postgres.sh")
    subprocess.run([script, "start"], check=True)

    def url(login: str) -> str:
        done = subprocess.run([script, "url", database, login], check=True, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "DATABASE_URL": url("actions"),
        "MIGRATION_DATABASE_URL": url("owner"),
        "RELAY_DATABASE_URL": url("relay"),
        "DB_SSLMODE": os.environ.get("DB_SSLMODE", "disable"),
    }


def run_mode(mode: str, args: argparse.Namespace, database: dict[str, str]) -> dict[str, Any]:
    """One tracing mode in a fresh process; its figures as JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "_X_AMZN"))}
    env.pop("LAMBDA_TASK_ROOT", None)
    env.update(database)
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "crm_core"), str(ROOT)]),
        POWERTOOLS_SERVICE_NAME="crm-workflow-actions",
        POWERTOOLS_METRICS_NAMESPACE="CrmWorkflowActions",
        POWERTOOLS_LOG_LEVEL=args.log_level,
        AWS_LAMBDA_FUNCTION_NAME="bench-calls",
    )
    if mode == "off":
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    else:  # as deployed: in Lambda (Powertools' rule) with tracing on
        env.update(
            POWERTOOLS_TRACE_DISABLED="false",
            LAMBDA_TASK_ROOT=str(ROOT / "functions"),
            AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000",
            AWS_EXECUTION_ENV="AWS_Lambda_python3.13",
        )
    with tempfile.TemporaryDirectory() as scratch:
        out, log = Path(scratch) / "result.json", Path(scratch) / "stderr.log"
        command = [sys.executable, "-m", "bench.calls", "--child", mode, "--out", str(out), "--calls", str(args.calls)]
        if args.actions:
            command += ["--actions", *args.actions]
        if args.profile:
            command += ["--profile", str(Path(args.profile).resolve())]
        with log.open("w") as errors:
            done = subprocess.run(command, check=False, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        if done.returncode != 0:
            sys.stderr.write(log.read_text()[-6000:])
            raise SystemExit(f"bench.calls: the {mode} run failed (exit {done.returncode})")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    off, deployed = results.get("off", {}), results.get("deployed", {})
    base = off or deployed
    lines = [
        "| action | statements (transactions) per new call | replay: DynamoDB / ledger | dry run | "
        "round trips of a dry run: pg8000 / sent | "
        "floor p50 / p95 | one-trip floor p50 | dry run p50 / p95 | real call p50 / p95 | dry / floor | "
        "dry / one-trip floor | real / floor | "
        "traced: floor p50 | traced: dry p50 / p95 | traced: real p50 / p95 | traced: dry / floor | "
        "traced: dry / one-trip floor | traced: real / floor | X-Ray entities per call |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for action, a in base["actions"].items():
        o, d = off.get("actions", {}).get(action), deployed.get("actions", {}).get(action)
        counts = a["counts"]
        replay = (
            f"{counts['replay_dynamodb']} / {counts['replay_ledger']}" if counts["replay_ledger"] is not None else "—"
        )
        row = [
            action,
            f"{counts['new']} ({counts['new_transactions']})",
            replay,
            f"{counts['dry']} ({counts['dry_transactions']})",
            f"{counts['dry_round_trips_pg8000']} / {counts['dry_round_trips']}",
        ]
        if o is None:
            row += ["—"] * 7
        else:
            t = o["ms"]
            row += [
                f"{fmt(t['floor']['p50'])} / {fmt(t['floor']['p95'])}",
                fmt(t["wire_floor"]["p50"]),
                f"{fmt(t['dry']['p50'])} / {fmt(t['dry']['p95'])}",
                f"{fmt(t['real']['p50'])} / {fmt(t['real']['p95'])}",
                ratio(t["dry"]["p50"], t["floor"]["p50"]),
                ratio(t["dry"]["p50"], t["wire_floor"]["p50"]),
                ratio(t["real"]["p50"], t["floor"]["p50"]),
            ]
        if d is None:
            row += ["—"] * 7
        else:
            t = d["ms"]
            row += [
                fmt(t["floor"]["p50"]),
                f"{fmt(t['dry']['p50'])} / {fmt(t['dry']['p95'])}",
                f"{fmt(t['real']['p50'])} / {fmt(t['real']['p95'])}",
                ratio(t["dry"]["p50"], t["floor"]["p50"]),
                ratio(t["dry"]["p50"], t["wire_floor"]["p50"]),
                ratio(t["real"]["p50"], t["floor"]["p50"]),
                fmt(d.get("trace_entities_per_call"), 1),
            ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


WARM_BUDGET = 1.3  # issue 11: a dry run's p50 <= 1.3x its raw floor, for every action


def median_of_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One mode's figures from several runs: the counts (deterministic: the runs must agree) and, for every timed
    series and percentile, the median of the runs' values."""
    merged: dict[str, Any] = {"mode": runs[0]["mode"], "environment": runs[0]["environment"], "actions": {}}
    for action, first in runs[0]["actions"].items():
        each = [run["actions"][action] for run in runs]
        counts = [a["counts"] for a in each]
        numbers = [key for key, value in first["counts"].items() if not isinstance(value, list)]  # not the texts
        differing = [key for key in numbers if any(c[key] != first["counts"][key] for c in counts)]
        if differing:
            raise SystemExit(f"bench.calls: {action}: statement counts differ between runs: {differing}")
        ms = {
            series: {pct: statistics.median(a["ms"][series][pct] for a in each) for pct in first["ms"][series]}
            for series in first["ms"]
        }
        entities = [a["trace_entities_per_call"] for a in each if a.get("trace_entities_per_call") is not None]
        merged["actions"][action] = {
            "counts": first["counts"],
            "ms": ms,
            "trace_entities_per_call": statistics.median(entities) if entities else None,
        }
    return merged


def budget_summary(results: dict[str, dict[str, Any]]) -> str:
    """Which actions meet the warm-overhead budget in each mode, and by how much the others miss it."""
    lines = []
    for mode, result in results.items():
        ratios = {
            action: a["ms"]["dry"]["p50"] / a["ms"]["floor"]["p50"]
            for action, a in result["actions"].items()
            if a["ms"]["floor"]["p50"]
        }
        over = {action: r for action, r in ratios.items() if r > WARM_BUDGET}
        worst = max(ratios.values(), default=0.0)
        listed = ", ".join(f"{action} {r:.2f}x" for action, r in sorted(over.items())) or "none"
        lines.append(
            f"- {mode}: dry / floor <= {WARM_BUDGET}x for {len(ratios) - len(over)} of {len(ratios)} actions "
            f"(median {statistics.median(ratios.values()):.2f}x, worst {worst:.2f}x); over: {listed}"
        )
    return "\n".join(lines)


def parent(args: argparse.Namespace) -> int:
    database = database_environment()
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in args.modes}
    for number in range(1, args.runs + 1):
        for mode in args.modes:  # alternating, so drift of the machine falls on both modes alike
            started = time.monotonic()
            runs[mode].append(run_mode(mode, args, database))
            print(f"bench.calls: {mode} run {number} done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.json:  # every run, kept even if merging them fails
        Path(args.json).write_text(json.dumps({"runs": runs}, indent=2))
    results = {mode: median_of_runs(each) for mode, each in runs.items()}
    header = results[args.modes[0]]["environment"]
    medians = f"the median of {args.runs} runs' figures" if args.runs > 1 else "one run"
    print(
        f"{args.calls} warm calls per figure, {medians}; Python {header['python']}, SQLAlchemy "
        f"{header['sqlalchemy']}, pg8000 {header['pg8000']}, PostgreSQL {header['postgresql']}; milliseconds\n"
    )
    print(markdown(results))
    print("\nWarm-overhead budget:\n" + budget_summary(results))
    if args.json:
        Path(args.json).write_text(json.dumps({**results, "runs": runs}, indent=2))
    return 0


# ----------------------------------------------------------------------------------------------------- child


class WireRecorder:
    """Records the messages pg8000 sends (method, SQL, parameter values) so they can be replayed raw."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = []

    @contextmanager
    def recording(self) -> Iterator[WireRecorder]:
        from crm_dev.sql_count import intercept_messages

        def record(_connection: Any, method: str, statement: str, args: Any, kwargs: Any) -> None:
            self.messages.append((method, statement, args, kwargs))

        with intercept_messages(record, this_thread_only=False):
            yield self


def raw_connection(url: str) -> Any:
    """A plain pg8000 DB-API connection to ``url`` (no SQLAlchemy)."""
    import pg8000.dbapi
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return pg8000.dbapi.connect(
        user=u.username, password=u.password, host=u.host or "127.0.0.1", port=u.port or 5432, database=u.database
    )


_ENDS = ("commit", "rollback")


def as_pg8000_sends(raw: Any, message: tuple[str, str, tuple[Any, ...], dict[str, Any]]) -> None:
    """Replay one recorded message the way pg8000 sends it by itself: a parameterised statement in three round
    trips (``execute_unnamed``) after its own ``begin transaction``, and ``commit``/``rollback`` as pg8000's
    ``commit()``/``rollback()`` send them (``execute_unnamed``, three more)."""
    name, statement, margs, mkwargs = message
    if name == "pipelined":
        if mkwargs["begin"]:
            raw.execute_simple("begin transaction")
        raw.execute_unnamed(statement, vals=margs[0])
    elif name == "execute_simple" and statement in _ENDS:
        raw.execute_unnamed(statement)
    else:
        getattr(raw, name)(statement, *margs, **mkwargs)


def as_sent(raw: Any, message: tuple[str, str, tuple[Any, ...], dict[str, Any]]) -> None:
    """Replay one recorded message as the layer sent it (``crm_core.db.wire``: one round trip each)."""
    from crm_core.db import wire

    name, statement, margs, mkwargs = message
    if name == "pipelined":
        wire.execute_statement(raw, statement, margs[0], begin=mkwargs["begin"])
    else:
        getattr(raw, name)(statement, *margs, **mkwargs)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return {"p50": at(0.50), "p95": at(0.95), "mean": statistics.fmean(ordered), "n": len(ordered)}


def profile_dry_runs(action: str, mode: str, args: argparse.Namespace, dry_call: Any) -> None:
    """``--profile DIR``: ``--calls`` more dry runs under cProfile, written to ``DIR/<action>.<mode>.pstats``
    (read them with ``python -m pstats`` or snakeviz); not part of the timed figures."""
    import cProfile

    directory = Path(args.profile)
    directory.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.calls):
        dry_call()
    profiler.disable()
    profiler.dump_stats(directory / f"{action}.{mode}.pstats")


def child(args: argparse.Namespace) -> int:
    mode = args.child
    import pg8000
    import sqlalchemy
    from moto import mock_aws
    from sqlalchemy import text

    from bench.scenarios import BenchTenant, scenarios
    from crm_core.db.engine import get_engine
    from crm_core.db.migrate import upgrade
    from crm_core.db.wire import install_iso_dates, install_simple_ends
    from crm_core.runtime import all_specs, build_handler
    from crm_core.runtime.idempotency import first_line_for
    from crm_core.runtime.observability import tracer
    from crm_dev.aws_resources import apply_local_defaults, provision
    from crm_dev.lambda_context import LocalLambdaContext
    from crm_dev.sql_count import count_statements

    url = os.environ["DATABASE_URL"]
    upgrade(os.environ.get("MIGRATION_DATABASE_URL") or url)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    apply_local_defaults(fake_credentials=True)
    traced = mode == "deployed"
    assert tracer.enabled == traced, f"tracing should be {'on' if traced else 'off'} in the {mode} run"
    entities = [0]
    if traced:
        from aws_xray_sdk.core import xray_recorder

        emitter = xray_recorder.emitter
        send = emitter.send_entity

        def counting_send(entity: Any) -> None:
            entities[0] += 1
            send(entity)

        emitter.send_entity = counting_send

    def new_trace() -> None:
        if traced:  # what the Lambda runtime sets for each invocation of a sampled, actively traced function
            os.environ["_X_AMZN_TRACE_ID"] = (
                f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
            )

    specs = [s for s in all_specs() if not args.actions or s.id in args.actions]
    report: dict[str, Any] = {"mode": mode, "actions": {}}
    new_trace()
    with mock_aws():
        provision()
        engine = get_engine()
        with engine.connect() as connection:
            server = connection.execute(text("show server_version")).scalar_one()
        report["environment"] = {
            "python": sys.version.split()[0],
            "sqlalchemy": sqlalchemy.__version__,
            "pg8000": getattr(pg8000, "__version__", "?"),
            "postgresql": str(server).split()[0],
        }
        tenant = BenchTenant.create(engine)
        plans = scenarios(tenant)
        raw = raw_connection(url)  # pg8000 as it ships
        tuned = raw_connection(url)  # as the layer's engine tunes its connections
        install_iso_dates(tuned)
        install_simple_ends(tuned)
        for spec in specs:
            plan = plans[spec.id]
            handler = build_handler(spec)
            context = LocalLambdaContext(spec.name)
            counter = iter(range(10**9))

            def event(action_input: dict[str, Any], *, dry: bool = False, key: str | None = None) -> dict[str, Any]:
                return {
                    "tenant_id": str(tenant.id),
                    "actor_user_id": str(plan.actor),  # noqa: B023 - used within this iteration only
                    "idempotency_key": key or f"bench-{uuid.uuid4()}",
                    "input": action_input,
                    "dry_run": dry,
                }

            def call(e: dict[str, Any]) -> float:
                new_trace()
                started = time.perf_counter()
                handler(e, context)  # noqa: B023
                return (time.perf_counter() - started) * 1000

            for _ in range(3):  # warm-up: every statement compiled, every client created
                call(event(plan.new_input(next(counter))))
                call(event(plan.dry_input, dry=True))

            # Counts (deterministic): a new call, its two kinds of replay, a dry run.
            first = event(plan.new_input(next(counter)))
            with count_statements() as new:
                call(first)
            counts: dict[str, Any] = {"new": new.statements, "new_transactions": new.transactions}
            counts["new_texts"] = new.texts
            if spec.records_invocations:
                with count_statements() as replay:
                    call(first)
                counts["replay_dynamodb"] = replay.statements
                first_line_for(spec.qualified_id).forget(f"{tenant.id}:{spec.qualified_id}:{first['idempotency_key']}")
                with count_statements() as replay:
                    call(first)
                counts["replay_ledger"] = replay.statements
                counts["replay_ledger_texts"] = replay.texts
            else:
                counts["replay_dynamodb"] = counts["replay_ledger"] = None
            dry_event = event(plan.dry_input, dry=True)
            recorder = WireRecorder()
            with count_statements() as dry, recorder.recording():
                call(dry_event)
            counts.update(dry=dry.statements, dry_transactions=dry.transactions, dry_texts=dry.texts)
            messages = [m for m in recorder.messages if m[1].strip().lower() != "select 1"]

            def floor_once(connection: Any, replay: Any) -> float:
                started = time.perf_counter()
                for message in messages:  # noqa: B023
                    replay(connection, message)
                return (time.perf_counter() - started) * 1000

            # The floors first: the dry run's SQL is replayed as it was, before new calls change the data it read
            # (a dry run may insert rows and roll back; a new call may then take the values it inserted).
            with count_statements() as replayed:  # the warm-up replay counts pg8000's own round trips
                floor_once(raw, as_pg8000_sends)
            counts.update(dry_round_trips=dry.round_trips, dry_round_trips_pg8000=replayed.round_trips)
            floors = [floor_once(raw, as_pg8000_sends) for _ in range(args.calls)]
            floor_once(tuned, as_sent)
            wire_floors = [floor_once(tuned, as_sent) for _ in range(args.calls)]
            dry_runs = [call(event(plan.dry_input, dry=True)) for _ in range(args.calls)]
            if args.profile:
                profile_dry_runs(spec.id, mode, args, lambda: call(event(plan.dry_input, dry=True)))  # noqa: B023
            real = []
            entities[0] = 0
            for _ in range(args.calls):
                e = event(plan.new_input(next(counter)))  # seeding (if any) is not timed
                real.append(call(e))
            per_call = entities[0] / args.calls
            report["actions"][spec.id] = {
                "counts": counts,
                "ms": {
                    "real": percentiles(real),
                    "dry": percentiles(dry_runs),
                    "floor": percentiles(floors),
                    "wire_floor": percentiles(wire_floors),
                },
                "trace_entities_per_call": per_call if traced else None,
            }
            print(f"bench.calls[{mode}]: {spec.id} done", file=sys.stderr)
        raw.close()
        tuned.close()
    Path(args.out).write_text(json.dumps(report))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per figure (default 200)")
    parser.add_argument("--actions", nargs="*", help="action ids (default: every action of the registry)")
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("--runs", type=int, default=1, help="runs per mode; figures are their medians (default 1)")
    parser.add_argument("--log-level", default="INFO", help="POWERTOOLS_LOG_LEVEL (deployed: INFO)")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--profile", help="also profile --calls dry runs per action into this folder (.pstats)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
