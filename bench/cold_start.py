"""Cold start of every function, measured on the layer `sam build` produced, with the runtime's Python.

For each function, in fresh processes with only the function's folder and the built layer on the path
(``python -S``: no site-packages, no development packages) and a Lambda-like environment:

- **deps**: importing the function's own dependencies: SQLAlchemy Core and its pg8000 dialect, pg8000,
  pydantic, the Powertools parts it uses (Logger, Metrics; the Tracer and the X-Ray SDK with its botocore
  patch when tracing is on; idempotency and boto3 for the side-effectful actions, whose init creates the
  DynamoDB client);
- **init**: importing the function module (``app.py``: the handler is built and ``warm_up`` does the first
  call's one-time work), with the milliseconds ``warm_up`` spent;
- **first call** right after init, and the median **warm call** of the next ``--warm`` calls (each a new call
  with its own input; the database is the private PostgreSQL, AWS a moto server in another process);
- which heavy modules the init loaded (boto3, botocore's client code, the X-Ray SDK, a PDF library).

With ``.pyc`` (the built layer as it is) and without (the same layer with every ``__pycache__`` removed and
``PYTHONDONTWRITEBYTECODE``: what Lambda's read-only ``/opt`` gives a layer without ``.pyc``); tracing off, and
on as deployed (with ``.pyc``). Each figure is the median of ``--runs`` processes; the dependencies and the
function are measured in alternating processes, and each ratio is the median of the ratios of those pairs (a
machine's drift reaches both alike).

    scripts/sam_check.sh          # builds .aws-sam/build (the layer with its .pyc)
    .venv/bin/python -m bench.cold_start --runs 5

Prints markdown tables; ``--json FILE`` keeps every figure.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
HEAVY = ("boto3", "botocore.client", "aws_xray_sdk", "reportlab", "fpdf", "PIL", "sqlalchemy.orm")
BASE_DEPS = [
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql.pg8000",
    "pg8000",
    # What the layer uses of pydantic: ``import pydantic`` alone loads almost nothing (its names load lazily).
    "pydantic:BaseModel,ConfigDict,Field,AliasChoices,AfterValidator,BeforeValidator,WithJsonSchema,"
    "StringConstraints,field_validator",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
]
TRACED_DEPS = ["aws_lambda_powertools.tracing", "aws_xray_sdk.core", "aws_xray_sdk.ext.botocore.patch"]
RECORDED_DEPS = ["boto3", "aws_lambda_powertools.utilities.idempotency"]


# ----------------------------------------------------------------------------------------- child (python -S)


def child(kind: str, out: str, events_file: str | None) -> None:
    """Runs in the measured process: stdlib and the path given, nothing else imported before the clock starts."""
    import importlib

    started = time.perf_counter()
    result: dict[str, Any] = {}
    if kind == "deps":
        for entry in json.loads(os.environ["COLD_START_DEPS"]):
            name, _, attributes = entry.partition(":")  # "module:a,b": also take these names from it
            module = importlib.import_module(name)
            for attribute in filter(None, attributes.split(",")):
                getattr(module, attribute)
        result["import_ms"] = (time.perf_counter() - started) * 1000
    else:
        app = importlib.import_module("app")
        result["import_ms"] = (time.perf_counter() - started) * 1000
        warmup = sys.modules.get("crm_core.runtime.warmup")
        result["warm_up_ms"] = dict(getattr(warmup, "timings", {}))
        result["module_ms"] = result["import_ms"] - sum(result["warm_up_ms"].values())  # the imports alone
        result["loaded"] = [m for m in HEAVY if m in sys.modules]
        events = json.loads(Path(events_file or "").read_text())

        class Context:
            function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
            function_version = "$LATEST"
            memory_limit_in_mb = 512
            invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
            log_group_name = f"/aws/lambda/{function_name}"
            log_stream_name = "cold-start"

            def __init__(self, n: int) -> None:
                self.aws_request_id = f"00000000-0000-4000-8000-{n:012d}"

            def get_remaining_time_in_millis(self) -> int:
                return 30_000

        calls = []
        profile_to = os.environ.get("COLD_START_PROFILE")  # --profile-first: cProfile of the first and second call
        for n, event in enumerate(events):
            if os.environ.get("POWERTOOLS_TRACE_DISABLED") == "false":
                os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{n:024x};Parent={n:016x};Sampled=1"
            profiler = None
            if profile_to and n < 2:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            begun = time.perf_counter()
            app.lambda_handler(event, Context(n))
            calls.append((time.perf_counter() - begun) * 1000)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(f"{profile_to}.call{n + 1}.pstats")
        result["first_call_ms"] = calls[0]
        result["warm_call_ms"] = statistics.median(calls[1:])
    Path(out).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------------- parent


def lambda_environment(name: str, code: Path, path: list[Path], traced: bool, aws: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "LAMBDA_TASK_ROOT": str(code),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "POWERTOOLS_SERVICE_NAME": "crm-workflow-actions",
        "POWERTOOLS_METRICS_NAMESPACE": "CrmWorkflowActions",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "false" if traced else "true",
        **aws,
    }
    if traced:
        env["_X_AMZN_TRACE_ID"] = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=1"
    return env


def _run_child(python: str, kind: str, env: dict[str, str], events: Path | None, out: Path) -> dict[str, Any]:
    command = [python, "-S", str(Path(__file__).resolve()), "--child", kind, "--out", str(out)]
    if events is not None:
        command += ["--events", str(events)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=out.parent)
    if done.returncode != 0:
        raise SystemExit(f"cold_start: {kind} run failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _merged(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"runs": results}
    for key in ("import_ms", "module_ms", "first_call_ms", "warm_call_ms"):
        if key in results[0]:
            merged[key] = statistics.median(r[key] for r in results)
    if "warm_up_ms" in results[0]:
        merged["warm_up_ms"] = statistics.median(sum(r["warm_up_ms"].values()) for r in results)
        steps = dict.fromkeys(step for r in results for step in r["warm_up_ms"])
        merged["warm_up_steps"] = {s: statistics.median(r["warm_up_ms"].get(s, 0.0) for r in results) for s in steps}
        merged["loaded"] = results[0]["loaded"]
    return merged


def measure(
    python: str, deps_env: dict[str, str], app_env: dict[str, str], events: Callable[[], Path], runs: int
) -> dict[str, Any]:
    """``runs`` pairs of fresh processes, the dependencies' import then the function's init (each app run with
    events of its own: new calls, never replays), alternating so that a machine's drift reaches both alike.
    The ratios are the medians of each pair's own ratio."""
    deps, init = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(runs):
            deps.append(_run_child(python, "deps", deps_env, None, Path(scratch) / f"deps-{run}.json"))
            init.append(_run_child(python, "app", app_env, events(), Path(scratch) / f"app-{run}.json"))
    pairs = list(zip(deps, init, strict=True))
    return {
        "deps": _merged(deps),
        "init": _merged(init),
        "ratios": {
            "init_to_deps": statistics.median(a["import_ms"] / d["import_ms"] for d, a in pairs),
            "imports_to_deps": statistics.median(a["module_ms"] / d["import_ms"] for d, a in pairs),
        },
    }


_counter = iter(range(10_000, 10**9))


def prepare_events(plan: Any, tenant: Any, count: int, directory: Path) -> Path:
    """``count`` new calls of ``plan``'s action (inputs and keys never used before)."""
    events = [
        {
            "tenant_id": str(tenant.id),
            "actor_user_id": str(plan.actor),
            "idempotency_key": f"cold-{time.time_ns()}-{i}",
            "input": plan.new_input(next(_counter)),
        }
        for i in range(count)
    ]
    path = directory / f"{plan.action}.json"
    path.write_text(json.dumps(events, default=str))
    return path


def parent(args: argparse.Namespace) -> int:
    layer = Path(args.layer)
    if not (layer / "crm_core").is_dir():
        raise SystemExit(f"cold_start: no built layer at {layer}: run scripts/sam_check.sh (sam build) first")
    from moto.server import ThreadedMotoServer

    from bench.calls import database_environment
    from bench.scenarios import BenchTenant, scenarios

    database = database_environment()
    os.environ.update(database)
    from crm_core.db.engine import get_engine
    from crm_core.db.migrate import upgrade
    from crm_core.runtime import all_specs
    from crm_core.settings import reset_settings
    from crm_dev.aws_resources import FAKE_CREDENTIALS, LOCAL_DEFAULTS, provision

    upgrade(database.get("MIGRATION_DATABASE_URL") or database["DATABASE_URL"])
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.moto_port)
    server.start()
    aws = {**LOCAL_DEFAULTS, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{args.moto_port}", **database}
    os.environ.update(aws)
    reset_settings()
    provision()
    tenant = BenchTenant.create(get_engine(database["DATABASE_URL"]))
    plans = scenarios(tenant)
    specs = [s for s in all_specs() if not args.actions or s.id in args.actions]

    # The interpreter itself (a pyenv shim would need the parent's environment, which the measured processes lack).
    args.python = subprocess.run(
        [args.python, "-c", "import sys; print(sys.executable)"], check=True, capture_output=True, text=True
    ).stdout.strip()
    results: dict[str, Any] = {"python": args.python, "layer": str(layer), "functions": {}}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        bare = scratch / "layer-without-pyc"
        import shutil

        shutil.copytree(layer, bare, ignore=shutil.ignore_patterns("__pycache__"))
        variants = [("pyc", layer, False), ("no pyc", bare, False), ("pyc, traced", layer, True)]
        variants = [v for v in variants if not args.variants or v[0] in args.variants]
        for spec in specs:
            logical = "".join(part.capitalize() for part in spec.name.split("_")) + "Function"
            code = BUILD / logical if (BUILD / logical / "app.py").is_file() else ROOT / "functions" / spec.name
            figures: dict[str, Any] = {}
            for label, layer_dir, traced in variants:
                env = lambda_environment(spec.name, code, [code, layer_dir], traced, aws)
                if label == "no pyc":
                    env["PYTHONDONTWRITEBYTECODE"] = "1"
                if args.profile_first:
                    Path(args.profile_first).mkdir(parents=True, exist_ok=True)
                    name = f"{spec.id}.{label.replace(', ', '-').replace(' ', '-')}"
                    env["COLD_START_PROFILE"] = str(Path(args.profile_first).resolve() / name)
                deps = BASE_DEPS + (TRACED_DEPS if traced else []) + (RECORDED_DEPS if spec.records_invocations else [])
                deps_env = {**env, "COLD_START_DEPS": json.dumps(deps)}
                plan = plans[spec.id]
                figures[label] = measure(
                    args.python,
                    deps_env,
                    env,
                    lambda: prepare_events(plan, tenant, args.warm + 1, scratch),  # noqa: B023
                    args.runs,
                )
            results["functions"][spec.id] = figures
            print(f"cold_start: {spec.id} done", file=sys.stderr)
    server.stop()
    print(markdown(results, args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"Python: `{args.python}`; layer: `{args.layer}`; median of {args.runs} processes "
        "(ratios: median of the pairs' own ratios); milliseconds.\n",
        "| function | variant | deps import | init (import + warm-up) | of which warm-up | warm-up steps | "
        "imports alone / deps | init / deps | first call | warm call | first / warm | heavy modules after init |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for action, figures in results["functions"].items():
        for label, f in figures.items():
            deps, init = f["deps"]["import_ms"], f["init"]["import_ms"]
            first, warm = f["init"]["first_call_ms"], f["init"]["warm_call_ms"]
            loaded = ", ".join(f["init"]["loaded"]) or "none"
            steps = ", ".join(f"{k} {v:.0f}" for k, v in f["init"].get("warm_up_steps", {}).items()) or "—"
            ratios = f["ratios"]
            lines.append(
                f"| {action} | {label} | {deps:.0f} | {init:.0f} | {f['init']['warm_up_ms']:.0f} | {steps} | "
                f"{ratios['imports_to_deps']:.2f}x | {ratios['init_to_deps']:.2f}x | {first:.1f} | {warm:.1f} | "
                f"{first / warm:.2f}x | "
                f"{loaded} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (median)")
    parser.add_argument("--warm", type=int, default=10, help="warm calls after the first")
    parser.add_argument("--actions", nargs="*", help="action ids (default: every action)")
    parser.add_argument(
        "--variants", nargs="*", choices=["pyc", "no pyc", "pyc, traced"], help="layer variants (default: all three)"
    )
    parser.add_argument("--layer", default=str(BUILD / "CrmCoreLayer" / "python"))
    parser.add_argument(
        "--python",
        default=os.environ.get("LAMBDA_PYTHON", "python3.13"),
        help="the runtime's Python (the layer's .pyc are for it)",
    )
    parser.add_argument("--moto-port", type=int, default=5077)
    parser.add_argument("--json")
    parser.add_argument(
        "--profile-first",
        metavar="DIR",
        help="write cProfile stats of each function's first and second call (last run) to DIR (slows those calls)",
    )
    parser.add_argument("--child", choices=["deps", "app"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--events", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args.events)
        return 0
    return parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
