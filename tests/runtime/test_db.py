"""Database: engines, sessions, SQLite pragmas and integrity-error helpers on real databases."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flowgen_runtime.core.db import (
    NAMING_CONVENTION,
    RECYCLE_S,
    Database,
    _refuse_closed_connection,
    database_from_settings,
    is_check_violation,
    is_fk_violation,
    is_not_null_violation,
    is_unique_violation,
    violated_constraint,
)
from flowgen_runtime.core.settings import Settings
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

CLASSIFIERS = {
    "unique": is_unique_violation,
    "fk": is_fk_violation,
    "check": is_check_violation,
    "not_null": is_not_null_violation,
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A Database on the embedded SQLite file, or on the test PostgreSQL."""
    if request.param == "sqlite":
        settings = Settings(data_dir=str(tmp_path / "data"), database_url=None)
    else:
        settings = Settings(database_url=request.getfixturevalue("postgres_url"))
    database = database_from_settings(settings)
    yield database
    await database.dispose()


@dataclass
class Schema:
    prefix: str
    users: Table
    posts: Table


@pytest.fixture
async def schema(db: Database, unique_name: str) -> AsyncIterator[Schema]:
    """Two tables with every kind of constraint, named by NAMING_CONVENTION; dropped after."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    users = Table(
        f"{unique_name}_users",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("email", String(100), nullable=False, unique=True),
        Column("age", Integer, CheckConstraint("age >= 0", name="age_positive")),
    )
    posts = Table(
        f"{unique_name}_posts",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("user_id", ForeignKey(users.c.id), nullable=False),
    )
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(insert(users).values(id=1, email="a@example.com", age=30))
        await conn.execute(insert(posts).values(id=1, user_id=1))
    yield Schema(unique_name, users, posts)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)


def test_naming_convention_is_the_standard_one() -> None:
    assert NAMING_CONVENTION == {
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }


async def test_ping(db: Database) -> None:
    assert await db.ping() is True


async def test_ping_is_false_when_the_server_is_unreachable() -> None:
    database = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    assert await database.ping(timeout=2) is False
    await database.dispose()


def test_engine_configuration(db: Database) -> None:
    assert db.sessionmaker.kw["expire_on_commit"] is False
    assert db.read_engine is db.engine and db.read_sessionmaker is db.sessionmaker
    if not db.is_sqlite:
        assert db.engine.pool.size() == 10  # type: ignore[attr-defined]
    # no ping per checkout (a BEGIN/ROLLBACK round trip on asyncpg): recycling, and reads
    # retried on a dead connection instead (test_a_read_survives_a_dropped_connection)
    assert db.engine.pool._pre_ping is False  # type: ignore[attr-defined]
    assert db.engine.pool._recycle == RECYCLE_S  # type: ignore[attr-defined]


async def _drop_connection(db: Database, pooled: Any) -> None:
    """Close ``pooled`` (a connection idle in ``db``'s pool) from the server side."""
    if db.is_sqlite:  # SQLite has no server: close the driver's connection under the pool
        await pooled.close()
        return
    killer = Database(db.url)
    try:
        async with killer.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")  # fresh stats
            killed = await conn.scalar(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE pid = :pid AND datname = current_database()"
                ),
                {"pid": pooled},
            )
            assert killed is True
            gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
            for _ in range(500):  # the backend exits, closing its socket
                if await conn.scalar(gone, {"pid": pooled}):
                    break
                await asyncio.sleep(0.01)
    finally:
        await killer.dispose()
    await asyncio.sleep(0.05)  # this loop reads the end of the pooled connection's socket


async def test_a_read_survives_a_dropped_connection(db: Database, schema: Schema) -> None:
    """Without pre-ping, the first statement on a connection found dead fails; the read is
    run again on a new connection, and the pool drops the dead one.

    On PostgreSQL the pool's checkout hook already refuses a connection whose socket the
    server closed (next test); it is removed here to stand for a connection lost without
    a sign (a network partition), which only its first statement finds."""
    if not db.is_sqlite:
        event.remove(db.engine.sync_engine.pool, "checkout", _refuse_closed_connection)
    disconnects: list[bool] = []
    event.listen(
        db.engine.sync_engine,
        "handle_error",
        lambda ctx: disconnects.append(ctx.is_disconnect),
    )
    query = select(schema.users.c.email).where(schema.users.c.id == 1)
    async with db.read() as reader:
        assert await reader.scalar(query) == "a@example.com"
        conn = await reader._connection()
        if db.is_sqlite:
            pooled = (await conn.get_raw_connection()).driver_connection
        else:
            pooled = await conn.scalar(text("SELECT pg_backend_pid()"))
    await _drop_connection(db, pooled)  # the connection is idle in the pool now

    async with db.read() as reader:
        assert (await reader.execute(query)).scalar() == "a@example.com"
        if not db.is_sqlite:
            assert await reader.scalar(text("SELECT pg_backend_pid()")) != pooled
    assert disconnects == [True]  # it did meet the dead connection, and retried once

    async with db.read() as reader:  # the pool is healthy again: no more failures
        assert await reader.scalar(query) == "a@example.com"
    assert disconnects == [True]


@pytest.mark.parametrize(
    "db", [pytest.param("postgresql", marks=pytest.mark.services)], indirect=True
)
async def test_a_session_gets_a_new_connection_after_the_server_closed_the_pooled_one(
    db: Database, schema: Schema
) -> None:
    """A restart or ``pg_terminate_backend`` closes idle pooled connections: the pool
    hands out none of them, so a write right after it neither fails nor retries."""
    disconnects: list[bool] = []
    event.listen(db.engine.sync_engine, "handle_error", lambda ctx: disconnects.append(True))
    async with db.session() as session:
        pooled = await session.scalar(text("SELECT pg_backend_pid()"))
    await _drop_connection(db, pooled)  # the connection is idle in the pool now

    async with db.session() as session:
        await session.execute(insert(schema.users).values(id=2, email="b@example.com"))
        assert await session.scalar(text("SELECT pg_backend_pid()")) != pooled
        await session.commit()
    async with db.read() as reader:
        assert await reader.scalar(select(schema.users.c.email).where(schema.users.c.id == 2))
    assert disconnects == []


async def test_a_read_error_that_is_not_a_disconnect_is_not_retried(db: Database) -> None:
    attempts: list[bool] = []
    event.listen(db.engine.sync_engine, "handle_error", lambda ctx: attempts.append(True))
    with pytest.raises(DBAPIError):
        async with db.read() as reader:
            await reader.execute(text("SELECT * FROM no_such_table_anywhere"))
    assert attempts == [True]


async def test_session_commits_only_when_asked(db: Database, schema: Schema) -> None:
    async with db.session() as session:
        await session.execute(insert(schema.users).values(id=2, email="b@example.com"))
    async with db.session() as session:
        await session.execute(insert(schema.users).values(id=3, email="c@example.com"))
        await session.commit()
    async with db.read_session() as session:
        ids = (await session.execute(select(schema.users.c.id).order_by("id"))).scalars()
        assert list(ids) == [1, 3]


def _duplicate_email(s: Schema) -> Insert:
    return insert(s.users).values(id=2, email="a@example.com")


def _duplicate_id(s: Schema) -> Insert:
    return insert(s.users).values(id=1, email="other@example.com")


def _missing_user(s: Schema) -> Insert:
    return insert(s.posts).values(id=2, user_id=999)


def _negative_age(s: Schema) -> Insert:
    return insert(s.users).values(id=2, email="b@example.com", age=-1)


def _null_email(s: Schema) -> Insert:
    return insert(s.users).values(id=2, email=None)


# (statement, kind, constraint on PostgreSQL, constraint on SQLite); "{p}" is the table prefix.
VIOLATIONS: list[tuple[Callable[[Schema], Insert], str, str, str | None]] = [
    (_duplicate_email, "unique", "uq_{p}_users_email", "{p}_users.email"),
    (_duplicate_id, "unique", "pk_{p}_users", "{p}_users.id"),
    (_missing_user, "fk", "fk_{p}_posts_user_id_{p}_users", None),
    (_negative_age, "check", "ck_{p}_users_age_positive", "ck_{p}_users_age_positive"),
    (_null_email, "not_null", "{p}_users.email", "{p}_users.email"),
]


@pytest.mark.parametrize(
    ("statement", "kind", "pg_constraint", "sqlite_constraint"),
    VIOLATIONS,
    ids=[case[0].__name__.lstrip("_") for case in VIOLATIONS],
)
async def test_integrity_errors_are_classified(
    db: Database,
    schema: Schema,
    statement: Callable[[Schema], Insert],
    kind: str,
    pg_constraint: str,
    sqlite_constraint: str | None,
) -> None:
    with pytest.raises(IntegrityError) as info:
        async with db.session() as session:
            await session.execute(statement(schema))
            await session.commit()
    _assert_violation(info.value, kind)
    expected = pg_constraint if not db.is_sqlite else sqlite_constraint
    assert violated_constraint(info.value) == _named(expected, schema)


async def test_deleting_a_referenced_row_is_a_fk_violation(db: Database, schema: Schema) -> None:
    with pytest.raises(IntegrityError) as info:
        async with db.session() as session:
            await session.execute(delete(schema.users).where(schema.users.c.id == 1))
            await session.commit()
    _assert_violation(info.value, "fk")


async def test_savepoint_recovers_from_a_violation(db: Database, schema: Schema) -> None:
    async with db.session() as session:
        await session.execute(select(schema.users))
        with pytest.raises(IntegrityError) as info:
            async with session.begin_nested():
                await session.execute(_duplicate_email(schema))
        assert is_unique_violation(info.value)
        await session.execute(insert(schema.users).values(id=5, email="e@example.com"))
        await session.commit()
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(schema.users))
    assert count == 2


@pytest.mark.services
def test_psycopg2_errors_are_classified_too(postgres_url: str, unique_name: str) -> None:
    # The synchronous driver used by Alembic reports errors differently.
    engine = create_engine(Settings(database_url=postgres_url).sync_database_url())
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    table = Table(unique_name, metadata, Column("code", String(10), unique=True))
    metadata.create_all(engine)
    try:
        with pytest.raises(IntegrityError) as info, engine.begin() as conn:
            conn.execute(insert(table), [{"code": "x"}, {"code": "x"}])
        _assert_violation(info.value, "unique")
        assert violated_constraint(info.value) == f"uq_{unique_name}_code"
    finally:
        metadata.drop_all(engine)
        engine.dispose()


async def test_sqlite_pragmas_apply_to_every_connection(tmp_path: Path) -> None:
    database = Database(Settings(data_dir=str(tmp_path)).async_database_url())
    async with database.engine.connect() as first, database.engine.connect() as second:
        for conn in (first, second):
            assert await _pragma(conn, "foreign_keys") == 1
            assert await _pragma(conn, "journal_mode") == "wal"
            assert await _pragma(conn, "busy_timeout") == 5000
    await database.dispose()


async def test_sqlite_file_is_shared_with_another_process(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), database_url=None)
    database = database_from_settings(settings)
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT)"))
        await conn.execute(text("INSERT INTO jobs VALUES (1, 'queued')"))
    code = (
        "import asyncio\n"
        "from sqlalchemy import text\n"
        "from flowgen_runtime.core.db import Database\n"
        "async def main():\n"
        f"    db = Database({settings.async_database_url()!r})\n"
        "    async with db.session() as s:\n"
        "        await s.execute(text(\"UPDATE jobs SET state = 'done' WHERE id = 1\"))\n"
        "        await s.commit()\n"
        "    await db.dispose()\n"
        "asyncio.run(main())\n"
    )
    # Hold a read connection open meanwhile: WAL lets the other process write anyway.
    async with database.engine.connect() as reader:
        await reader.execute(text("SELECT * FROM jobs"))
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", code], env=subprocess_env, timeout=60
        )
        assert result.returncode == 0
    async with database.session() as session:
        assert await session.scalar(text("SELECT state FROM jobs WHERE id = 1")) == "done"
    await database.dispose()


async def test_read_replica_gets_its_own_engine(tmp_path: Path) -> None:
    url = Settings(data_dir=str(tmp_path)).async_database_url()
    database = Database(url, replica_url=url)
    assert database.read_engine is not database.engine
    async with database.session() as session:
        await session.execute(text("CREATE TABLE t (x INTEGER)"))
        await session.execute(text("INSERT INTO t VALUES (7)"))
        await session.commit()
    async with database.read_session() as session:
        assert await session.scalar(text("SELECT x FROM t")) == 7
    await database.dispose()


def test_database_from_settings_and_repr_hides_password() -> None:
    settings = Settings(database_url="postgresql://app:s3cret@db.internal/app")
    database = database_from_settings(settings)
    assert database.url == "postgresql+asyncpg://app:s3cret@db.internal/app"
    assert "s3cret" not in repr(database)
    assert not database.is_sqlite


def _assert_violation(exc: IntegrityError, kind: str) -> None:
    verdicts = {name: check(exc) for name, check in CLASSIFIERS.items()}
    assert verdicts == {name: name == kind for name in CLASSIFIERS}, exc


def _named(template: str | None, schema: Schema) -> str | None:
    return None if template is None else template.format(p=schema.prefix)


async def _pragma(conn: Any, name: str) -> Any:
    return (await conn.execute(text(f"PRAGMA {name}"))).scalar()
