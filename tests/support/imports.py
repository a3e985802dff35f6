"""What a fresh interpreter loads: for tests that keep heavy modules out of a function's cold start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def assert_not_loaded(statement: str, *modules: str) -> None:
    """Run ``statement`` in a fresh interpreter with only the layer on the path (no database or idempotency
    table configured, tracing off) and check that none of ``modules`` was imported."""
    check = "; ".join(f"assert {name!r} not in sys.modules, {name!r} + ' loaded'" for name in modules)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DB_SECRET_ARN", "IDEMPOTENCY_TABLE")}
    env["PYTHONPATH"] = str(REPO / "layers" / "crm_core")
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    result = subprocess.run(
        [sys.executable, "-c", f"import sys\n{statement}\n{check}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
