"""The spec's constraints live in the database too: another writer using plain SQL cannot
break them (patterns, lengths, ranges, enums, required fields, uniqueness), on PostgreSQL
and on SQLite."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from flowgen_runtime.migrate import run as migrate

from generated.registry import REGISTRY

GOOD = "INSERT INTO courses (slug, title, price, published) VALUES ('good-slug', 'A title', 1, {false})"
BAD = {
    "pattern": "INSERT INTO courses (slug, title, price, published) VALUES ('Bad Slug', 'A title', 1, {false})",
    "min length": "INSERT INTO courses (slug, title, price, published) VALUES ('s2', 'ab', 1, {false})",
    "max length": "INSERT INTO courses (slug, title, price, published) VALUES ('s5', '"
    + "x" * 201
    + "', 1, {false})",
    "range": "INSERT INTO courses (slug, title, price, published) VALUES ('s3', 'A title', -5, {false})",
    "not null": "INSERT INTO courses (slug, price, published) VALUES ('s4', 1, {false})",
    "unique": GOOD,
    "enum": "INSERT INTO users (email, name, role) VALUES ('a@b.c', 'N', 'wizard')",
    "email pattern": "INSERT INTO users (email, name, role) VALUES ('not-an-email', 'N', 'student')",
}


@pytest.fixture
def pg(generated_pg: str) -> Iterator[object]:
    conn = psycopg2.connect(generated_pg)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DELETE FROM courses WHERE slug = 'good-slug'")
    yield conn
    conn.close()


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = tmp_path / "app.db"
    migrate(REGISTRY, "upgrade", url=f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    # what SQLAlchemy's SQLite drivers register on every connection (any writer needs it)
    conn.create_function("regexp", 2, lambda p, v: v is not None and re.search(p, v) is not None)
    yield conn
    conn.close()


@pytest.mark.parametrize("what", list(BAD))
def test_postgresql_refuses_rows_breaking_the_spec(pg: object, what: str) -> None:
    with pg.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute(GOOD.format(false="false"))
        with pytest.raises(psycopg2.Error):
            cur.execute(BAD[what].format(false="false"))


@pytest.mark.parametrize("what", list(BAD))
def test_sqlite_refuses_rows_breaking_the_spec(lite: sqlite3.Connection, what: str) -> None:
    lite.execute(GOOD.format(false="0"))
    with pytest.raises(sqlite3.IntegrityError):
        lite.execute(BAD[what].format(false="0"))
