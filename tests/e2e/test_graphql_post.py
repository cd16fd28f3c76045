"""``POST /graphql`` answered in raw ASGI before the middleware stack (the hot path), on
PostgreSQL + Redis, in-process: it must still do what the request middleware does for
other routes (request id in and out, metrics, one log line and a plain 500 for an error),
and its response cache is keyed on the request body and the caller."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flowgen_runtime.auth.tokens import mint
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.graphql.app import create_app
from prometheus_client import REGISTRY as METRICS
from starlette.testclient import TestClient

from generated.registry import REGISTRY

from .harness import ADMIN, JWT_SECRET
from .test_cache import pg, settings  # noqa: F401  (the migrated database fixture)

AUTH = {"authorization": f"Bearer {ADMIN}"}


def bearer(sub: str, roles: list[str]) -> dict[str, str]:
    return {"authorization": "Bearer " + mint(Settings(jwt_secret=JWT_SECRET), sub, roles)}


def sample(name: str, **labels: str) -> float:
    return METRICS.get_sample_value(name, labels) or 0.0


@pytest.fixture
def http(pg: str, redis_url: str) -> Iterator[TestClient]:  # noqa: F811
    app = create_app(REGISTRY, settings(pg, redis_url, f"g{uuid.uuid4().hex[:8]}"))
    with TestClient(app) as client:
        yield client


def test_request_ids_in_and_out_and_every_answer_counted(http: TestClient) -> None:
    op = f"Probe{uuid.uuid4().hex[:8]}"
    q = {"query": f"query {op} {{ user(id: 1) {{ id }} }}"}
    given = http.post("/graphql", json=q, headers={**AUTH, "X-Request-ID": "req-9.a:b"})
    made = http.post("/graphql", json=q, headers=AUTH)
    refused = http.post("/graphql", json=q, headers={**AUTH, "X-Request-ID": "bad id"})
    assert [r.status_code for r in (given, made, refused)] == [200, 200, 200]
    assert given.headers["x-request-id"] == "req-9.a:b"
    assert re.fullmatch("[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch("[0-9a-f]{32}", refused.headers["x-request-id"])
    assert made.headers["x-request-id"] != refused.headers["x-request-id"]
    assert given.headers["content-type"] == "application/json"
    assert sample("flowgen_graphql_requests_total", operation=op, status="200") == 3
    assert sample("flowgen_graphql_request_duration_seconds_count", operation=op) == 3

    unauthenticated = http.post("/graphql", json=q, headers={"authorization": "Bearer nope"})
    assert unauthenticated.status_code == 401
    assert sample("flowgen_graphql_requests_total", operation=op, status="401") == 1
    before = sample("flowgen_graphql_requests_total", operation="invalid", status="400")
    assert http.post("/graphql", content=b"{not json", headers=AUTH).status_code == 400
    assert sample("flowgen_graphql_requests_total", operation="invalid", status="400") == (
        before + 1
    )


def test_an_escaping_error_is_logged_once_and_answered_with_the_id_only(
    http: TestClient, captured: io.StringIO
) -> None:
    endpoint = http.app.graphql_post.__self__  # type: ignore[attr-defined]

    async def broken(*_args: Any) -> tuple[int, bytes]:
        logging.getLogger("flowgen.test").info("about to fail")
        raise RuntimeError("secret detail")

    endpoint.answer = broken  # a fault injected into the endpoint itself
    op = f"Boom{uuid.uuid4().hex[:8]}"
    q = {"query": f"query {op} {{ user(id: 1) {{ id }} }}"}
    response = http.post("/graphql", json=q, headers={**AUTH, "X-Request-ID": "boom-2"})
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error", "requestId": "boom-2"}
    assert response.headers["x-request-id"] == "boom-2"
    assert "secret" not in response.text
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line[:1] == "{"]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1 and "RuntimeError: secret detail" in errors[0]["exc"]
    assert {line["request_id"] for line in lines} == {"boom-2"}
    assert sample("flowgen_graphql_requests_total", operation=op, status="500") == 1


def test_the_response_cache_is_keyed_on_the_body_and_the_caller(
    http: TestClient, redis_url: str
) -> None:
    cache = http.app.state.flowgen.cache  # type: ignore[attr-defined]
    stored = redis.Redis.from_url(redis_url)
    query = f'{{ examBySlug(slug: "k-{uuid.uuid4().hex[:8]}") {{ title }} }}'
    body = json.dumps({"query": query}).encode()
    spaced = json.dumps({"query": query}, indent=2).encode()  # the same request, other bytes
    one, other = bearer("9001", ["admin"]), bearer("9002", ["admin"])

    def post(content: bytes, headers: dict[str, str]) -> bytes:
        response = http.post("/graphql", content=content, headers=headers)
        assert response.status_code == 200
        return response.content

    answers = [
        post(body, one),
        post(body, one),  # served from the response cache
        post(body, other),  # another caller, even with the same roles: a key of its own
        post(spaced, one),  # the same request in other bytes: a key of its own
        post(spaced, one),
    ]
    assert set(answers) == {b'{"data":{"examBySlug":null}}'}
    assert len(list(stored.scan_iter(f"{cache.ns}:r:*"))) == 3  # one per (bytes, caller)


def test_middleware_added_after_create_app_sees_graphql_posts(
    pg: str,  # noqa: F811
    redis_url: str,
) -> None:
    app = create_app(REGISTRY, settings(pg, redis_url, f"g{uuid.uuid4().hex[:8]}"))
    seen: list[str] = []

    class Spy:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append(f"{scope['method']} {scope['path']}")
            await self.inner(scope, receive, send)

    app.add_middleware(Spy)
    with TestClient(app) as client:
        response = client.post("/graphql", json={"query": "{ user(id: 1) { id } }"}, headers=AUTH)
    assert response.status_code == 200 and response.headers["x-request-id"]
    assert seen == ["POST /graphql"]
