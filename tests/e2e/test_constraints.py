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
    _regexp(conn)
    yield conn
    conn.close()


def _regexp(conn: sqlite3.Connection) -> None:
    conn.create_function("regexp", 2, lambda p, v: v is not None and re.search(p, v) is not None)


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


def test_sqlite_never_reuses_ids_also_after_migrating_an_existing_table(tmp_path: Path) -> None:
    """Revision 0005 rebuilds the integer-keyed tables with AUTOINCREMENT: their rows and
    ids are kept, and the id of a row deleted afterwards is never handed out again."""
    path = tmp_path / "app.db"
    migrate(REGISTRY, "upgrade", "0004_95d99749ce", url=f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    _regexp(conn)
    insert = "INSERT INTO users (email, name, role) VALUES (?, 'N', 'student')"
    try:
        conn.execute(insert, ("a@x.io",))
        conn.execute(insert, ("b@x.io",))
        conn.close()
        migrate(REGISTRY, "upgrade", url=f"sqlite:///{path}")
        conn = sqlite3.connect(path, isolation_level=None)
        _regexp(conn)
        rows = conn.execute("SELECT id, email FROM users ORDER BY id").fetchall()
        assert rows == [(1, "a@x.io"), (2, "b@x.io")]
        conn.execute("DELETE FROM users WHERE id = 2")
        assert conn.execute(insert, ("c@x.io",)).lastrowid == 3
        conn.close()
        migrate(REGISTRY, "downgrade", "0004_95d99749ce", url=f"sqlite:///{path}")  # reversible
        conn = sqlite3.connect(path, isolation_level=None)
        table = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]
        assert "AUTOINCREMENT" not in table and "ck_users_name_max_length" in table
        assert [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id")] == [1, 3]
    finally:
        conn.close()
