"""The schema: migrations build exactly the declared tables, and every key and index leads with tenant."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from wangge.core.store import open_database
from wangge.core.store.tables import metadata


def test_migrations_match_the_declared_tables(database):
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_migrating_twice_changes_nothing(database):
    again = open_database(database.url)
    assert sorted(inspect(again.engine).get_table_names()) == sorted([*metadata.tables, "alembic_version"])
    again.dispose()


def test_every_key_and_index_leads_with_tenant(database):
    inspector = inspect(database.engine)
    for table in metadata.tables:
        assert inspector.get_pk_constraint(table)["constrained_columns"][0] == "tenant", table
        for index in inspector.get_indexes(table):
            assert index["column_names"][0] == "tenant", (table, index["name"])
