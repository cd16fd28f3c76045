"""Hostile input is bounded before it costs (issue #15), in-process on PostgreSQL + Redis:
body and header sizes, introspection, field counts, and a failing read that must not keep
other readers waiting on its single-flight lock."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flowgen_runtime.data.state import AppState
from flowgen_runtime.graphql.app import create_app
from starlette.testclient import TestClient

from generated.registry import REGISTRY

from .harness import ADMIN, drop_keys
from .test_cache import pg, settings, state  # noqa: F401  (fixtures)

AUTH = {"authorization": f"Bearer {ADMIN}"}


PREFIXES: list[str] = []


def client(pg: str, redis_url: str, **overrides: Any) -> TestClient:  # noqa: F811
    prefix = f"b{uuid.uuid4().hex[:8]}"
    PREFIXES.append(prefix)
    base = settings(pg, redis_url, prefix)
    return TestClient(create_app(REGISTRY, base.model_copy(update=overrides)))


@pytest.fixture(autouse=True)
def _cleanup(redis_url: str) -> Iterator[None]:
    yield
    while PREFIXES:
        drop_keys(redis_url, PREFIXES.pop())


@pytest.fixture
def http(pg: str, redis_url: str) -> Iterator[TestClient]:  # noqa: F811
    with client(pg, redis_url, max_body_bytes=4096, max_header_bytes=2048) as c:
        yield c


def test_bodies_and_headers_beyond_the_limits_are_refused(http: TestClient) -> None:
    big = http.post("/graphql", json={"query": "{ apiVersion }", "pad": "x" * 5000}, headers=AUTH)
    assert (
        big.status_code == 413 and big.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"
    )
    long = http.post(
        "/graphql", json={"query": "{ apiVersion }"}, headers={**AUTH, "x-pad": "y" * 3000}
    )
    assert long.status_code == 431
    assert http.post("/graphql", json={"query": "{ apiVersion }"}, headers=AUTH).status_code == 200


def test_introspection_is_off_unless_configured(pg: str, redis_url: str) -> None:  # noqa: F811
    q = {"query": "{ __schema { queryType { name } } }"}
    with client(pg, redis_url) as off:
        body = off.post("/graphql", json=q).json()
        assert "introspection" in body["errors"][0]["message"]
    with client(pg, redis_url, introspection=True) as on:
        assert on.post("/graphql", json=q).json()["data"]["__schema"]["queryType"]["name"]


def test_a_hundred_aliased_schema_queries_are_refused_at_once(pg: str, redis_url: str) -> None:  # noqa: F811
    deep = "types { name fields { name type { name ofType { name } } } }"
    q = {"query": "{ " + " ".join(f"s{i}: __schema {{ {deep} }}" for i in range(100)) + " }"}
    with client(pg, redis_url, introspection=True) as c:
        started = time.monotonic()
        body = c.post("/graphql", json=q).json()
        assert time.monotonic() - started < 1.0
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"


async def test_a_failing_read_releases_its_single_flight_lock(state: AppState) -> None:  # noqa: F811
    calls = []

    async def failing() -> Any:
        calls.append(1)
        raise RuntimeError("database away")

    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(RuntimeError):
            await state.cache.get_or_load("User", 60, ("probe",), failing)
        assert time.monotonic() - started < 0.5  # the second did not wait for the lock
    assert calls == [1, 1]
    assert [k async for k in state.redis.scan_iter(match=f"{state.cache.ns}:q:*:lock")] == []


def test_an_unreachable_database_answers_503_and_retryable(redis_url: str) -> None:
    down = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    with client(down, redis_url) as c:
        r = c.post("/graphql", json={"query": "{ users { totalCount } }"}, headers=AUTH)
    assert r.status_code == 503, r.text
    error = r.json()["errors"][0]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryable": True}
