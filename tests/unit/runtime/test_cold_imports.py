"""What a function's init imports: the actions run on SQLAlchemy Core, so no function loads the ORM (its import
and the mapping of 32 tables were most of a cold start's own cost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import assert_not_loaded

REPO = Path(__file__).resolve().parents[3]
FUNCTIONS = sorted(p.name for p in (REPO / "functions").iterdir() if (p / "app.py").exists())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_functions_init_does_not_load_the_orm(function: str) -> None:
    app = REPO / "functions" / function / "app.py"
    assert_not_loaded(f"exec(compile(open({str(app)!r}).read(), 'app.py', 'exec'))", "sqlalchemy.orm")


def test_the_registry_and_the_tables_do_not_load_the_orm() -> None:
    assert_not_loaded(
        "import crm_core.db.models\nfrom crm_core.runtime.registry import all_specs\nall_specs()", "sqlalchemy.orm"
    )
