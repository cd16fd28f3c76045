"""No N+1: a list with nested relations runs a fixed number of SQL statements, whatever N.

Runs the committed example app in-process (Starlette TestClient) on a fresh PostgreSQL
database and counts statements with a SQLAlchemy ``before_cursor_execute`` listener.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flowgen_runtime.core.db import Database
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.graphql.app import create_app
from sqlalchemy import event
from starlette.testclient import TestClient

from generated.registry import REGISTRY

from .harness import ADMIN, JWT_SECRET

PREFIX = f"nplus1-{uuid.uuid4().hex[:6]}-"

QUERY = """query($n: Int, $p: String) { exams(first: $n, orderBy: [{field: ID}], where: {slug: {startsWith: $p}}) { nodes {
  title author { name mentor { name } } course { title }
  questions(first: 10) { nodes { prompt } } students: submissions { totalCount nodes { status } }
} } }"""


@pytest.fixture(scope="module", params=[False, True], ids=["graphql-core", "compiled"])
def client(
    request: pytest.FixtureRequest, generated_pg: str, redis_url: str
) -> Iterator[TestClient]:
    """The same app run by graphql-core (DataLoaders: one statement per relation and
    level) and by the compiled executor (one statement for the whole tree)."""
    settings = Settings(
        jwt_secret=JWT_SECRET, database_url=generated_pg, redis_url=redis_url,
        cache_enabled=False, cache_prefix=f"t{uuid.uuid4().hex[:8]}",
        compiled_execution=request.param,
        outbox_relay_interval_s=0,  # its polls would be counted (a flake: 1 in ~20 runs)
    )  # fmt: skip
    with TestClient(create_app(REGISTRY, settings)) as c:
        yield c


def gql(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {ADMIN}"},
    ).json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def seed(client: TestClient, n: int) -> None:
    mentor = gql(
        client,
        'mutation($e: String!) { createUser(input: {email: $e, name: "M"}) { id } }',
        {"e": f"m-{uuid.uuid4().hex}@x.io"},
    )
    for i in range(n):
        user = gql(
            client, "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            {"i": {"email": f"u-{uuid.uuid4().hex}@x.io", "name": f"U{i}", "mentorId": mentor["createUser"]["id"]}},
        )["createUser"]["id"]  # fmt: skip
        gql(
            client, "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
            {"i": {"slug": f"{PREFIX}{uuid.uuid4().hex}", "title": f"Exam {i}", "authorId": user,
                   "questions": {"create": [{"position": p, "prompt": f"p{p}"} for p in (1, 2, 3)]}}},
        )  # fmt: skip


def count_statements(client: TestClient, n: int) -> int:
    engine = client.app.state.flowgen.db.engine.sync_engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    # compiled statements go to the driver directly, past SQLAlchemy's events: count them too
    driver_value = Database.driver_value

    async def counted(self: Database, sql: str, *params: Any) -> Any:
        seen.append(sql)
        return await driver_value(self, sql, *params)

    event.listen(engine, "before_cursor_execute", listener)
    Database.driver_value = counted  # type: ignore[method-assign]
    try:
        data = gql(client, QUERY, {"n": n, "p": PREFIX})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        Database.driver_value = driver_value  # type: ignore[method-assign]
    assert len(data["exams"]["nodes"]) == n
    assert all(len(e["questions"]["nodes"]) == 3 for e in data["exams"]["nodes"])
    return len(seen)


def test_statement_count_does_not_grow_with_n(client: TestClient) -> None:
    seed(client, 50)
    small, large = count_statements(client, 5), count_statements(client, 50)
    assert small == large
    if client.app.state.flowgen.settings.compiled_execution:  # type: ignore[attr-defined]
        assert large == 1  # the whole tree as JSON from one statement
    else:
        # exams page, authors, mentors, courses, questions page, submissions page + count
        assert large <= 7
