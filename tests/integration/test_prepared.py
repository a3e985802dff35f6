"""crm_core.db.prepared: statements built once, run on pg8000 inside the SQLAlchemy transaction, errors as
SQLAlchemy raises them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    create_engine,
    exc,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.pool import NullPool

from crm_core.db.prepared import Prepared, insert_of, update_of
from crm_dev.sql_count import count_statements

scratch = MetaData()
Scratch = Table(
    "prepared_scratch",
    scratch,
    Column("id", Integer, primary_key=True),
    Column("label", Text, nullable=False, unique=True),
    Column("flag", Boolean, server_default=text("false"), nullable=False),
)


@pytest.fixture
def connection(owner_engine: Engine):
    """A connection of the schema owner with a temporary table of its own (dropped with the session)."""
    with owner_engine.connect() as connection:
        connection.exec_driver_sql(
            "create temporary table if not exists prepared_scratch"
            " (id int primary key, label text not null unique, flag boolean not null default false)"
        )
        connection.exec_driver_sql("truncate prepared_scratch")
        connection.commit()
        yield connection
        connection.rollback()
        connection.exec_driver_sql("drop table if exists prepared_scratch")
        connection.commit()


def test_rows_are_named_tuples_with_the_types_bind_and_result_processors_give(connection) -> None:
    statement = Prepared(
        select(
            bindparam("number", type_=Integer).label("number"),
            bindparam("document", type_=JSONB).label("document"),
            bindparam("words", type_=ARRAY(Text)).label("words"),
            bindparam("yes", type_=Boolean).label("yes"),
        )
    )
    row = statement.one(connection, number=41, document={"a": [1, "b"]}, words=["x", "y"], yes=1)
    assert row.number == 41 and row[0] == 41
    assert row.document == {"a": [1, "b"]}
    assert row.words == ["x", "y"]
    assert row.yes is True  # Boolean's bind processor turned 1 into true
    assert row._asdict() == {"number": 41, "document": {"a": [1, "b"]}, "words": ["x", "y"], "yes": True}


def test_a_statement_is_one_message_and_literal_values_keep_their_defaults(connection) -> None:
    statement = Prepared(select(literal(7).label("seven"), bindparam("x", type_=Text).label("x")))
    statement.one(connection, x="warm")
    with count_statements() as log:
        assert tuple(statement.one(connection, x="a")) == (7, "a")
    assert log.statements == 1


def test_first_scalar_and_all_and_one(connection) -> None:
    rows = Prepared(text("select * from (values (1), (2)) v(n) where n >= :low order by n"))
    assert [r.n for r in rows.all(connection, low=1)] == [1, 2]
    assert rows.first(connection, low=2).n == 2
    assert rows.first(connection, low=3) is None
    assert rows.scalar(connection, low=2) == 2
    assert rows.scalar(connection, low=3) is None
    with pytest.raises(exc.MultipleResultsFound):
        rows.one(connection, low=1)
    with pytest.raises(exc.NoResultFound):
        rows.one(connection, low=3)


def test_it_runs_inside_the_connections_transaction_and_begins_one_when_none_is_open(connection) -> None:
    assert not connection.in_transaction()
    insert_of(Scratch, ("id", "label")).all(connection, id=1, label="one")
    assert connection.in_transaction()
    connection.rollback()  # the row goes with the transaction: it was not sent in autocommit
    assert connection.execute(text("select count(*) from prepared_scratch")).scalar_one() == 0

    insert_of(Scratch, ("id", "label")).all(connection, id=1, label="one")
    update_of(Scratch, ("id",), ("label", "flag")).all(connection, key_id=1, label="uno", flag=True)
    connection.commit()
    rows = connection.execute(text("select id, label, flag from prepared_scratch")).all()
    assert [tuple(r) for r in rows] == [(1, "uno", True)]


def test_a_database_error_is_the_sqlalchemy_exception_and_the_connection_stays_usable(connection) -> None:
    add = insert_of(Scratch, ("id", "label"))
    add.all(connection, id=1, label="same")
    with pytest.raises(exc.DatabaseError) as raised:  # what SQLAlchemy raises for pg8000's DatabaseError
        add.all(connection, id=2, label="same")
    assert raised.value.orig.args[0]["C"] == "23505"  # unique_violation
    assert "prepared_scratch" in raised.value.statement
    assert not connection.invalidated
    connection.rollback()
    assert Prepared("select 1 as one").scalar(connection) == 1


def test_a_dead_connection_is_invalidated_and_reported_as_such(owner_engine: Engine, migration_url: str) -> None:
    with owner_engine.connect() as connection:
        pid = Prepared("select pg_backend_pid() as pid").scalar(connection)
        killer = create_engine(migration_url, poolclass=NullPool)
        with killer.connect() as other:
            other.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        # pg8000 raises its InterfaceError, or the socket's error as it is, as under SQLAlchemy's execute
        with pytest.raises((exc.DBAPIError, ConnectionError)) as raised:
            Prepared("select 1 as one").scalar(connection)
        if isinstance(raised.value, exc.DBAPIError):
            assert raised.value.connection_invalidated
        assert connection.invalidated


def test_a_missing_value_is_refused_before_anything_is_sent(connection) -> None:
    statement = Prepared(select(bindparam("needed", type_=Integer).label("n")))
    with count_statements() as log, pytest.raises(exc.ArgumentError, match="needed"):
        statement.one(connection)
    assert log.statements == 0


def test_statements_whose_sql_depends_on_the_values_are_refused(connection) -> None:
    expanding = Prepared(select(Scratch.c.id).where(Scratch.c.label.in_(bindparam("labels", expanding=True))))
    with pytest.raises(TypeError, match="expanding"):
        expanding.all(connection, labels=["a"])

    defaults = MetaData()
    python_default = Table("t", defaults, Column("id", Integer, primary_key=True), Column("v", Text, default="x"))
    with pytest.raises(TypeError, match="Python-side column defaults"):
        Prepared(insert(python_default).values(id=bindparam("id"))).compile_for(connection.dialect)


def test_rows_of_a_tenant_table_under_row_level_security(engine: Engine, tenant) -> None:
    from crm_core.dal.calls import open_call
    from crm_core.dal.records import client_query, get_record

    with engine.connect() as connection:
        open_call(connection, tenant.id, tenant.actor, None)
        found = get_record(connection, client_query, lambda *values: values, tenant.id, tenant.client)
        missing = get_record(connection, client_query, lambda *values: values, tenant.id, uuid.uuid4())
        connection.rollback()
    assert found is not None and found[0] == tenant.client
    assert missing is None


def test_insert_rows_sends_any_number_of_rows_as_one_statement_in_order(connection) -> None:
    from crm_core.db.prepared import insert_rows

    rows = [{"id": n, "label": f"row {n}", "flag": n % 2 == 0} for n in (3, 1, 2)]
    with count_statements() as log:
        insert_rows(connection, Scratch, rows)
        insert_rows(connection, Scratch, [])  # nothing to send
    assert (log.statements, log.transactions) == (1, 1)  # the one INSERT, in the transaction it began
    stored = connection.execute(text("select id, label, flag from prepared_scratch order by ctid")).all()
    assert [tuple(r) for r in stored] == [(3, "row 3", False), (1, "row 1", False), (2, "row 2", True)]

    with pytest.raises(ValueError, match="same columns"):
        insert_rows(connection, Scratch, [{"id": 4, "label": "a"}, {"id": 5, "flag": True}])


def test_row_writes_kept_for_the_closing_statement_go_as_one_prepared_statement(connection) -> None:
    from crm_core.dal.calls import close_call
    from crm_core.dal.writes import DeferredWrites, RowWrite, insert_row, update_row

    insert_row(connection, Scratch, {"id": 1, "label": "first"})
    connection.commit()
    writes = DeferredWrites()
    insert_row(writes, Scratch, {"id": 2, "label": "second", "flag": True})
    update_row(writes, Scratch, {"id": 1}, {"label": "first, renamed"})
    assert all(isinstance(write, RowWrite) for write in writes.statements)
    with count_statements() as log:
        close_call(connection, writes=writes)
    assert (log.statements, log.transactions) == (1, 1)  # the closing statement alone
    assert log.texts[-1].startswith("WITH write_0 AS")
    connection.commit()
    stored = connection.execute(text("select id, label, flag from prepared_scratch order by id")).all()
    assert [tuple(r) for r in stored] == [(1, "first, renamed", False), (2, "second", True)]


def test_a_core_statement_among_the_kept_writes_still_closes_in_one_statement(connection) -> None:
    from sqlalchemy import delete

    from crm_core.dal.calls import close_call
    from crm_core.dal.writes import DeferredWrites, insert_row

    insert_row(connection, Scratch, {"id": 1, "label": "old"})
    connection.commit()
    writes = DeferredWrites()
    writes.execute(delete(Scratch).where(Scratch.c.id == 1))
    insert_row(writes, Scratch, {"id": 2, "label": "new"})
    with count_statements() as log:
        close_call(connection, writes=writes)
    assert log.statements == 1
    connection.commit()
    assert [tuple(r) for r in connection.execute(text("select id, label from prepared_scratch")).all()] == [(2, "new")]


def test_a_statement_refuses_a_driver_other_than_pg8000() -> None:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    with pytest.raises(TypeError, match="pg8000"):
        Prepared("select 1 as one").compile_for(PGDialect_psycopg())
