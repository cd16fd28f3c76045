"""Operations end to end, on PostgreSQL and Redis: two servers and two workers as separate
processes (what runs on several machines), sharing one metrics directory.

* a write through server A is read fresh (not from a stale cache) through server B;
* jobs enqueued through both servers all run, each exactly once;
* a request id travels: request -> response header -> job -> the worker's log lines;
* ``/metrics`` after that traffic holds the API, cache, pool, queue and job metrics of
  every process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .harness import App, child_env, drop_keys, free_port

pytestmark = pytest.mark.e2e


SECRET = "ops-test-secret-of-at-least-32-bytes!"


def admin_token() -> str:
    """An HS256 JWT with the admin role, signed with ``SECRET`` (JWT_SECRET of the processes)."""

    def part(data: dict[str, Any] | bytes) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': '1', 'roles': ['admin'], 'exp': int(time.time()) + 86400})}"
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


AUTH = {"Authorization": f"Bearer {admin_token()}"}


class Pair(App):
    """Server A (``url``) and worker 1 from :class:`App`, plus server B and worker 2.

    Requests carry an admin bearer token, so the example's permissions let them through.
    """

    port_b: int = 0

    def finished(self, queue: str, job_id: str, timeout: float = 30) -> dict[str, Any]:
        """The job's status once completed or failed."""
        deadline = time.monotonic() + timeout
        query = (
            "query($q: String!, $id: ID!) { jobStatus(queue: $q, id: $id) { state attemptsMade } }"
        )
        while time.monotonic() < deadline:
            status: dict[str, Any] = self.on(self.url, query, {"q": queue, "id": job_id})[
                "jobStatus"
            ]
            if status and status["state"] in ("completed", "failed"):
                return status
            time.sleep(0.1)
        raise AssertionError(f"job {queue}/{job_id} not finished\n{self.log_text()}")

    @property
    def url_b(self) -> str:
        return f"http://127.0.0.1:{self.port_b}"

    def start_second(self) -> None:
        self.port_b = free_port()
        env = {**self.env, "PORT": str(self.port_b)}
        self._spawn("server", [sys.executable, "-m", "generated.server"], env)
        self._spawn("worker", [sys.executable, "-m", "generated.worker"], env)
        port_a, self.port = self.port, self.port_b
        try:
            self.wait_healthy()
        finally:
            self.port = port_a

    def on(self, url: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = httpx.post(
            f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=10,
            headers=AUTH,
        )  # fmt: skip
        body = response.json()
        assert not body.get("errors"), f"{body}\n{self.log_text()}"
        return body["data"]

    def worker_lines(self) -> list[dict[str, Any]]:
        lines = []
        for log in self.logs:
            if log.name.startswith("worker"):
                for line in log.read_text(errors="replace").splitlines():
                    if line.startswith("{"):
                        lines.append({**json.loads(line), "_log": log.name})
        return lines


@pytest.fixture(scope="module")
def pair(
    example_root: Path, pg_database: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    prefix = f"ops{uuid.uuid4().hex[:8]}"
    env = child_env(
        {
            "DATABASE_URL": pg_database,
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": prefix,
            "CACHE_PREFIX": prefix,
            "FLOWGEN_DATA_DIR": str(example_root / ".flowgen-ops"),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
            "LOG_FORMAT": "json",
            "JWT_SECRET": SECRET,
        }
    )
    app = Pair(example_root, env)
    app.migrate("upgrade")
    try:
        app.start()
        app.start_second()
        yield app
    finally:
        app.stop()
        drop_keys(redis_url, prefix)


def new_user(pair: Pair, url: str, name: str = "Ada") -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    data = pair.on(
        url,
        "mutation($e: String!, $n: String!) "
        "{ createUser(input: {email: $e, name: $n, role: TEACHER}) { id } }",
        {"e": email, "n": name},
    )
    user_id: str = data["createUser"]["id"]
    return user_id


def test_write_through_a_is_read_fresh_through_b(pair: Pair) -> None:
    user_id = new_user(pair, pair.url, "Before")
    read = "query($id: ID!) { user(id: $id) { name } }"
    for _ in range(2):  # the second read is served from the shared cache
        assert pair.on(pair.url_b, read, {"id": user_id})["user"]["name"] == "Before"
    pair.on(
        pair.url,
        'mutation($id: ID!) { updateUser(id: $id, input: {name: "After"}) { id } }',
        {"id": user_id},
    )
    assert pair.on(pair.url_b, read, {"id": user_id})["user"]["name"] == "After"

    count = "{ users { totalCount } }"
    before = pair.on(pair.url_b, count)["users"]["totalCount"]
    new_user(pair, pair.url)
    assert pair.on(pair.url_b, count)["users"]["totalCount"] == before + 1


def test_jobs_enqueued_through_both_servers_run_once(pair: Pair) -> None:
    author = new_user(pair, pair.url)
    slug = f"ops-{uuid.uuid4().hex[:8]}"
    exam = pair.on(
        pair.url,
        "mutation($s: String!, $a: ID!) { createExam(input: "
        '{slug: $s, title: "Ops exam", authorId: $a, status: PUBLISHED}) { id } }',
        {"s": slug, "a": author},
    )["createExam"]["id"]
    submit = (
        "mutation($e: ID!, $s: ID!, $k: String!) { createSubmission("
        "input: {examId: $e, studentId: $s, answers: {}}, idempotencyKey: $k) { id } }"
    )
    job_ids = []
    for index in range(16):
        url = pair.url if index % 2 else pair.url_b
        ref = pair.on(url, submit, {"e": exam, "s": author, "k": f"{slug}-{index}"})
        job_ids.append(ref["createSubmission"]["id"])
    for job_id in job_ids:
        assert pair.finished("exam", job_id)["state"] == "completed"

    total = pair.on(
        pair.url_b,
        "query($e: ID!) { submissions(where: {examId: {eq: $e}}) { totalCount } }",
        {"e": exam},
    )["submissions"]["totalCount"]
    assert total == 16
    completed = Counter(
        line["job_id"]
        for line in pair.worker_lines()
        if line.get("job_id") in job_ids and " completed in " in line["msg"]
    )
    assert completed == dict.fromkeys(job_ids, 1), completed


def test_request_id_travels_to_the_worker_log(pair: Pair) -> None:
    user_id = new_user(pair, pair.url)
    rid = f"ops-{uuid.uuid4().hex}"
    response = httpx.post(
        f"{pair.url_b}/graphql",
        json={
            "query": "mutation($u: Int!) { enqueueSendWelcomeEmail(input: {userId: $u}) { id } }",
            "variables": {"u": int(user_id)},
        },
        headers={**AUTH, "X-Request-ID": rid},
        timeout=10,
    )
    assert response.headers["x-request-id"] == rid
    job_id = response.json()["data"]["enqueueSendWelcomeEmail"]["id"]
    assert pair.finished("user", job_id)["state"] == "completed"
    lines = [line for line in pair.worker_lines() if line.get("request_id") == rid]
    messages = [line["msg"] for line in lines]
    assert any(m.startswith("welcome e-mail to ") for m in messages), messages  # the handler's
    assert any(" completed in " in m for m in messages), messages  # the worker's
    assert {line["job_id"] for line in lines} == {job_id}
    generated = httpx.get(f"{pair.url}/health").headers["x-request-id"]
    assert len(generated) == 32


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))


def test_metrics_cover_every_process_after_traffic(pair: Pair) -> None:
    test_jobs_enqueued_through_both_servers_run_once(pair)  # traffic on both servers and workers
    httpx.post(f"{pair.url}/graphql", json={"query": "{ nope }"}, headers=AUTH, timeout=10)
    pair.on(pair.url, "query ListUsers { users(first: 2) { nodes { id } } }")
    found = samples(pair.url)

    assert value(found, "flowgen_graphql_requests_total", operation="ListUsers", status="200") >= 1
    assert (
        value(found, "flowgen_graphql_requests_total", operation="mutation createSubmission") >= 16
    )
    assert (
        value(found, "flowgen_graphql_request_duration_seconds_count", operation="ListUsers") >= 1
    )
    assert value(found, "flowgen_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") >= 1
    assert value(found, "flowgen_cache_events_total", event="miss") >= 1
    assert value(found, "flowgen_cache_events_total", event="invalidation") >= 1
    assert value(found, "flowgen_db_pool_connections", database="primary", state="size") >= 1
    assert value(found, "flowgen_queue_jobs", queue="exam", state="completed") >= 16
    assert value(found, "flowgen_queue_workers", queue="exam") == 2
    assert value(found, "flowgen_dependency_up", dependency="redis") == 1
    assert value(found, "flowgen_dependency_up", dependency="database") == 1
    # written by the two worker processes, read through server A's /metrics
    assert value(found, "flowgen_jobs_total", queue="exam", outcome="completed") >= 32
    assert value(found, "flowgen_job_duration_seconds_count", queue="exam") >= 32
    assert value(found, "flowgen_worker_up", queue="exam") == 2
    assert value(found, "flowgen_worker_heartbeat_timestamp_seconds", queue="exam") > 0
