"""Benchmark of crm.find_quotes: does a page stay fast as a tenant's quotes grow from 10k to 1M in the table?

Scale plan (as bench/find_activities.py)
----------------------------------------
Phase 1 (small): one measured tenant holding ``--small-rows`` quotes (default 10,000), alone in the table.
Phase 2 (big): the table grows to ``--rows`` quotes in all (default 1,000,000) across ``--tenants`` tenants
(default 50). The measured tenant keeps its phase-1 quotes and grows to ``--measured-share`` of the table (default
0.5: 500,000 quotes); the other tenants split the rest evenly.

Every quote: a random client of its tenant (100 for the measured one), a quote_date on a whole day within the three
years before ANCHOR (so about 450 quotes a day share their date at the big scale: the quote_id tiebreak matters), a
status drawn from a draft-heavy mix, a total in whole dollars (5,000 distinct values: ties again), created some
seconds after its quote_date, one in a thousand a template (no number, no status); the measured tenant's quotes
have ``--items`` items each (items_count is counted per row of a page). Rows come from PostgreSQL itself
(``WITH made AS (INSERT ... SELECT FROM generate_series ... RETURNING) INSERT INTO quote_items ...``), in chunks of
``--chunk`` quotes, as the application role with the tenant set (row-level security is forced).

At each scale the same inputs (limit 25) are measured: every sort key in both orders without a filter; client;
status; a 30-day date range; a quote number; a combination (client + status + one-year range); and two deep cursor
pages (``--depth`` quotes into the default order, and into status ascending, where the page after a cursor is a
UNION ALL of index ranges). For each: ``--runs`` timed calls after ``--warmup``, through the real Lambda handler
(moto for AWS) and of the raw page query alone, p50 and p95, the ``EXPLAIN (ANALYZE, BUFFERS)`` plan, the index it
reads quotes with and how many quote rows it read (index rows returned plus rows removed by a filter).

The check: every plan reads ``quotes`` through an index, and at the big scale the handler's p50 of each input is
within 3x of its small-scale p50. The target database (default ``crm_bench_quotes``) is dropped and recreated.

    .venv/bin/python bench/find_quotes.py          # the full run (10k and 1M quotes)
    .venv/bin/python bench/find_quotes.py --small-rows 2000 --rows 20000 --tenants 5 --runs 10   # smoke run

Exit status 1 when a plan reads ``quotes`` without an index or a ratio exceeds 3x. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.find_activities import (  # noqa: E402 - the same database, timing and AWS helpers
    Progress,
    benchmark_environment,
    percentile,
    recreate_database,
    server_time,
    tenant_transaction,
    time_calls,
)

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
HISTORY_DAYS = 3 * 365
RATIO_LIMIT = 3.0
LIMIT = 25
# Draft-heavy, as a quoting team's history looks; a uniform pick from this list.
STATUS_MIX = [
    "draft",
    "draft",
    "draft",
    "sent",
    "sent",
    "accepted",
    "accepted",
    "rejected",
    "expired",
    "converted",
    "cancelled",
    "pending_approval",
    "approved",
]
INDEX_SCAN = re.compile(r"(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) ((?:ix|uq|pk)_quotes\S*)")
ROWS_READ = re.compile(
    r"(?:Index(?: Only)? Scan(?: Backward)? using \S+|Bitmap Heap Scan) on quotes "
    r".*?actual time=\S+ rows=(\d+) loops=(\d+)"
)
REMOVED = re.compile(r"Rows Removed by Filter: (\d+)")


@dataclass(frozen=True)
class Config:
    database_url: str
    small_rows: int = 10_000
    rows: int = 1_000_000
    tenants: int = 50
    measured_share: float = 0.5
    runs: int = 50
    warmup: int = 5
    depth: int = 5_000
    chunk: int = 50_000
    clients: int = 100
    items: int = 2
    show_plans: bool = True
    progress: bool = True


@dataclass
class Measurement:
    handler_p50_ms: float
    handler_p95_ms: float
    raw_p50_ms: float
    raw_p95_ms: float
    rows_returned: int
    index_used: str | None
    quote_rows_read: int
    server_ms: float
    plan: str


@dataclass
class ScaleResult:
    name: str
    tenant_rows: int
    table_rows: int
    tenants: int
    measurements: dict[str, Measurement] = field(default_factory=dict)


@dataclass
class Report:
    config: dict[str, Any]
    scales: dict[str, ScaleResult]
    ratios: dict[str, float]
    plans_use_index: bool
    within_limit: bool
    seed_seconds: dict[str, float]

    @property
    def passed(self) -> bool:
        return self.plans_use_index and self.within_limit


@dataclass
class MeasuredTenant:
    tenant_id: uuid.UUID
    actor: uuid.UUID
    clients: list[str]


def default_database_url() -> str:
    url = os.environ.get("BENCH_QUOTES_DATABASE_URL")
    if url:
        return url
    return subprocess.run(
        [str(ROOT / "scripts" / "postgres.sh"), "url", "crm_bench_quotes"], check=True, capture_output=True, text=True
    ).stdout.strip()


def seed_tenant(engine: Engine, *, clients: int) -> MeasuredTenant:
    """A tenant (roles, permissions via the seeder) with an Admin and ``clients`` clients."""
    from crm_dev.seed import TenantSeeder

    seed = TenantSeeder(engine).create()
    actor = seed.user(roles=["Admin"], first_name="Bench", last_name="Admin")
    with tenant_transaction(engine, seed.tenant_id) as session:
        client_ids = [
            str(v)
            for v in session.execute(
                text(
                    "insert into clients (tenant, client_id, client_name, timezone) "
                    "select cast(:t as uuid), gen_random_uuid(), 'Client ' || g, 'America/New_York' "
                    "from generate_series(1, :n) g order by g returning client_id"
                ),
                {"t": str(seed.tenant_id), "n": clients},
            )
            .scalars()
            .all()
        ]
    return MeasuredTenant(tenant_id=seed.tenant_id, actor=actor, clients=client_ids)


# The lateral subquery refers to g so that PostgreSQL draws new random numbers for every row.
INSERT_CHUNK = """
with made as (
    insert into quotes (
        tenant, quote_id, quote_number, client_id, title, quote_date, valid_until, status,
        subtotal, discount_total, tax, total_amount, currency_code, is_template, created_at, updated_at)
    select
        cast(:tenant as uuid),
        gen_random_uuid(),
        case when r.template_pick < 0.001 then null else 'QUO-' || lpad(g::text, 7, '0') end,
        (cast(:clients as uuid[]))[1 + r.client_index],
        'Quote ' || g,
        r.day,
        r.day + interval '30 days',
        case when r.template_pick < 0.001 then null
             else (cast(:statuses as text[]))[1 + floor(r.status_pick * :n_statuses)::int] end,
        r.cents,
        0,
        0,
        r.cents,
        'USD',
        r.template_pick < 0.001,
        r.day + make_interval(secs => r.created_offset),
        r.day + make_interval(secs => r.created_offset)
    from generate_series(cast(:lo as bigint), cast(:hi as bigint)) g
    cross join lateral (
        select
            floor(random() * :n_clients)::int + 0 * g as client_index,
            random() as template_pick,
            random() as status_pick,
            (floor(random() * 5000)::bigint + 1) * 100 as cents,
            date_trunc('day', cast(:anchor as timestamptz) - make_interval(days => floor(random() * :days)::int))
                as day,
            random() * 36000 as created_offset
    ) r
    returning tenant, quote_id
)
insert into quote_items (tenant, quote_item_id, quote_id, description, quantity, unit_price, total_price,
                         net_amount, display_order)
select m.tenant, gen_random_uuid(), m.quote_id, 'Managed endpoint ' || n, 1, 10000, 10000, 10000, n
from made m cross join generate_series(1, cast(:items as int)) n
"""


def seed_quotes(engine: Engine, tenant: MeasuredTenant, count: int, *, start: int, items: int, bar: Progress) -> None:
    """``count`` quotes of ``tenant`` (numbered from ``start + 1``) with ``items`` items each, in chunks."""
    done = 0
    while done < count:
        size = min(bar.chunk, count - done)
        lo = start + done + 1
        with tenant_transaction(engine, tenant.tenant_id) as session:
            session.execute(
                text(INSERT_CHUNK),
                {
                    "tenant": str(tenant.tenant_id),
                    "clients": tenant.clients,
                    "n_clients": len(tenant.clients),
                    "statuses": STATUS_MIX,
                    "n_statuses": len(STATUS_MIX),
                    "lo": lo,
                    "hi": lo + size - 1,
                    "anchor": ANCHOR,
                    "days": HISTORY_DAYS,
                    "items": items,
                },
            )
        done += size
        bar.update(size)


def vacuum_analyze(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as connection:
        for table in ("quotes", "quote_items", "clients"):
            connection.execute(text(f"vacuum (analyze) {table}"))
    engine.dispose()


def count_quotes(engine: Engine, tenant_ids: list[uuid.UUID]) -> int:
    total = 0
    for tenant_id in tenant_ids:
        with tenant_transaction(engine, tenant_id) as session:
            total += int(session.execute(text("select count(*) from quotes")).scalar_one())
    return total


# ---- measuring ----


def typical_inputs(tenant: MeasuredTenant) -> dict[str, dict[str, Any]]:
    """The inputs measured at both scales (the deep pages get their cursors later)."""
    iso = lambda value: value.isoformat().replace("+00:00", "Z")  # noqa: E731
    inputs: dict[str, dict[str, Any]] = {}
    for key in ("quote_date", "total_amount", "status", "created_at"):
        for order in ("desc", "asc"):
            inputs[f"{key} {order}"] = {"sort_by": key, "sort_order": order}
    inputs.update(
        {
            "client": {"client_id": tenant.clients[0]},
            "status filter": {"status": "sent"},
            "date range (30 days)": {"date_from": iso(ANCHOR - timedelta(days=30)), "date_to": iso(ANCHOR)},
            "quote number": {"quote_number": "QUO-0000777"},
            "combined": {
                "client_id": tenant.clients[1],
                "status": "accepted",
                "date_from": iso(ANCHOR - timedelta(days=365)),
                "date_to": iso(ANCHOR),
            },
            "deep cursor (date desc)": {},
            "deep cursor (status asc)": {"sort_by": "status", "sort_order": "asc"},
        }
    )
    return inputs


def deep_cursor(engine: Engine, tenant: MeasuredTenant, action_input: dict[str, Any], depth: int) -> str:
    """The cursor that continues ``action_input`` after its first ``depth`` quotes."""
    from crm_core.actions.quotes.find_quotes import FindQuotesInput, encode_cursor, filters_of, sort_of
    from crm_core.dal.quote_search import QuotePosition, find_quote_page

    data = FindQuotesInput.model_validate(action_input)
    filters, sort = filters_of(data), sort_of(data)
    with tenant_transaction(engine, tenant.tenant_id) as session:
        last = find_quote_page(session, tenant.tenant_id, filters, sort, after=None, limit=depth)[0][-1]
    return encode_cursor(filters, sort, QuotePosition(last.sort_value, last.quote.quote_id))


def page_query(tenant: MeasuredTenant, action_input: dict[str, Any]) -> Any:
    from crm_core.actions.quotes.find_quotes import FindQuotesInput, decode_cursor, filters_of, sort_of
    from crm_core.dal.quote_search import quote_page_query

    data = FindQuotesInput.model_validate(action_input)
    filters, sort = filters_of(data), sort_of(data)
    after = decode_cursor(data.cursor, filters, sort) if data.cursor else None
    return quote_page_query(tenant.tenant_id, filters, sort, after=after, limit=data.limit + 1)


def explain(engine: Engine, tenant: MeasuredTenant, action_input: dict[str, Any]) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the page query the action runs for ``action_input``."""
    compiled = page_query(tenant, action_input).compile(dialect=engine.dialect)
    positional = tuple(compiled.params[name] for name in compiled.positiontup or ())
    with tenant_transaction(engine, tenant.tenant_id) as session:
        lines = session.exec_driver_sql("explain (analyze, buffers) " + compiled.string, positional).scalars().all()
    return "\n".join(lines)


def index_of(plan: str) -> str | None:
    """The (first) index that reads ``quotes`` in ``plan``; None when quotes is read by a sequential scan."""
    if "Seq Scan on quotes" in plan:
        return None
    match = INDEX_SCAN.search(plan)
    return match.group(1) if match else None


def quote_rows_read(plan: str) -> int:
    """Quote rows the plan's index scans produced plus the rows their filters removed."""
    lines = plan.splitlines()
    total = 0
    for number, line in enumerate(lines):
        match = ROWS_READ.search(line)
        if not match:
            continue
        total += int(match.group(1)) * int(match.group(2))
        for detail in lines[number + 1 : number + 6]:
            removed = REMOVED.search(detail)
            if removed:
                total += int(removed.group(1))
                break
            if "->" in detail:
                break
    return total


def measure_scale(
    name: str,
    engine: Engine,
    tenant: MeasuredTenant,
    config: Config,
    *,
    tenant_rows: int,
    table_rows: int,
    tenants: int,
) -> ScaleResult:
    from crm_core.actions.quotes.find_quotes import SPEC
    from crm_core.runtime import build_handler
    from crm_dev.lambda_context import LocalLambdaContext

    handler = build_handler(SPEC)
    context = LocalLambdaContext("find_quotes")
    result = ScaleResult(name=name, tenant_rows=tenant_rows, table_rows=table_rows, tenants=tenants)
    inputs = typical_inputs(tenant)
    depth = min(config.depth, max(1, tenant_rows // 2))
    for label in ("deep cursor (date desc)", "deep cursor (status asc)"):
        inputs[label]["cursor"] = deep_cursor(engine, tenant, inputs[label], depth)
    for label, filters_input in inputs.items():
        action_input = {**filters_input, "limit": LIMIT}
        event = {"tenant_id": str(tenant.tenant_id), "actor_user_id": str(tenant.actor), "input": action_input}
        handler_ms, output = time_calls(lambda e=event: handler(e, context), runs=config.runs, warmup=config.warmup)

        query = page_query(tenant, action_input)

        def raw_page(query: Any = query) -> Any:
            with tenant_transaction(engine, tenant.tenant_id) as session:
                return session.execute(query).all()

        raw_ms, _ = time_calls(raw_page, runs=config.runs, warmup=config.warmup)
        plan = explain(engine, tenant, action_input)
        result.measurements[label] = Measurement(
            handler_p50_ms=round(percentile(handler_ms, 0.5), 2),
            handler_p95_ms=round(percentile(handler_ms, 0.95), 2),
            raw_p50_ms=round(percentile(raw_ms, 0.5), 2),
            raw_p95_ms=round(percentile(raw_ms, 0.95), 2),
            rows_returned=int(output["count"]),
            index_used=index_of(plan),
            quote_rows_read=quote_rows_read(plan),
            server_ms=server_time(plan),
            plan=plan,
        )
    return result


def run_benchmark(config: Config, *, out: Callable[[str], None] = print) -> Report:
    """Seed both scales and measure them; ``out`` receives the printed report."""
    from crm_core.db.engine import get_engine

    recreate_database(config.database_url)
    with benchmark_environment(config.database_url):
        engine = get_engine(config.database_url)
        seed_seconds: dict[str, float] = {}

        started = time.perf_counter()
        measured = seed_tenant(engine, clients=config.clients)
        bar = Progress(config.small_rows, "phase 1: measured tenant", enabled=config.progress, chunk=config.chunk)
        seed_quotes(engine, measured, config.small_rows, start=0, items=config.items, bar=bar)
        bar.close()
        vacuum_analyze(config.database_url)
        seed_seconds["small"] = round(time.perf_counter() - started, 1)
        small = measure_scale(
            "small", engine, measured, config, tenant_rows=config.small_rows, table_rows=config.small_rows, tenants=1
        )

        started = time.perf_counter()
        big_tenant_rows = max(config.small_rows, int(config.rows * config.measured_share))
        others = max(0, config.tenants - 1)
        rest = config.rows - big_tenant_rows
        bar = Progress(
            config.rows - config.small_rows, "phase 2: all tenants", enabled=config.progress, chunk=config.chunk
        )
        seed_quotes(
            engine, measured, big_tenant_rows - config.small_rows, start=config.small_rows, items=config.items, bar=bar
        )
        tenant_ids = [measured.tenant_id]
        for index in range(others):
            share = rest // others + (1 if index < rest % others else 0)
            tenant = seed_tenant(engine, clients=20)
            tenant_ids.append(tenant.tenant_id)
            seed_quotes(engine, tenant, share, start=0, items=0, bar=bar)
        bar.close()
        vacuum_analyze(config.database_url)
        seed_seconds["big"] = round(time.perf_counter() - started, 1)
        big = measure_scale(
            "big",
            engine,
            measured,
            config,
            tenant_rows=big_tenant_rows,
            table_rows=count_quotes(engine, tenant_ids),
            tenants=1 + others,
        )

    ratios = {
        label: round(big.measurements[label].handler_p50_ms / max(small.measurements[label].handler_p50_ms, 0.001), 2)
        for label in small.measurements
    }
    report = Report(
        config={k: v for k, v in asdict(config).items() if k != "database_url"},
        scales={"small": small, "big": big},
        ratios=ratios,
        plans_use_index=all(m.index_used for s in (small, big) for m in s.measurements.values()),
        within_limit=all(ratio <= RATIO_LIMIT for ratio in ratios.values()),
        seed_seconds=seed_seconds,
    )
    print_report(report, show_plans=config.show_plans, out=out)
    return report


def print_report(report: Report, *, show_plans: bool, out: Callable[[str], None]) -> None:
    small, big = report.scales["small"], report.scales["big"]
    out("")
    out(f"crm.find_quotes: one page (limit {LIMIT}), milliseconds")
    out(f"  small: measured tenant {small.tenant_rows:,} quotes, table {small.table_rows:,}, {small.tenants} tenant")
    out(f"  big:   measured tenant {big.tenant_rows:,} quotes, table {big.table_rows:,}, {big.tenants} tenants")
    out(f"  {report.config['runs']} timed runs per input after {report.config['warmup']} warm-up runs")
    out("  handler: the Lambda handler end to end; query: the page query in a tenant transaction, from Python;")
    out("  server: planning + execution time PostgreSQL reports (EXPLAIN ANALYZE); read: quote rows the plan read")
    out("")
    header = (
        f"{'input':<26}{'handler p50/p95 small':>24}{'handler p50/p95 big':>22}{'ratio':>8}"
        f"{'query p50 small/big':>22}{'server small/big':>18}{'read small/big':>16}  rows  index (big)"
    )
    out(header)
    out("-" * len(header))
    for label, s in small.measurements.items():
        b = big.measurements[label]
        out(
            f"{label:<26}{s.handler_p50_ms:>12.2f} / {s.handler_p95_ms:<8.2f}{b.handler_p50_ms:>10.2f} / "
            f"{b.handler_p95_ms:<8.2f}{report.ratios[label]:>7.2f}x{s.raw_p50_ms:>11.2f} / {b.raw_p50_ms:<8.2f}"
            f"{s.server_ms:>8.2f} / {b.server_ms:<7.2f}{s.quote_rows_read:>7} / {b.quote_rows_read:<6}"
            f"{b.rows_returned:>5}  {b.index_used or 'SEQ SCAN'}"
        )
    out("")
    if show_plans:
        for scale in (small, big):
            for label, m in scale.measurements.items():
                out(f"--- plan, {scale.name} scale, {label} ---")
                out(m.plan)
                out("")
    out(f"every plan reads quotes through an index: {'yes' if report.plans_use_index else 'NO'}")
    out(
        f"big-scale handler p50 within {RATIO_LIMIT:g}x of small-scale p50 for every input: "
        f"{'yes' if report.within_limit else 'NO'} (worst {max(report.ratios.values()):.2f}x)"
    )
    out(f"seeding took {report.seed_seconds['small']}s (small) and {report.seed_seconds['big']}s (big)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--database-url", default=None, help="default: BENCH_QUOTES_DATABASE_URL, else crm_bench_quotes"
    )
    parser.add_argument("--small-rows", type=int, default=Config.small_rows)
    parser.add_argument("--rows", type=int, default=Config.rows, help="quotes in all at the big scale")
    parser.add_argument("--tenants", type=int, default=Config.tenants)
    parser.add_argument("--measured-share", type=float, default=Config.measured_share)
    parser.add_argument("--runs", type=int, default=Config.runs)
    parser.add_argument("--warmup", type=int, default=Config.warmup)
    parser.add_argument("--depth", type=int, default=Config.depth, help="quotes before the deep cursor pages")
    parser.add_argument("--chunk", type=int, default=Config.chunk, help="quotes per INSERT ... SELECT transaction")
    parser.add_argument("--items", type=int, default=Config.items, help="items per quote of the measured tenant")
    parser.add_argument("--no-plans", action="store_true", help="do not print the query plans")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.rows < args.small_rows:
        parser.error("--rows must be at least --small-rows")
    config = Config(
        database_url=args.database_url or default_database_url(),
        small_rows=args.small_rows,
        rows=args.rows,
        tenants=args.tenants,
        measured_share=args.measured_share,
        runs=args.runs,
        warmup=args.warmup,
        depth=args.depth,
        chunk=args.chunk,
        items=args.items,
        show_plans=not args.no_plans,
    )
    report = run_benchmark(config)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
