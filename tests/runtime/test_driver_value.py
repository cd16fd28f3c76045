"""``Database.driver_value``: compiled SQL straight to asyncpg, surviving a dead connection."""

from __future__ import annotations

import asyncio

import psycopg2
from flowgen_runtime.db import Database


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
    restarted, a proxy dropped it...): the second read still answers, on a new connection."""
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
