"""The Core tables the actions query (crm_core.db.models) and the schema the hand-written migrations build agree:
alembic's comparison of the migrated database with ``metadata`` finds nothing to change."""

from __future__ import annotations

import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from crm_core.db.base import metadata
from crm_core.db.models import load_all

load_all()  # every table registered on ``metadata``


def differences(owner_engine: Engine) -> list[Any]:
    with owner_engine.connect() as connection, warnings.catch_warnings():
        # Expression indexes (the "interaction_date DESC" keyset orders) cannot be compared by reflection; alembic
        # says so in a warning and skips them. Their names are still checked below.
        warnings.simplefilter("ignore")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_the_migrated_schema_has_every_table_column_and_index_of_the_models(owner_engine: Engine) -> None:
    assert differences(owner_engine) == []


def test_every_index_of_the_models_exists_by_name(owner_engine: Engine) -> None:
    from sqlalchemy import text

    with owner_engine.connect() as connection:
        existing = set(
            connection.execute(text("select indexname from pg_indexes where schemaname = current_schema()")).scalars()
        )
    declared = {index.name for table in metadata.tables.values() for index in table.indexes}
    assert declared - existing == set()
