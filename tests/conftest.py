"""Shared fixtures: a real database for every test that needs one.

``database`` is parametrised over SQLite and, when ``WANGGE_TEST_PG_URL`` is set (CI sets it), a real
PostgreSQL server; each test gets its own PostgreSQL schema so parallel runs never see each other's rows.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from wangge.core.store import Database, open_database

PG_URL = os.environ.get("WANGGE_TEST_PG_URL", "")
needs_pg = pytest.mark.skipif(not PG_URL, reason="WANGGE_TEST_PG_URL is not set (PostgreSQL tests skipped)")


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def _admin_engine():  # type: ignore[no-untyped-def]
    url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not PG_URL:
        pytest.skip("WANGGE_TEST_PG_URL is not set (PostgreSQL tests skipped)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wangge.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_pg)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database: SQLite always, PostgreSQL too when WANGGE_TEST_PG_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wangge.sqlite'}"
        db = open_database(url)
        yield db
        db.dispose()
    else:
        url = request.getfixturevalue("pg_url")
        db = open_database(url)
        yield db
        db.dispose()
