"""Warm latency of crm.create_activity_note through its real Lambda handler.

Real PostgreSQL (the private one, database crm_bench, or DATABASE_URL) and AWS emulated in-process by moto
(so the DynamoDB idempotency calls cost what moto costs, not what DynamoDB costs). Reports p50/p95/p99 of
N calls with distinct keys, and of N replays of one key (answered by the DynamoDB first line).

    .venv/bin/python bench/handler_latency.py [--calls 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(label: str, samples: list[float]) -> None:
    print(
        f"{label:<38} n={len(samples):<5} p50={percentile(samples, 0.50):6.2f} ms  "
        f"p95={percentile(samples, 0.95):6.2f} ms  p99={percentile(samples, 0.99):6.2f} ms  "
        f"mean={statistics.fmean(samples):6.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "start"], check=True)
        url = subprocess.run(
            [str(ROOT / "scripts" / "postgres.sh"), "url", "crm_bench"], check=True, capture_output=True, text=True
        ).stdout.strip()
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DB_SSLMODE", "disable")  # the private PostgreSQL has no TLS

    from moto import mock_aws

    from crm_core.db.engine import get_engine
    from crm_core.db.migrate import upgrade
    from crm_core.runtime import build_handler, get_spec
    from crm_dev.aws_resources import apply_local_defaults, provision
    from crm_dev.lambda_context import LocalLambdaContext
    from crm_dev.seed import TenantSeeder

    upgrade(os.environ["DATABASE_URL"])
    os.environ.pop("AWS_ENDPOINT_URL", None)
    apply_local_defaults(fake_credentials=True)
    with mock_aws():
        provision()
        seed = TenantSeeder(get_engine()).create()
        actor = seed.user()
        client = seed.client("Bench Co")
        handler = build_handler(get_spec("crm.create_activity_note"))
        context = LocalLambdaContext("create_activity_note")

        def event(key: str) -> dict[str, object]:
            return {
                "tenant_id": str(seed.tenant_id),
                "actor_user_id": str(actor),
                "idempotency_key": key,
                "input": {"target": {"type": "client", "id": str(client)}, "body": "benchmark note"},
            }

        handler(event("warm-up"), context)
        fresh, replays = [], []
        for _ in range(args.calls):
            started = time.perf_counter()
            handler(event(str(uuid.uuid4())), context)
            fresh.append((time.perf_counter() - started) * 1000)
        for _ in range(args.calls):
            started = time.perf_counter()
            handler(event("warm-up"), context)
            replays.append((time.perf_counter() - started) * 1000)
    print(f"python {sys.version.split()[0]}, PostgreSQL via pg8000, AWS via moto in-process")
    report("create_activity_note, new key", fresh)
    report("create_activity_note, replay of a key", replays)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
