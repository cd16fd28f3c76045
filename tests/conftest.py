"""Fixtures shared by every test folder: real PostgreSQL and Redis, or skip.

A service that cannot be reached skips the tests needing it, except under
``CI=true``, where it fails them: CI must never go green by skipping.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def service_unavailable(service: str, url: str, reason: object) -> NoReturn:
    """Skip the test, or fail it under CI=true, because ``service`` cannot be used."""
    message = f"{service} at {url} is unreachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: services are required, not skipped)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL URL (TEST_DATABASE_URL, else the local default)."""
    import psycopg2

    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        psycopg2.connect(dsn, connect_timeout=3).close()
    except psycopg2.Error as exc:
        service_unavailable("PostgreSQL", url, exc)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis URL (TEST_REDIS_URL, else the local default)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        with redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3) as client:
            client.ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", url, exc)
    return url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/cases/*/expected, expected_handlers and errors.txt from the build.",
    )


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The JSON log lines written while the test runs (logging goes back to stderr after)."""
    from flowgen_runtime.core.logging import configure_logging

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield stream
    configure_logging("INFO", "json")
