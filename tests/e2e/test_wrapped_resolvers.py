"""A user's wrapper around a generated resolver always runs: the compiled executor turns a
field into SQL only when the schema's resolver *is* the generated function (identity, from
the resolver modules' ``READS`` tables), never because of an attribute that
:func:`functools.wraps` copies onto the wrapper.

The same wrapped app answers on PostgreSQL (where SQL compilation applies) and on SQLite,
with the cache on and off; every answer must be the same filtered one.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from ariadne import ObjectType, QueryType
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.graphql.app import create_app
from starlette.testclient import TestClient

from generated.registry import REGISTRY
from generated.resolvers import exam as exam_resolvers

from .harness import ADMIN, JWT_SECRET, drop_keys

TAG = uuid.uuid4().hex[:6]
CALLS: dict[str, int] = {"exams": 0, "author": 0}


@functools.wraps(exam_resolvers.resolve_exams)
async def drafts_hidden(obj: Any, info: Any, **args: Any) -> Any:
    """A user's policy on top of the generated list: drafts are never listed."""
    CALLS["exams"] += 1
    page = await exam_resolvers.resolve_exams(obj, info, **args)
    nodes = [n for n in page["nodes"] if n["status"] != "draft"]
    return {**page, "nodes": nodes}


@functools.wraps(exam_resolvers.resolve_author)
async def author_initials(obj: Any, info: Any) -> Any:
    CALLS["author"] += 1
    author = await exam_resolvers.resolve_author(obj, info)
    return None if author is None else {**author, "name": author["name"][:1] + "."}


def _registry() -> Any:
    query, exam = QueryType(), ObjectType("Exam")
    query.set_field("exams", drafts_hidden)
    exam.set_field("author", author_initials)
    # the user's bindables come after the generated ones, as a user package's would
    return dataclasses.replace(REGISTRY, bindables=[*REGISTRY.bindables, query, exam])


QUERY = (
    "query($t: String!) { exams(first: 10, orderBy: [{field: ID}], "
    "where: {slug: {endsWith: $t}}) { nodes { slug status author { name } } } }"
)


@pytest.fixture(scope="module")
def database(example_database: str) -> str:
    return example_database


@pytest.fixture(scope="module")
def seeded(database: str, redis_url: str) -> Iterator[str]:
    prefix = f"w{uuid.uuid4().hex[:8]}"
    settings = Settings(jwt_secret=JWT_SECRET, database_url=database, redis_url=redis_url,
                        cache_enabled=False, cache_prefix=prefix)  # fmt: skip
    with TestClient(create_app(REGISTRY, settings)) as client:

        def data(query: str, variables: dict[str, Any]) -> Any:
            headers = {"authorization": f"Bearer {ADMIN}"}
            r = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)  # fmt: skip
            body = r.json()
            assert r.status_code == 200 and not body.get("errors"), body
            return body["data"]

        user = data(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            {"i": {"email": f"w-{TAG}-{prefix}@x.io", "name": "Wanda", "role": "TEACHER"}},
        )["createUser"]["id"]
        for n, status in enumerate(["PUBLISHED", "DRAFT", "ARCHIVED"]):
            i = {
                "slug": f"w{n}-{prefix}-{TAG}",
                "title": f"Wexam {n}",
                "status": status,
                "authorId": user,
            }
            data("mutation($i: CreateExamInput!) { createExam(input: $i) { id } }", {"i": i})
    yield prefix
    drop_keys(redis_url, prefix)


@pytest.mark.parametrize("cache", [False, True], ids=["cache-off", "cache-on"])
def test_a_wrapped_generated_resolver_runs_on_every_path(
    database: str, seeded: str, redis_url: str, cache: bool
) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, database_url=database, redis_url=redis_url,
                        cache_enabled=cache, cache_prefix=seeded)  # fmt: skip
    CALLS.update(exams=0, author=0)
    with TestClient(create_app(_registry(), settings)) as client:
        answers = []
        for _ in range(2):  # the second may come from the cache: the same answer
            r = client.post(
                "/graphql",
                json={"query": QUERY, "variables": {"t": f"{seeded}-{TAG}"}},
                headers={"authorization": f"Bearer {ADMIN}"},
            )
            assert r.status_code == 200, r.text
            answers.append(orjson.loads(r.content))
    expected = {
        "data": {
            "exams": {
                "nodes": [
                    {"slug": f"w0-{seeded}-{TAG}", "status": "PUBLISHED", "author": {"name": "W."}},
                    {"slug": f"w2-{seeded}-{TAG}", "status": "ARCHIVED", "author": {"name": "W."}},
                ]
            }
        }
    }
    assert answers == [expected, expected]
    assert CALLS["exams"] >= 1 and CALLS["author"] >= 2  # the wrappers ran, not SQL


def test_the_generated_resolver_itself_is_still_compiled_to_sql(
    database: str, seeded: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The identity rule does not lose the fast path: unwrapped, the list is one SQL
    statement on PostgreSQL (and drafts are listed)."""
    import flowgen_runtime.graphql.execution as execution

    compiled: list[Any] = []
    original = execution.compile_sql

    def spy(*args: Any) -> Any:
        found = original(*args)
        compiled.append(found)
        return found

    monkeypatch.setattr(execution, "compile_sql", spy)
    settings = Settings(jwt_secret=JWT_SECRET, database_url=database, redis_url=redis_url,
                        cache_enabled=False, cache_prefix=seeded)  # fmt: skip
    with TestClient(create_app(REGISTRY, settings)) as client:
        r = client.post(
            "/graphql",
            json={"query": QUERY, "variables": {"t": f"{seeded}-{TAG}"}},
            headers={"authorization": f"Bearer {ADMIN}"},
        )
    nodes = r.json()["data"]["exams"]["nodes"]
    assert [n["status"] for n in nodes] == ["PUBLISHED", "DRAFT", "ARCHIVED"]
    assert nodes[0]["author"] == {"name": "Wanda"}
    if database.startswith("postgresql"):
        assert compiled and compiled[-1] is not None
    else:
        assert all(c is None for c in compiled)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "graphql-core"])
def test_a_query_that_errors_runs_each_resolver_once(
    database: str, seeded: str, redis_url: str, compiled: bool
) -> None:
    """A query with a failing field and wrapped resolvers (which keep it off the SQL
    path) runs on graphql-core once: the wrappers ran once each, and the answer is
    graphql-core's own, error path included."""
    settings = Settings(jwt_secret=JWT_SECRET, database_url=database, redis_url=redis_url,
                        cache_enabled=False, cache_prefix=seeded, compiled_execution=compiled)  # fmt: skip
    query = QUERY.replace("} } } }", '} } } bad: exam(id: "not-an-id") { id } }')
    CALLS.update(exams=0, author=0)
    with TestClient(create_app(_registry(), settings)) as client:
        r = client.post(
            "/graphql",
            json={"query": query, "variables": {"t": f"{seeded}-{TAG}"}},
            headers={"authorization": f"Bearer {ADMIN}"},
        )
    body = r.json()
    assert [n["slug"][:2] for n in body["data"]["exams"]["nodes"]] == ["w0", "w2"]
    assert body["data"]["bad"] is None and body["errors"][0]["path"] == ["bad"]
    assert CALLS == {"exams": 1, "author": 2}
