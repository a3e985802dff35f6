"""What a function's init imports: the actions run on SQLAlchemy Core, so no function loads the ORM (its import
and the mapping of 32 tables were most of a cold start's own cost)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FUNCTIONS = sorted(p.name for p in (REPO / "functions").iterdir() if (p / "app.py").exists())


def modules_after(statement: str, *absent: str) -> None:
    """Run ``statement`` in a fresh interpreter (no database configured) and check none of ``absent`` loaded."""
    check = "; ".join(f"assert {name!r} not in sys.modules, {name!r} + ' loaded'" for name in absent)
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


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_functions_init_does_not_load_the_orm(function: str) -> None:
    app = REPO / "functions" / function / "app.py"
    modules_after(f"exec(compile(open({str(app)!r}).read(), 'app.py', 'exec'))", "sqlalchemy.orm")


def test_the_registry_and_the_tables_do_not_load_the_orm() -> None:
    modules_after(
        "import crm_core.db.models\nfrom crm_core.runtime.registry import all_specs\nall_specs()", "sqlalchemy.orm"
    )
