"""Apply the Alembic migrations programmatically (``crm-actions db upgrade``)."""

from __future__ import annotations

from pathlib import Path

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
