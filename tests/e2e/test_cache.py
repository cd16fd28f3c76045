"""The Redis read path on PostgreSQL + Redis, in-process: single flight, caller scope,
invalidation across relations and cascades, whole-response caching, and Redis outages."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from flowgen_runtime.auth.access import Identity
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.data.state import AppState
from flowgen_runtime.graphql.app import create_app
from sqlalchemy import event
from starlette.testclient import TestClient

from generated.registry import REGISTRY

from ..redis_server import RedisServer
from .harness import ADMIN, JWT_SECRET, drop_keys, token


@pytest.fixture(scope="module")
def pg(generated_pg: str) -> str:
    return generated_pg


def settings(pg: str, redis_url: str, prefix: str, timeout: float = 2.0) -> Settings:
    # a generous timeout: a burst of 50 readers opens many connections at once on 2 cores
    return Settings(
        database_url=pg, redis_url=redis_url, cache_prefix=prefix, redis_timeout=timeout,
        jwt_secret=JWT_SECRET,
    )  # fmt: skip


ADMIN_ID = Identity("1", frozenset({"admin"}))


@pytest.fixture
async def state(pg: str, redis_url: str) -> AsyncIterator[AppState]:
    prefix = f"c{uuid.uuid4().hex[:8]}"
    s = AppState(REGISTRY, settings(pg, redis_url, prefix))
    await s.start()
    yield s
    await s.stop()
    drop_keys(redis_url, prefix)


class Statements:
    """Counts SQL statements sent by one or more engines."""

    def __init__(self, *states: AppState) -> None:
        self.engines = [s.db.engine.sync_engine for s in states]
        self.seen: list[str] = []

    def _on(self, *args: Any) -> None:
        self.seen.append(args[2])

    def __enter__(self) -> Statements:
        for e in self.engines:
            event.listen(e, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc: Any) -> None:
        for e in self.engines:
            event.remove(e, "before_cursor_execute", self._on)

    def selects(self, table: str) -> int:
        return sum(
            1 for s in self.seen if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s
        )


async def _user(state: AppState, name: str = "Ann") -> dict[str, Any]:
    ctx = state.context(identity=ADMIN_ID)
    return await REGISTRY.services["User"].create(
        ctx, {"email": f"{uuid.uuid4().hex}@x.io", "name": name}
    )


async def test_fifty_concurrent_reads_of_a_cold_key_run_one_query(
    state: AppState, pg: str, redis_url: str
) -> None:
    user = await _user(state)
    other = AppState(REGISTRY, settings(pg, redis_url, state.cache.ns.split(":")[0]))
    await other.start()  # a second "process": its own engine and cache object, same Redis
    try:
        users = REGISTRY.services["User"]
        with Statements(state, other) as sql:
            rows = await asyncio.gather(
                *(
                    users.get((state if i % 2 else other).context(identity=ADMIN_ID), user["id"])
                    for i in range(50)
                )
            )
        assert {r["id"] for r in rows} == {user["id"]}
        assert sql.selects("users") == 1
    finally:
        await other.stop()


async def test_callers_share_results_only_with_the_same_visibility(state: AppState) -> None:
    exams = REGISTRY.services["Exam"]
    alice, bob = Identity("101", frozenset({"teacher"})), Identity("102", frozenset({"teacher"}))
    admin2 = Identity("2", frozenset({"admin"}))
    where = {"where": {"slug": {"eq": f"none-{uuid.uuid4().hex}"}}}
    with Statements(state) as sql:
        await exams.connection(state.context(identity=alice), where)
        await exams.connection(state.context(identity=alice), where)
        assert sql.selects("exams") == 1  # alice's second read is a hit
        await exams.connection(state.context(identity=bob), where)
        assert sql.selects("exams") == 2  # bob's rule differs (author_id = 102): no sharing
        await exams.connection(state.context(identity=ADMIN_ID), where)
        await exams.connection(state.context(identity=admin2), where)
        assert sql.selects("exams") == 3  # two admins see the same rows: they share


async def test_writes_invalidate_lists_counts_relation_filters_and_cascades(
    state: AppState,
) -> None:
    exams, users, questions = (REGISTRY.services[n] for n in ("Exam", "User", "Question"))
    author = await _user(state, "Before")
    ctx = state.context(identity=ADMIN_ID)
    slug = f"c-{uuid.uuid4().hex[:8]}"
    exam = await exams.create(ctx, {"slug": slug, "title": "Cached", "author_id": author["id"],
                                    "questions": {"create": [{"position": 1, "prompt": "p"}]}})  # fmt: skip
    by_author = {"where": {"author": {"name": {"eq": "After"}}, "slug": {"eq": slug}}}
    assert (await exams.connection(ctx, by_author, total=True))["total_count"] == 0
    await users.update(ctx, author["id"], {"name": "After"})  # a User write ...
    assert (await exams.connection(ctx, by_author, total=True))[
        "total_count"
    ] == 1  # ... seen by Exam
    q_list = {"where": {"exam_id": {"eq": exam["id"]}}}
    assert len((await questions.connection(ctx, q_list))["nodes"]) == 1
    await users.delete(ctx, author["id"])  # cascades: user -> exams -> questions
    assert (await questions.connection(ctx, q_list))["nodes"] == []
    assert await exams.get(ctx, exam["id"]) is None


@pytest.fixture
def http(pg: str, redis_url: str) -> Iterator[TestClient]:
    prefix = f"h{uuid.uuid4().hex[:8]}"
    app = create_app(REGISTRY, settings(pg, redis_url, prefix))
    with TestClient(app, headers={"authorization": f"Bearer {ADMIN}"}) as client:
        yield client
    drop_keys(redis_url, prefix)


def test_whole_responses_are_cached_until_a_write(http: TestClient) -> None:
    state = http.app.state.flowgen  # type: ignore[attr-defined]
    slug = f"r-{uuid.uuid4().hex[:8]}"
    q = {"query": "query($s: String!) { examBySlug(slug: $s) { title } }", "variables": {"s": slug}}
    with Statements(state) as sql:
        assert http.post("/graphql", json=q).json() == {"data": {"examBySlug": None}}
        hits = state.cache.stats.hits
        assert http.post("/graphql", json=q).content == b'{"data":{"examBySlug":null}}'
        assert sql.selects("exams") == 1 and state.cache.stats.hits == hits + 1  # served whole
    author = http.post("/graphql", json={"query": 'mutation($e: String!) { createUser(input: {email: $e, name: "A"}) { id } }',
                                         "variables": {"e": f"{slug}@x.io"}}).json()["data"]["createUser"]["id"]  # fmt: skip
    create = "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }"
    http.post(
        "/graphql",
        json={
            "query": create,
            "variables": {"i": {"slug": slug, "title": "Fresh", "authorId": author}},
        },
    )
    assert http.post("/graphql", json=q).json() == {"data": {"examBySlug": {"title": "Fresh"}}}
    job_status = {
        "query": '{ jobStatus(queue: "user", id: "x") { state } }'
    }  # never response-cached
    assert http.post("/graphql", json=job_status).json() == {"data": {"jobStatus": None}}


async def test_reads_survive_a_redis_outage_and_caching_resumes(
    pg: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(tmp_path)
    server.start()
    s = AppState(REGISTRY, settings(pg, server.url, "outage", timeout=0.2))
    await s.start()
    try:
        user = await _user(s)
        users = REGISTRY.services["User"]
        await users.get(s.context(identity=ADMIN_ID), user["id"])
        server.stop()
        caplog.set_level(logging.WARNING, logger="flowgen.cache")
        for _ in range(5):  # Redis is gone: every read still answers, from the database
            assert (await users.get(s.context(identity=ADMIN_ID), user["id"]))["id"] == user["id"]
        warnings = [r for r in caplog.records if "redis unavailable" in r.getMessage()]
        assert len(warnings) == 1  # once per outage, not per request
        server.start()
        await users.get(s.context(identity=ADMIN_ID), user["id"])  # first read after: refill
        hits = s.cache.stats.hits
        await users.get(s.context(identity=ADMIN_ID), user["id"])
        assert s.cache.stats.hits == hits + 1  # caching resumed by itself
        assert any("caching resumed" in r.getMessage() for r in caplog.records)
    finally:
        await s.stop()
        server.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def cached_app(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str
) -> Iterator[TestClient]:
    """The example app with the cache on (the production default), on either database."""
    from flowgen_runtime.migrate import run as migrate

    if request.param == "postgresql":
        url = request.getfixturevalue("generated_pg")
    else:
        migrate(REGISTRY, "upgrade", url=f"sqlite:///{tmp_path / 'app.db'}")
        url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    prefix = f"u{uuid.uuid4().hex[:8]}"
    with TestClient(
        create_app(REGISTRY, settings(url, redis_url, prefix)),
        headers={"authorization": f"Bearer {ADMIN}"},
    ) as client:
        yield client
    drop_keys(redis_url, prefix)


def test_uuid_keyed_entities_are_read_from_the_cache_with_their_types(
    cached_app: TestClient,
) -> None:
    """Video (UUID id) read cold then warm: the driver's UUID type is cached as text and
    comes back as a UUID, so relations of a cached row still load (a str id has no .hex)."""

    def data(query: str, as_: str = ADMIN, **variables: Any) -> Any:
        body = cached_app.post(
            "/graphql", json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {as_}"},
        ).json()  # fmt: skip
        assert "errors" not in body, body
        return body["data"]

    owner = data('mutation($e: String!) { createUser(input: {email: $e, name: "O"}) { id } }',
                 e=f"{uuid.uuid4().hex}@x.io")["createUser"]["id"]  # fmt: skip
    video = data(  # the owner is preset to the caller: the new user, as an admin
        'mutation { createVideo(input: {title: "T", sourceUrl: "s", sizeBytes: 3,'
        ' recordedOn: "2024-02-29"}) { id } }',
        as_=token(owner, "admin"),
    )["createVideo"]["id"]
    fields = "id title recordedOn createdAt owner { id videos { nodes { id sizeBytes } } }"
    answers = []
    state = cached_app.app.state.flowgen  # type: ignore[attr-defined]
    for n in range(3):  # a new query text each time: past the response cache, to the rows
        hits = state.cache.stats.hits
        answers.append(
            data(f"query($id: ID!) {{ video(id: $id) {{ {fields} }} "
                 f"videos(where: {{id: {{eq: $id}}}}) {{ nodes {{ {fields} }} }} }} # {n}", id=video)
        )  # fmt: skip
        assert (state.cache.stats.hits > hits) == (n > 0)  # cold, then from the entity cache
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["video"]["id"] == video and answers[0]["video"]["recordedOn"] == "2024-02-29"
    assert answers[0]["videos"]["nodes"] == [answers[0]["video"]]
