"""Record the statement shapes each action's calls use, for the init phase to compile before a first call.

Runs every action's benchmark scenario (bench/scenarios.py: two new calls and a dry run, through the real
handler, PostgreSQL for real, AWS emulated in-process by moto) while recording which shape builders it uses
(``crm_core.db.shapes``), and writes them to ``layers/crm_core/crm_core/statement_shapes.json``:

    .venv/bin/python -m bench.shapes --write     # after a change to what an action writes or reads
    .venv/bin/python -m bench.shapes             # prints the differences from the file, exit 1 if any

``tests/integration/test_statement_shapes.py`` fails when the file is not current. Database: ``DATABASE_URL``
(with ``MIGRATION_DATABASE_URL``), or the private PostgreSQL's ``crm_bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from crm_core.db.shapes import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
MANIFEST_PATH = ROOT / "layers" / "crm_core" / "crm_core" / MANIFEST


def record_shapes(engine: Engine) -> dict[str, list[list[Any]]]:
    """The manifest: for every action, the shape builders two new calls and a dry run of its scenario use (on a
    new benchmark tenant; AWS must be emulated already, with the local resources provisioned)."""
    from bench.scenarios import BenchTenant, scenarios
    from crm_core.db.shapes import encode_uses, recording_shapes
    from crm_core.runtime import all_specs, build_handler
    from crm_dev.lambda_context import LocalLambdaContext

    tenant = BenchTenant.create(engine)
    plans = scenarios(tenant)
    counter = iter(range(10**9))
    manifest: dict[str, list[list[Any]]] = {}
    for spec in sorted(all_specs(), key=lambda s: s.id):
        plan = plans[spec.id]
        handler = build_handler(spec)
        context = LocalLambdaContext(spec.name)

        def event(action_input: dict[str, Any], *, dry: bool) -> dict[str, Any]:
            return {
                "tenant_id": str(tenant.id),
                "actor_user_id": str(plan.actor),  # noqa: B023 - used within this iteration only
                "idempotency_key": f"shapes-{uuid.uuid4()}",
                "input": action_input,
                "dry_run": dry,
            }

        inputs = [plan.new_input(next(counter)) for _ in range(2)]  # seeding (if any) is not recorded
        with recording_shapes() as used:
            for action_input in inputs:
                handler(event(action_input, dry=False), context)
            handler(event(plan.dry_input, dry=True), context)
        manifest[spec.id] = encode_uses(used)
    return manifest


def render(manifest: dict[str, list[list[Any]]]) -> str:
    """The manifest as the file holds it: one line per shape, actions in order."""
    lines = ["{"]
    actions = sorted(manifest)
    for number, action in enumerate(actions):
        entries = manifest[action]
        lines.append(f"  {json.dumps(action)}: [")
        lines += [
            f"    {json.dumps(entry, sort_keys=True)}{',' if i < len(entries) - 1 else ''}"
            for i, entry in enumerate(entries)
        ]
        lines.append("  ]" + ("," if number < len(actions) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def differences(current: dict[str, list[list[Any]]], recorded: dict[str, list[list[Any]]]) -> list[str]:
    """What differs between the shapes recorded now and the file's, one line each (empty when current)."""

    def keyed(entries: list[list[Any]]) -> set[str]:
        return {json.dumps(entry, sort_keys=True) for entry in entries}

    lines = []
    for action in sorted(set(current) | set(recorded)):
        now, then = keyed(current.get(action, [])), keyed(recorded.get(action, []))
        lines += [f"{action}: new shape {entry}" for entry in sorted(now - then)]
        lines += [f"{action}: shape no longer used {entry}" for entry in sorted(then - now)]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write {MANIFEST_PATH.relative_to(ROOT)}")
    args = parser.parse_args()

    from bench.calls import database_environment

    os.environ.update(database_environment())
    from moto import mock_aws

    from crm_core.db.engine import get_engine
    from crm_core.db.migrate import upgrade
    from crm_dev.aws_resources import apply_local_defaults, provision

    upgrade(os.environ.get("MIGRATION_DATABASE_URL") or os.environ["DATABASE_URL"])
    os.environ.pop("AWS_ENDPOINT_URL", None)
    apply_local_defaults(fake_credentials=True)
    with mock_aws():
        provision()
        current = record_shapes(get_engine())
    if args.write:
        MANIFEST_PATH.write_text(render(current))
        print(f"bench.shapes: {sum(map(len, current.values()))} shapes of {len(current)} actions written")
        return 0
    recorded = json.loads(MANIFEST_PATH.read_text()) if MANIFEST_PATH.exists() else {}
    found = differences(current, recorded)
    print("\n".join(found) or "bench.shapes: the manifest is current")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
