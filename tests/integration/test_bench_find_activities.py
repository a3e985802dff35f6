"""The find_activities benchmark at a tiny scale, so it keeps working (the real run is in BENCHMARKS.md)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench.find_activities import Config, run_benchmark


@pytest.fixture
def bench_url(migration_url: str, createdb: None) -> Iterator[str]:
    """A database of its own (the benchmark drops and recreates it), dropped afterwards."""
    name = f"crm_bench_smoke_{uuid.uuid4().hex[:8]}"
    url = make_url(migration_url).set(database=name).render_as_string(hide_password=False)
    yield url
    admin = create_engine(migration_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def test_benchmark_runs_at_tiny_scale(bench_url: str) -> None:
    environment_before = dict(os.environ)
    printed: list[str] = []
    config = Config(
        database_url=bench_url,
        small_rows=1_500,
        rows=4_000,
        tenants=3,
        runs=3,
        warmup=1,
        depth=300,
        chunk=1_000,
        clients=10,
        users=4,
        progress=False,
    )

    report = run_benchmark(config, out=printed.append)

    small, big = report.scales["small"], report.scales["big"]
    assert (small.tenant_rows, small.table_rows, small.tenants) == (1_500, 1_500, 1)
    assert (big.tenant_rows, big.table_rows, big.tenants) == (2_000, 4_000, 3)
    labels = ["client", "contact", "user", "type", "status", "date range (30 days)", "combined", "deep cursor page"]
    assert list(small.measurements) == list(big.measurements) == labels
    for scale in (small, big):
        for label, measurement in scale.measurements.items():
            assert 0 < measurement.raw_p50_ms <= measurement.raw_p95_ms, label
            assert 0 < measurement.handler_p50_ms <= measurement.handler_p95_ms, label
            assert "interactions" in measurement.plan and "actual time=" in measurement.plan, label
    for label in ("client", "user", "type", "status", "deep cursor page"):
        assert big.measurements[label].rows_returned == 25, label
    assert set(report.ratios) == set(labels)
    assert any("within 3x" in line for line in printed)
    assert dict(os.environ) == environment_before
