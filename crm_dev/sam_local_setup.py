"""The Python side of scripts/sam_local.sh: every function of template.yaml run by `sam local` on the demo tenant.

  python -m crm_dev.sam_local_setup free-port HOST
      a free TCP port on HOST
  python -m crm_dev.sam_local_setup database NAME
      the database NAME on the server of DATABASE_URL (same role), created when missing; prints "URL HOST PORT"
  python -m crm_dev.sam_local_setup functions
      one "<folder> <LogicalId>" line per functions/<folder>/; fails naming a folder template.yaml does not use
  python -m crm_dev.sam_local_setup start-lambda-template --built T --layer-arn ARN --layer-cache DIR
      the built template with the layer given by ARN, served from SAM's layer cache DIR (one image build, not one
      per function); prints its path
  python -m crm_dev.sam_local_setup serve --bind IP --database-url URL [--forward IP:PORT] --env-vars F --ready F
      migrates the database, seeds the demo tenant (crm_demo.seed), starts a moto server on IP (containers reach the
      host at the docker bridge address), provisions the AWS resources (crm_dev.aws_resources), writes the
      --env-vars file for SAM, then the ready file, and serves until SIGTERM
  python -m crm_dev.sam_local_setup check --endpoint URL --sam SAM --template T --env-vars F [--invoke NAME]
      (T: the template `sam local invoke` runs, the one `sam build` wrote)
      calls every function through `sam local start-lambda` at URL with boto3's Lambda client (the way a workflow
      engine calls Lambda), first as a dry run (the cold start), then for real (warm), then one `sam local invoke`
      of NAME; checks each output (no errorType, exactly the output model's keys); prints a table; exits 1 naming
      each failure

The sample events are built for a freshly seeded demo tenant (tests/test_sample_events.py runs them the same way
through the handlers in-process), so `serve` reseeds on every run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "events"


class SetupError(Exception):
    """Something the local run needs is missing or wrong; the message says what."""


# ---- discovery -------------------------------------------------------------------------------------------------


def function_resources(template_path: Path = ROOT / "template.yaml") -> dict[str, str]:
    """functions/<folder> -> logical id of its AWS::Serverless::Function, for every folder with an app.py."""
    from crm_dev.step_functions import load_template

    by_folder: dict[str, str] = {}
    for logical_id, resource in load_template(template_path)["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        code_uri = str(resource.get("Properties", {}).get("CodeUri", "")).strip("/")
        if code_uri.startswith("functions/"):
            by_folder[code_uri.removeprefix("functions/")] = logical_id
    folders = sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py"))
    missing = [f for f in folders if f not in by_folder]
    if missing:
        raise SetupError("no AWS::Serverless::Function in template.yaml for functions/" + ", functions/".join(missing))
    return {folder: by_folder[folder] for folder in folders}


def declared_variables(template_path: Path = ROOT / "template.yaml") -> set[str]:
    """The variables of Globals.Function.Environment: the only ones `sam local --env-vars` can set for all."""
    from crm_dev.step_functions import load_template

    globals_ = load_template(template_path).get("Globals", {}).get("Function", {})
    return set(globals_.get("Environment", {}).get("Variables", {}))


def start_lambda_template(built: Path, layer_arn: str, layer_cache: Path) -> tuple[Path, str]:
    """A copy of the built template for `sam local start-lambda` whose functions take the built layer by ARN.

    SAM rebuilds its emulator image (base + runtime interface emulator + layers) for every function's first call
    when a layer is defined in the template, about 10 s each here; a layer given by ARN it takes from its layer cache
    (``--layer-cache-basedir``) and the image is built once for all functions. The layer's files are the same: the
    cache entry is a hard-linked copy of the built layer. Returns the template and the cache entry's name (SAM's
    ``<name>-<version>-<sha256 of the ARN, 10 hex>``)."""
    import hashlib

    import yaml

    from crm_dev.step_functions import load_template

    template = load_template(built)
    layers = [lid for lid, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::LayerVersion"]
    if len(layers) != 1:
        raise SetupError(f"expected one AWS::Serverless::LayerVersion in {built}, found {layers}")
    layer_id = layers[0]

    def by_arn(value: Any) -> Any:
        return [layer_arn if item == {"Ref": layer_id} else item for item in value]

    function_globals = template.get("Globals", {}).get("Function", {})
    if "Layers" in function_globals:
        function_globals["Layers"] = by_arn(function_globals["Layers"])
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and "Layers" in properties:
            properties["Layers"] = by_arn(properties["Layers"])
    out = built.with_name("template-start-lambda.yaml")
    out.write_text(yaml.safe_dump(template, sort_keys=False))

    _, name, version = layer_arn.rsplit(":", 2)
    entry = f"{name}-{version}-{hashlib.sha256(layer_arn.encode()).hexdigest()[:10]}"
    source = built.parent / str(template["Resources"][layer_id]["Properties"]["ContentUri"])
    target = layer_cache / entry
    layer_cache.mkdir(parents=True, exist_ok=True)
    try:  # hard links: instant, no copy of the layer's files
        subprocess.run(["cp", "-al", str(source), str(target)], check=True, capture_output=True)
    except subprocess.CalledProcessError:  # another filesystem
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
    return out, entry


# ---- database and emulated AWS ---------------------------------------------------------------------------------


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_database(name: str) -> Any:
    """The URL (sqlalchemy URL object) of database ``name`` next to DATABASE_URL's, created when missing."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    # The schema owner's login (it may create databases and runs the migrations); the functions get their own.
    base = (os.environ.get("MIGRATION_DATABASE_URL") or os.environ.get("DATABASE_URL") or "").strip()
    if not base:
        raise SetupError("DATABASE_URL is not set")
    url = make_url(base).set(database=name)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("select 1 from pg_database where datname = :n"), {"n": name}).first()
            if exists is None:
                connection.execute(text(f'create database "{name}"'))
    except Exception as exc:
        raise SetupError(f"cannot create database {name!r} as {url.username!r} (needs CREATEDB): {exc}") from exc
    finally:
        admin.dispose()
    return url


def function_variables(database_url: str, aws_endpoint: str, relay_database_url: str = "") -> dict[str, str]:
    """What the --env-vars file sets for every function: the database (the actions' and the relay's logins) and AWS
    endpoints as containers reach them, no secret, and the resource names that ``provision`` created (region and
    credentials come from SAM itself)."""
    from crm_dev.aws_resources import LOCAL_DEFAULTS

    names = {
        name: os.environ.get(name) or value for name, value in LOCAL_DEFAULTS.items() if not name.startswith("AWS_")
    }
    return {
        "DATABASE_URL": database_url,
        "RELAY_DATABASE_URL": relay_database_url,
        "DB_SECRET_ARN": "",  # set, the function would wait on Secrets Manager until its timeout
        "AWS_ENDPOINT_URL": aws_endpoint,
        **names,
    }


def serve(bind: str, database_url: str, forward: str | None, env_vars: Path, ready: Path) -> int:
    """Seed, start moto on ``bind``, provision, write the SAM env-vars file, then wait for SIGTERM."""
    from moto.server import ThreadedMotoServer
    from sqlalchemy.engine import make_url

    from crm_core.db.engine import get_engine
    from crm_core.db.migrate import upgrade
    from crm_demo.seed import seed_demo_tenant
    from crm_dev.aws_resources import apply_local_defaults, provision

    upgrade(database_url)
    seed_demo_tenant(get_engine(database_url))

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port(bind)
    server = ThreadedMotoServer(ip_address=bind, port=port, verbose=False)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        endpoint = f"http://{bind}:{port}"
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        apply_local_defaults(fake_credentials=True)
        provision()

        container_url = make_url(database_url)
        if forward:
            host, _, forward_port = forward.rpartition(":")
            container_url = container_url.set(host=host, port=int(forward_port))
        sslmode = os.environ.get("DB_SSLMODE")
        if sslmode:  # the containers do not inherit DB_SSLMODE: the URL carries it
            container_url = container_url.update_query_dict({"sslmode": sslmode})

        def as_login(variable: str) -> str:
            """``container_url`` with the login of ``variable`` (scripts/database.sh set it), else the owner's."""
            login = make_url(os.environ.get(variable) or database_url)
            return container_url.set(username=login.username, password=login.password).render_as_string(
                hide_password=False
            )

        variables = function_variables(as_login("DATABASE_URL"), endpoint, as_login("RELAY_DATABASE_URL"))
        undeclared = sorted(set(variables) - declared_variables())
        if undeclared:  # SAM would drop them silently
            raise SetupError(f"template.yaml Globals.Function.Environment.Variables does not declare {undeclared}")
        env_vars.write_text(json.dumps({"Parameters": variables}, indent=2) + "\n")
        ready.write_text(json.dumps({"moto": endpoint}) + "\n")
        print(f"sam_local: demo tenant seeded; moto at {endpoint}", file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
    return 0


# ---- the checks ------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    seconds: float
    detail: str


def expected_shape(folder: str, output: Any) -> str | None:
    """Why ``output`` is not what functions/<folder> returns, or None when it is."""
    if not isinstance(output, dict):
        return f"output is {type(output).__name__}, not an object"
    if "errorType" in output:
        return f"{output['errorType']}: {str(output.get('errorMessage', ''))[:300]}"
    spec = action_spec(folder)
    if spec is None:  # the relay: a report of integer counts
        if not output or not all(isinstance(v, int) and v >= 0 for v in output.values()):
            return f"output {output} is not a report of counts"
        return None
    fields = set(spec.output_model.model_fields)
    missing, extra = sorted(fields - set(output)), sorted(set(output) - fields)
    if missing or extra:
        return f"output keys differ from {spec.output_model.__name__}: missing {missing}, unexpected {extra}"
    try:
        spec.output_model.model_validate(output)
    except ValueError as exc:
        return f"output does not validate as {spec.output_model.__name__}: {exc}"
    if folder == "find_activities" and not output["count"]:
        return "found no activities: the function did not read the seeded demo tenant"
    return None


def action_spec(folder: str) -> Any:
    """The action that functions/<folder> runs (``spec.name`` is the folder), or None (the relay)."""
    from crm_core.runtime import all_specs

    return next((s for s in all_specs() if s.name == folder), None)


def sample_event(folder: str, *, dry_run: bool) -> Any:
    path = EVENTS / f"{folder}.json"
    if not path.exists():
        if action_spec(folder) is not None:
            raise SetupError(f"events/{folder}.json is missing")
        return {}
    event = json.loads(path.read_text())
    if dry_run and action_spec(folder) is not None:
        event["dry_run"] = True
    return event


def call_start_lambda(client: Any, folder: str, logical_id: str, *, dry_run: bool) -> Outcome:
    """One call through `sam local start-lambda`, the way a workflow engine calls Lambda (RequestResponse)."""
    started = time.perf_counter()
    try:
        payload = json.dumps(sample_event(folder, dry_run=dry_run))
        response = client.invoke(FunctionName=logical_id, InvocationType="RequestResponse", Payload=payload)
        raw = response["Payload"].read()
        seconds = time.perf_counter() - started
        try:
            output = json.loads(raw) if raw else None
        except ValueError:
            return Outcome(False, seconds, f"output is not JSON: {raw[:300]!r}")
        problem = expected_shape(folder, output)
        if problem is None and response.get("FunctionError"):
            problem = f"FunctionError {response['FunctionError']}: {raw[:300]!r}"
    except Exception as exc:
        return Outcome(False, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return Outcome(problem is None, seconds, problem or "ok")


def call_sam_invoke(sam: str, template: Path, env_vars: Path, folder: str, logical_id: str) -> Outcome:
    """`sam local invoke` exits 0 even when the function fails: its stdout (the output) is what is checked."""
    started = time.perf_counter()
    command = [sam, "local", "invoke", logical_id, "--template", str(template), "--skip-pull-image"]
    command += ["--event", str(EVENTS / f"{folder}.json"), "--env-vars", str(env_vars)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    try:
        output = json.loads(lines[-1]) if lines else None
    except ValueError:
        output = None
    problem = None if result.returncode == 0 else f"sam local invoke exited {result.returncode}"
    if output is None:
        problem = problem or "no JSON output"
    problem = problem or expected_shape(folder, output)
    if problem:
        problem += "\n" + (result.stdout[-1500:] + result.stderr[-2500:]).strip()
    return Outcome(problem is None, seconds, problem or "ok")


def check(endpoint: str, sam: str, template: Path, env_vars: Path, invoke: str) -> int:
    """Every function twice through start-lambda, then one `sam local invoke`; a table; 1 when anything failed.

    First each function once, the actions as dry runs (validated, checked, computed, nothing written): that call
    starts its warm container (SAM builds its image first, for every function, since the layer is in the template).
    Then each sample event for real, in folder order, on the warm containers.
    """
    import boto3
    from botocore.config import Config

    resources = function_resources()
    if invoke not in resources:
        raise SetupError(f"--invoke {invoke}: no such function folder")
    client = boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            connect_timeout=10,
            read_timeout=300,
            retries={"total_max_attempts": 1},
        ),
    )
    cold: dict[str, Outcome] = {}
    for folder, logical_id in resources.items():
        cold[folder] = call_start_lambda(client, folder, logical_id, dry_run=True)
        print(f"sam_local: {folder}: {cold[folder].seconds:.1f} s (first call)", file=sys.stderr, flush=True)
    warm = {
        folder: call_start_lambda(client, folder, logical_id, dry_run=False) for folder, logical_id in resources.items()
    }
    invoked = call_sam_invoke(sam, template, env_vars, invoke, resources[invoke])

    failures: list[str] = []
    print()
    print(f"{'function':<26} {'logical id':<31} {'cold dry run':>13} {'call':>7}  result")
    for folder, logical_id in resources.items():
        first, second = cold[folder], warm[folder]
        ok = first.ok and second.ok
        print(
            f"{folder:<26} {logical_id:<31} {first.seconds:>12.1f}s {second.seconds:>6.1f}s  {'ok' if ok else 'FAILED'}"
        )
        if not first.ok:
            failures.append(
                f"{folder} ({'dry run' if action_spec(folder) is not None else 'first call'}): {first.detail}"
            )
        if not second.ok:
            failures.append(f"{folder}: {second.detail}")
    print(f"{invoke + ' (sam local invoke)':<58} {'':>13} {invoked.seconds:>6.1f}s  {'ok' if invoked.ok else 'FAILED'}")
    if not invoked.ok:
        failures.append(f"{invoke} (sam local invoke): {invoked.detail}")
    calls = 2 * len(resources) + 1
    print(
        f"\n{calls - len(failures)}/{calls} calls ok "
        f"({len(resources)} functions, each twice through start-lambda; one sam local invoke)"
    )
    for failure in failures:
        print(f"\nFAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_dev.sam_local_setup", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("free-port").add_argument("host")
    commands.add_parser("database").add_argument("name")
    commands.add_parser("functions")
    layer_parser = commands.add_parser("start-lambda-template")
    layer_parser.add_argument("--built", type=Path, required=True)
    layer_parser.add_argument("--layer-arn", required=True)
    layer_parser.add_argument("--layer-cache", type=Path, required=True)
    serve_parser = commands.add_parser("serve")
    serve_parser.add_argument("--bind", required=True)
    serve_parser.add_argument("--database-url", required=True)
    serve_parser.add_argument("--forward", help="IP:PORT where containers reach the database (socat)")
    serve_parser.add_argument("--env-vars", type=Path, required=True)
    serve_parser.add_argument("--ready", type=Path, required=True)
    check_parser = commands.add_parser("check")
    check_parser.add_argument("--endpoint", required=True)
    check_parser.add_argument("--sam", required=True)
    check_parser.add_argument("--template", type=Path, required=True)
    check_parser.add_argument("--env-vars", type=Path, required=True)
    check_parser.add_argument("--invoke", default="find_activities")
    args = parser.parse_args(argv)
    try:
        if args.command == "free-port":
            print(free_port(args.host))
        elif args.command == "database":
            url = ensure_database(args.name)
            print(url.render_as_string(hide_password=False), url.host or "127.0.0.1", url.port or 5432)
        elif args.command == "functions":
            for folder, logical_id in function_resources().items():
                print(folder, logical_id)
        elif args.command == "start-lambda-template":
            print(start_lambda_template(args.built, args.layer_arn, args.layer_cache)[0])
        elif args.command == "serve":
            return serve(args.bind, args.database_url, args.forward, args.env_vars, args.ready)
        else:
            return check(args.endpoint, args.sam, args.template, args.env_vars, args.invoke)
    except SetupError as exc:
        print(f"sam_local: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
