"""Request ids, error logging and readiness of the ASGI app, in-process.

Readiness flips with Redis: a dedicated redis-server on a free port is stopped and
started again under a running app.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flowgen_runtime import migrate
from flowgen_runtime.core.db import database_from_settings
from flowgen_runtime.core.logging import get_logger
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.data.state import AppState
from flowgen_runtime.graphql.app import create_app
from flowgen_runtime.graphql.ops import RequestMiddleware, readiness
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from generated.registry import REGISTRY

from ..redis_server import RedisServer


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def tiny_app() -> Starlette:
    log = get_logger("tests.ops")

    async def hello(request: Request) -> JSONResponse:
        log.info("handling hello")
        return JSONResponse({"seen": request.headers["x-request-id"]})

    async def boom(_request: Request) -> JSONResponse:
        raise RuntimeError("secret detail")

    app = Starlette(routes=[Route("/hello", hello), Route("/boom", boom)])
    app.add_middleware(RequestMiddleware)
    return app


async def test_request_id_is_kept_or_made_and_on_every_log_line(captured: io.StringIO) -> None:
    transport = httpx.ASGITransport(app=tiny_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        given = await client.get("/hello", headers={"X-Request-ID": "req-42.a:b"})
        made = await client.get("/hello")
        refused = await client.get("/hello", headers={"X-Request-ID": "bad id\nwith newline"})
    assert given.headers["x-request-id"] == "req-42.a:b" == given.json()["seen"]
    assert len(made.headers["x-request-id"]) == 32 == len(made.json()["seen"])
    assert refused.headers["x-request-id"] != "bad id\nwith newline"
    assert refused.json()["seen"] == refused.headers["x-request-id"]
    ids = [line["request_id"] for line in log_lines(captured) if line["msg"] == "handling hello"]
    assert ids == ["req-42.a:b", made.headers["x-request-id"], refused.headers["x-request-id"]]


async def test_unhandled_error_logged_once_with_traceback_client_sees_only_the_id(
    captured: io.StringIO,
) -> None:
    transport = httpx.ASGITransport(app=tiny_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error", "requestId": "boom-1"}
    assert "secret" not in response.text
    errors = [line for line in log_lines(captured) if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "boom-1"
    assert "RuntimeError: secret detail" in errors[0]["exc"]


# --- readiness ------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A redis-server of this test alone: ``stop()`` and ``start()`` it at will."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield {"url": server.url, "start": server.start, "stop": server.stop}
    finally:
        server.close()


@pytest.fixture
async def ready_client(
    tmp_path: Path, redis_server: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}", redis_url=redis_server["url"],
        data_dir=str(tmp_path / "data"),
    )  # fmt: skip
    app = create_app(REGISTRY, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            client.sync_url = settings.sync_database_url()  # type: ignore[attr-defined]
            yield client


async def wait_ready(client: httpx.AsyncClient, status: int) -> httpx.Response:
    for _ in range(50):
        response = await client.get("/ready")
        if response.status_code == status:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError(f"/ready stayed {response.status_code}: {response.text}")


async def test_ready_follows_migrations_and_redis(
    ready_client: httpx.AsyncClient, redis_server: dict[str, Any]
) -> None:
    unmigrated = await ready_client.get("/ready")
    assert unmigrated.status_code == 503
    assert unmigrated.json()["checks"]["migrations"].startswith("unknown")
    assert migrate.run(REGISTRY, "upgrade", url=ready_client.sync_url) == 0  # type: ignore[attr-defined]

    ok = await wait_ready(ready_client, 200)
    assert ok.json() == {
        "status": "ready", "checks": {"database": "ok", "redis": "ok", "migrations": "ok"}
    }  # fmt: skip
    assert (await ready_client.get("/health")).status_code == 200

    redis_server["stop"]()
    down = await wait_ready(ready_client, 503)
    assert down.json()["checks"] == {"database": "ok", "redis": "unreachable", "migrations": "ok"}
    assert (await ready_client.get("/health")).status_code == 200  # alive, just not ready
    metrics = (await ready_client.get("/metrics")).text
    assert 'flowgen_dependency_up{dependency="redis"} 0.0' in metrics

    redis_server["start"]()
    back = await wait_ready(ready_client, 200)
    assert back.json()["status"] == "ready"


async def test_ready_is_503_while_redis_refuses_writes(
    ready_client: httpx.AsyncClient, redis_server: dict[str, Any]
) -> None:
    """Out of memory, Redis still answers PING but takes no write (no invalidation, no
    enqueue): not ready (#16)."""
    import redis as redis_sync

    assert migrate.run(REGISTRY, "upgrade", url=ready_client.sync_url) == 0  # type: ignore[attr-defined]
    await wait_ready(ready_client, 200)
    with redis_sync.Redis.from_url(redis_server["url"]) as admin:
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", "1")
        try:
            full = await wait_ready(ready_client, 503)
            assert full.json()["checks"]["redis"] == "refuses writes (out of memory)"
        finally:
            admin.config_set("maxmemory", "0")
    await wait_ready(ready_client, 200)


async def test_ready_says_the_database_is_unreachable_not_unmigrated(tmp_path: Path) -> None:
    """A database that does not answer is reported as such, not as 'no alembic_version'."""
    from tests.e2e.harness import free_port

    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/nothing",
        redis_url=f"redis://127.0.0.1:{free_port()}/0", data_dir=str(tmp_path / "data"),
    )  # fmt: skip
    state = AppState(REGISTRY, settings)
    state.db = database_from_settings(settings)
    try:
        checks = await readiness(state)
    finally:
        await state.db.dispose()
    assert checks == {
        "database": "unreachable", "redis": "unreachable",
        "migrations": "unknown (database unreachable)",
    }  # fmt: skip
