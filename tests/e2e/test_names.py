"""Names a user reasonably chooses work end to end (tests/cases/good_names): fields ``from``,
``class``, ``global``, ``limit``, ``order``, ``group``, ``title2`` beside ``title_2``,
``metadata``, ``on``; a relation ``import``; a queue ``class`` with a job ``import``.
The committed build is migrated on PostgreSQL, served, and written and read over HTTP."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest

from .harness import REPO, App, child_env, drop_keys, fresh_database

pytestmark = [pytest.mark.e2e, pytest.mark.services]

CASE = REPO / "tests" / "cases" / "good_names"


@pytest.fixture(scope="module")
def names_app(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str
) -> Iterator[App]:
    root = tmp_path_factory.mktemp("names")
    shutil.copytree(CASE / "expected", root / "generated")
    shutil.copytree(CASE / "expected_handlers", root / "handlers")
    prefix = f"nm{uuid.uuid4().hex[:8]}"
    with fresh_database(postgres_url, "names") as db:
        env = child_env(
            {"DATABASE_URL": db, "REDIS_URL": redis_url, "QUEUE_PREFIX": prefix,
             "CACHE_PREFIX": prefix, "PYTHONPATH": f"{root}:{REPO}"}
        )  # fmt: skip
        app = App(root, env)
        app.migrate("upgrade")
        app.start()
        try:
            yield app
        finally:
            app.stop()
            drop_keys(redis_url, prefix)


def test_keyword_fields_round_trip(names_app: App) -> None:
    created = names_app.data(
        """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
             id from class global limit order group title2 title_2 metadata on } }""",
        {"i": {"from": 3, "class": "abc", "limit": 2, "order": "o", "group": "B",
               "title2": "t2", "title_2": "t_2", "metadata": {"k": 1}, "on": "yes"}},
    )["createOrder"]  # fmt: skip
    assert created["from"] == 3 and created["class"] == "abc" and created["group"] == "B"
    assert (created["title2"], created["title_2"]) == ("t2", "t_2")
    assert created["global"] is False and created["metadata"] == {"k": 1}
    found = names_app.data(
        """query { orders(where: {from: {eq: 3}, title_2: {eq: "t_2"}},
                          orderBy: [{field: LIMIT, direction: DESC}]) {
             edges { node { id from limit } } } }"""
    )["orders"]["edges"]
    assert [e["node"]["from"] for e in found] == [3]


def test_keyword_field_constraints_hold(names_app: App) -> None:
    body = names_app.gql(
        """mutation { createOrder(input: {from: -1, title2: "a", title_2: "b"}) { id } }"""
    )
    assert body.get("errors"), body
    assert "from" in str(body["errors"]), body


def test_job_on_queue_class(names_app: App) -> None:
    ref = names_app.data("""mutation { enqueueImport(input: {from: 5}) { id queue } }""")[
        "enqueueImport"
    ]
    assert ref["queue"] == "class"
    assert names_app.wait_job("class", ref["id"])["state"] == "completed"
