"""After PostgreSQL drops every connection of the app (a restart, a failover, backends
terminated by an operator), the next reads and queued mutations answer: their reads are run
again on a new connection, there is no error for the caller.

Runs the committed example app in-process on a fresh PostgreSQL database, with its pool
left without ``pool_pre_ping`` (see :class:`flowgen_runtime.core.db.ReadConnection`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.graphql.app import create_app
from starlette.testclient import TestClient

from generated.registry import REGISTRY

from .harness import ADMIN, JWT_SECRET, drop_keys, token


@pytest.fixture(scope="module")
def client(generated_pg: str, redis_url: str) -> Iterator[TestClient]:
    prefix = f"rc{uuid.uuid4().hex[:8]}"
    settings = Settings(
        jwt_secret=JWT_SECRET, database_url=generated_pg, redis_url=redis_url,
        cache_enabled=False, cache_prefix=prefix, queue_prefix=prefix,
    )  # fmt: skip
    try:
        with TestClient(create_app(REGISTRY, settings)) as c:
            yield c
    finally:
        drop_keys(redis_url, prefix)


def _data(
    client: TestClient, query: str, variables: dict[str, Any], as_: str = ADMIN
) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {as_}"},
    ).json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def _terminate_the_apps_connections(client: TestClient, url: str) -> int:
    """Close, from the server side, every other connection to the app's database, after a
    read that leaves one idle in the app's pool; return once their backends are gone."""
    _data(client, "{ videos(first: 1) { totalCount } }", {})
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    engine = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT"
    )  # pg_stat_activity is read afresh by each statement only outside a transaction
    try:
        with engine.connect() as conn:
            killed = conn.scalars(sa.text(f"SELECT pg_terminate_backend(pid) {others}")).all()
            deadline = time.monotonic() + 10
            while conn.scalar(sa.text(f"SELECT count(*) {others}")) and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        engine.dispose()
    time.sleep(0.1)  # the app's event loop reads the end of those sockets
    return len(killed)


@pytest.fixture(scope="module")
def teacher(client: TestClient) -> str:
    """A token of a new teacher, who may update the videos it owns."""
    email = f"rc-{uuid.uuid4().hex[:8]}@example.com"
    created = _data(
        client,
        'mutation($e: String!) { createUser(input: {email: $e, name: "T"}) { id } }',
        {"e": email},
    )
    return token(str(created["createUser"]["id"]), "teacher")


@pytest.fixture(scope="module")
def video(client: TestClient, teacher: str) -> str:
    created = _data(
        client,
        "mutation($i: CreateVideoInput!) { createVideo(input: $i) { id } }",
        {"i": {"title": "T", "sourceUrl": "s3://v", "sizeBytes": 1}},
        teacher,
    )
    return str(created["createVideo"]["id"])


def test_a_queued_mutation_answers_after_the_database_dropped_its_connections(
    client: TestClient, teacher: str, video: str, generated_pg: str
) -> None:
    """``updateVideo`` is queued: the request only reads (does the teacher own the row?)
    and enqueues. That read meets a dead pooled connection and is run again."""
    assert _terminate_the_apps_connections(client, generated_pg) >= 1
    ref = _data(
        client,
        'mutation($id: ID!) { updateVideo(id: $id, input: {title: "U"}) { queue name } }',
        {"id": video},
        teacher,
    )["updateVideo"]
    assert ref == {"queue": "video", "name": "Video.update"}


def test_a_read_answers_after_the_database_dropped_its_connections(
    client: TestClient, video: str, generated_pg: str
) -> None:
    assert _terminate_the_apps_connections(client, generated_pg) >= 1
    got = _data(client, "query($id: ID!) { video(id: $id) { id title } }", {"id": video})
    assert got["video"] == {"id": video, "title": "T"}


def test_a_write_answers_after_the_database_dropped_its_connections(
    client: TestClient, generated_pg: str
) -> None:
    """A write is not repeated on a dead connection (its effect is unknown): the pool must
    not hand one out. The server closed these ones, which the pool sees at checkout."""
    assert _terminate_the_apps_connections(client, generated_pg) >= 1
    email = f"rc-{uuid.uuid4().hex[:8]}@example.com"
    created = _data(
        client,
        'mutation($e: String!) { createUser(input: {email: $e, name: "W"}) { email } }',
        {"e": email},
    )
    assert created["createUser"] == {"email": email}
