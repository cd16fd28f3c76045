"""``Database.driver_value``: compiled SQL straight to asyncpg, surviving a dead connection."""

from __future__ import annotations

import asyncio
import uuid

import psycopg2
from flowgen_runtime.core.db import Database


def _async_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def test_driver_value_runs_compiled_sql_with_parameters(postgres_url: str) -> None:
    async def main() -> object:
        db = Database(_async_url(postgres_url))
        try:
            return await db.driver_value("SELECT $1::int + $2::int", 40, 2)
        finally:
            await db.dispose()

    assert asyncio.run(main()) == 42


def test_driver_value_retries_once_on_a_connection_the_server_killed(postgres_url: str) -> None:
    """The pooled connection's backend is terminated between two reads (PostgreSQL
    restarted, a proxy dropped it...): the second read still answers, on a new connection
    (the pool notices the closed connection, or the read is run again)."""
    admin = psycopg2.connect(postgres_url.replace("+asyncpg", ""))
    admin.autocommit = True

    async def main() -> tuple[int, int, int]:
        db = Database(_async_url(postgres_url))
        try:
            before = await db.driver_value("SELECT pg_backend_pid()")
            with admin.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", (before,))
            await asyncio.sleep(0.2)  # the backend is gone; the pool still holds its socket
            after = await db.driver_value("SELECT pg_backend_pid()")
            again = await db.driver_value("SELECT 7")
            return before, after, again
        finally:
            await db.dispose()

    try:
        before, after, again = asyncio.run(main())
    finally:
        admin.close()
    assert after != before and again == 7


def test_driver_value_reruns_a_read_whose_connection_died_under_it(postgres_url: str) -> None:
    """The backend is terminated while the statement runs: the read runs once more on a
    new connection and answers (reads are safe to repeat)."""
    marker = f"fg{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_url.replace("+asyncpg", ""))
    admin.autocommit = True

    def kill() -> int:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE %s AND pid <> pg_backend_pid()",
                (f"%{marker}%",),
            )
            return int(cur.fetchone()[0])

    async def main() -> tuple[str, int]:
        db = Database(_async_url(postgres_url))
        try:
            read = asyncio.create_task(db.driver_value(f"SELECT pg_sleep(0.6)::text || '{marker}'"))
            await asyncio.sleep(0.3)
            killed = await asyncio.to_thread(kill)
            return await read, killed
        finally:
            await db.dispose()

    try:
        value, killed = asyncio.run(main())
    finally:
        admin.close()
    assert killed == 1 and value.endswith(marker)


def test_driver_value_does_not_retry_a_bad_statement(postgres_url: str) -> None:
    async def main() -> str:
        db = Database(_async_url(postgres_url))
        try:
            await db.driver_value("SELECT no_such_column")
        except Exception as exc:  # noqa: BLE001 - the driver's own error comes through
            return type(exc).__name__
        finally:
            await db.dispose()
        return "no error"

    assert asyncio.run(main()) == "UndefinedColumnError"
