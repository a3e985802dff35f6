"""Alembic environment: migrates the database at DATABASE_URL (or the URL the caller configured)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from crm_core.db.base import metadata
from crm_core.db.engine import database_url, get_engine
from crm_core.db.models import load_all

load_all()  # every table registered on ``metadata``

config = context.config
target_metadata = metadata
# Two upgrades at once (parallel deploys, parallel test workers) take turns on this lock instead of racing to
# create the same objects; the second then finds the database at head and does nothing.
MIGRATION_LOCK_KEY = 7_411_903_205


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or database_url()
    with get_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
