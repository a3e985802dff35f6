"""Apply the Alembic migrations programmatically (``crm-actions db upgrade``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations and, when given, at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` (default: the schema owner's, ``MIGRATION_DATABASE_URL`` or
    ``DATABASE_URL``) to ``revision``. Idempotent."""
    from crm_core.db.roles import migration_database_url

    command.upgrade(alembic_config(url or migration_database_url()), revision)


def revision_module(file_name: str) -> ModuleType:
    """The module of the migration ``versions/<file_name>``, for a revision that builds on an earlier one's SQL
    (a revision's file name is not an importable module name)."""
    spec = importlib.util.spec_from_file_location(
        f"_crm_revision_{file_name.partition('_')[0]}", MIGRATIONS_DIR / "versions" / file_name
    )
    if spec is None or spec.loader is None:
        raise RuntimeError(f"no migration file versions/{file_name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
