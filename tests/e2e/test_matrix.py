"""Every value type on every path, one answer on both databases, the database as the oracle.

The app is ``tests/cases/matrix`` (a UUID-keyed ``Shelf`` with integer-keyed ``Item``
children carrying one field of every value type, a many-to-many with ``Tag``, and a queued
``updateItem``), built with the generator in-process, migrated and served in-process in 8
configurations: PostgreSQL and SQLite x cache on and off x compiled execution (on
PostgreSQL without the cache: one SQL statement) and graphql-core only
(``COMPILED_EXECUTION=false``). Each database is seeded once through nested writes.

Every read case runs in each configuration twice (the second time under a new query
text: past the response cache, through the entity cache when it is on) and must equal
the **oracle**: the rows read back with plain SQL on the database and written as GraphQL
would write them, filtered and sorted in Python. Answers of both databases must also be
equal once UUIDs are named by their shelf. Writes (nested creates, relation links,
deletes, a queued update run by a worker process) are checked the same way.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.graphql.app import create_app
from flowgen_runtime.migrate import run as migrate
from starlette.testclient import TestClient

from .harness import ADMIN, JWT_SECRET, child_env, drop_keys, fresh_database

ITEM = "id title note qty ratio price active meta dueOn at kind ref shelfId"
SHELF = "id label openedOn"
TAG = "id name"
UTC = dt.UTC
CASES = Path(__file__).resolve().parents[1] / "cases"
KIND_ORDER = {"SMALL": 0, "LARGE": 1}  # enums sort in declaration order
REFS = [uuid.UUID(int=n * 0x1111_0000_0000_0000_0000_0000_0000_0001) for n in (3, 1, 2)]


@dataclass
class Config:
    name: str
    client: TestClient


@dataclass
class Database:
    kind: str  # postgresql | sqlite
    sync_url: str
    configs: list[Config] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    worker: subprocess.Popen[bytes] | None = None

    def oracle(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of the app, read with plain SQL, as GraphQL writes it."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self._connect() as cur:
            for table, cols in _TABLES.items():
                cur.execute(f"SELECT {', '.join(cols)} FROM {table}")  # noqa: S608 - constants
                rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
                out[table] = [{_camel(c): _gql(self.kind, c, r[c]) for c in cols} for r in rows]
        return out

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        if self.kind == "sqlite":
            conn: Any = sqlite3.connect(self.sync_url.removeprefix("sqlite:///"))
        else:
            import psycopg2

            conn = psycopg2.connect(self.sync_url.replace("+psycopg2", ""))
        try:
            yield conn.cursor()
        finally:
            conn.close()


_TABLES = {
    "shelves": ["id", "label", "opened_on"],
    "items": [
        "id",
        "title",
        "note",
        "qty",
        "ratio",
        "price",
        "active",
        "meta",
        "due_on",
        "at",
        "kind",
        "ref",
        "shelf_id",
    ],  # fmt: skip
    "tags": ["id", "name"],
    "shelf_tags": ["shelf_id", "tag_id"],
}
_KINDS = {
    "id": "id", "shelf_id": "uuid", "tag_id": "id", "opened_on": "date", "qty": "int",
    "ratio": "float", "price": "decimal", "active": "bool", "meta": "json", "due_on": "date",
    "at": "datetime", "kind": "enum", "ref": "uuid",
}  # fmt: skip


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _gql(db: str, column: str, raw: Any) -> Any:
    """A raw driver value (psycopg2 or sqlite3) as the GraphQL answer writes it."""
    kind = _KINDS.get(column, "text")
    if raw is None:
        return None
    if kind == "id":  # integer or UUID primary key: an ID is a string
        return str(uuid.UUID(raw)) if isinstance(raw, str) and len(raw) >= 32 else str(raw)
    if kind == "uuid":
        return str(uuid.UUID(str(raw)))
    if kind == "decimal":
        return str(decimal.Decimal(str(raw)).quantize(decimal.Decimal("0.01")))
    if kind == "date":
        return raw if isinstance(raw, str) else raw.isoformat()
    if kind == "datetime":
        value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
        return (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        ).isoformat()
    if kind == "json":
        return json.loads(raw) if db == "sqlite" else raw
    if kind == "bool":
        return bool(raw)
    if kind == "enum":
        return str(raw).upper()
    return raw


# -- the app, the databases and the 8 configurations -------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``tests/cases/matrix`` built now with the generator, imported as ``matrixapp``."""
    from generator.pipeline import build

    root = tmp_path_factory.mktemp("matrix")
    shutil.copytree(CASES / "matrix" / "specs", root / "specs")
    with contextlib.chdir(root):
        build(Path("specs"), Path("matrixapp"))
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("matrixapp.registry")
    finally:
        sys.path.remove(str(root))
    module.ROOT = root
    return module.REGISTRY


@pytest.fixture(scope="module")
def databases(
    registry: Any, postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Database]]:
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(fresh_database(postgres_url, "flowgen_matrix"))
        path = tmp_path_factory.mktemp("matrix-sqlite") / "app.db"
        dbs = [
            Database("postgresql", pg.replace("postgresql://", "postgresql+psycopg2://", 1)),
            Database("sqlite", f"sqlite:///{path}"),
        ]
        for db in dbs:
            migrate(registry, "upgrade", url=db.sync_url)
            url = db.sync_url.replace("+psycopg2", "+asyncpg").replace(
                "sqlite:", "sqlite+aiosqlite:"
            )
            queues = f"mq{uuid.uuid4().hex[:8]}"
            for cache in (True, False):
                for compiled in (True, False):
                    prefix = f"mx{uuid.uuid4().hex[:8]}"
                    settings = Settings(
                        jwt_secret=JWT_SECRET, database_url=url, redis_url=redis_url,
                        cache_enabled=cache, cache_prefix=prefix, queue_prefix=queues,
                        compiled_execution=compiled, outbox_relay_interval_s=0,
                    )  # fmt: skip
                    name = f"{db.kind}/cache-{'on' if cache else 'off'}/" + (
                        "compiled" if compiled else "graphql-core"
                    )
                    client = stack.enter_context(
                        TestClient(create_app(registry, settings),
                                   headers={"authorization": f"Bearer {ADMIN}"})
                    )  # fmt: skip
                    db.configs.append(Config(name, client))
                    _count_sql_answers(client)
                    db.prefixes.append(prefix)
            db.prefixes.append(queues)
            _seed(db.configs[-1].client)
        yield dbs
        for db in dbs:
            if db.worker is not None:
                db.worker.terminate()
                db.worker.wait(timeout=15)
            for prefix in db.prefixes:
                drop_keys(redis_url, prefix)


def _count_sql_answers(client: TestClient) -> None:
    """``client.app.state.sql_answers``: requests the compiled executor answered with one
    SQL statement (a failing statement falls back silently: the answer alone won't say)."""
    endpoint = next(r.endpoint for r in client.app.routes if getattr(r, "path", "") == "/graphql")
    executor, state = endpoint.executor, client.app.state  # type: ignore[attr-defined]
    if executor is None:
        return
    state.sql_answers = 0
    run_sql = executor._run_sql

    async def counted(plan: Any, ctx: Any) -> Any:
        result = await run_sql(plan, ctx)
        state.sql_answers += result is not None
        return result

    executor._run_sql = counted


def _post(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    r = client.post("/graphql", json={"query": query, "variables": variables or {}})
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


def _seed(client: TestClient) -> None:
    """Three tags, three shelves (two with nested items and tag links): every value type,
    nulls, mixed case, a leap day, microseconds, a non-UTC offset, nested JSON."""
    tags = [
        _post(client, "mutation($n: String!) { createTag(input: {name: $n}) { id } }", {"n": n})[
            "createTag"
        ]["id"]
        for n in ("red", "Green", "blue")
    ]
    items_a = [
        {"title": "Alpha", "note": "first\nline", "qty": 3, "ratio": 0.5, "price": "0.10",
         "active": True, "meta": {"a": 1, "n": [1, 2]}, "dueOn": "2024-02-29",
         "at": "2024-06-01T12:00:00.123456+02:00", "kind": "LARGE", "ref": str(REFS[0])},
        {"title": "beta", "qty": -2, "ratio": 0.001, "price": "2.50", "active": False,
         "meta": "just a string", "dueOn": "2025-01-01", "at": "2024-06-01T09:59:59Z",
         "ref": str(REFS[1])},
        {"title": "ALPHA two", "price": "1234.56", "meta": [1, "x", None],
         "at": "1999-12-31T23:59:59.999999Z"},
    ]  # fmt: skip
    items_b = [
        {"title": "Gamma ray", "note": "", "qty": 7, "ratio": 1e6, "price": "10.00",
         "meta": {"nested": {"k": True}}, "dueOn": "2023-07-15", "kind": "LARGE",
         "ref": str(REFS[2])},
        {"title": "delta%_", "qty": 0, "dueOn": "2024-02-29", "at": "2030-01-01T00:00:00Z"},
    ]  # fmt: skip
    create = "mutation($i: CreateShelfInput!) { createShelf(input: $i) { id } }"
    for label, opened, items, links in (
        ("A", "2024-02-29", items_a, tags[:2]),
        ("B", None, items_b, tags[1:]),
        ("C", "2020-01-01", [], []),
    ):
        shelf = {"label": label, "openedOn": opened, "items": {"create": items},
                 "tags": {"connect": links}}  # fmt: skip
        _post(client, create, {"i": shelf})


# -- read cases: (query, variables, expected answer from the oracle) ----------------------

Oracle = dict[str, list[dict[str, Any]]]


def _by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: int(r["id"]))


def _shelf_of(o: Oracle, label: str) -> dict[str, Any]:
    return next(s for s in o["shelves"] if s["label"] == label)


def _shelf_tree(o: Oracle, s: dict[str, Any]) -> dict[str, Any]:
    items = _by_id([i for i in o["items"] if i["shelfId"] == s["id"]])
    tag_ids = {link["tagId"] for link in o["shelf_tags"] if link["shelfId"] == s["id"]}
    tags = _by_id([t for t in o["tags"] if t["id"] in tag_ids])
    return {**s, "items": {"totalCount": len(items), "nodes": items}, "tags": {"nodes": tags}}


def _items(o: Oracle, keep: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    return {"items": {"nodes": _by_id([i for i in o["items"] if keep(i)])}}


def _filter(where: str) -> str:
    return f"{{ items(where: {where}, orderBy: [{{field: ID}}]) {{ nodes {{ {ITEM} }} }} }}"


D = decimal.Decimal
CASES_READ: dict[str, tuple[str, Callable[[Oracle], Any]]] = {
    "shelves-deep": (
        f"{{ shelfs(orderBy: [{{field: LABEL}}]) {{ nodes {{ {SHELF} items(orderBy: [{{field: ID}}])"
        f" {{ totalCount nodes {{ {ITEM} }} }} tags(orderBy: [{{field: ID}}]) {{ nodes {{ {TAG} }} }} }} }} }}",
        lambda o: {"shelfs": {"nodes": [_shelf_tree(o, s) for s in sorted(o["shelves"], key=lambda s: s["label"])]}},
    ),
    "items-up-to-parent-and-back": (
        f"{{ items(orderBy: [{{field: ID}}]) {{ nodes {{ id shelf {{ {SHELF} items(orderBy: [{{field: ID}}])"
        " { nodes { id ref } } } } } }",
        lambda o: {"items": {"nodes": [
            {"id": i["id"], "shelf": {**(s := next(x for x in o["shelves"] if x["id"] == i["shelfId"])),
             "items": {"nodes": [{"id": c["id"], "ref": c["ref"]} for c in _by_id(o["items"]) if c["shelfId"] == s["id"]]}}}
            for i in _by_id(o["items"])]}},
    ),
    "tags-to-shelves": (
        f"{{ tags(where: {{id: {{gte: \"1\"}}}}, orderBy: [{{field: ID}}]) {{ nodes {{ {TAG} shelves(orderBy: [{{field: LABEL}}]) {{ nodes {{ {SHELF} }} }} }} }} }}",
        lambda o: {"tags": {"nodes": [
            {**t, "shelves": {"nodes": sorted(
                [s for s in o["shelves"] if {"shelfId": s["id"], "tagId": t["id"]} in o["shelf_tags"]],
                key=lambda s: s["label"])}} for t in _by_id(o["tags"])]}},
    ),
    "decimal-range": (_filter('{price: {gte: "1.5", lt: "1234.56"}}'),
                      lambda o: _items(o, lambda i: D("1.5") <= D(i["price"]) < D("1234.56"))),
    "date-range": (_filter('{dueOn: {gte: "2024-02-29", lte: "2025-01-01"}}'),
                   lambda o: _items(o, lambda i: i["dueOn"] is not None and "2024-02-29" <= i["dueOn"] <= "2025-01-01")),
    "datetime-range": (
        _filter('{at: {gt: "2024-06-01T09:59:59Z", lte: "2024-06-01T10:00:00.123456Z"}}'),
        lambda o: _items(o, lambda i: i["at"] is not None and dt.datetime(2024, 6, 1, 9, 59, 59, tzinfo=UTC)
                         < dt.datetime.fromisoformat(i["at"]) <= dt.datetime(2024, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ),
    "uuid-in-and-null": (
        _filter(f'{{OR: [{{ref: {{in: ["{REFS[0]}", "{REFS[2]}"]}}}}, {{ref: {{isNull: true}}}}]}}'),
        lambda o: _items(o, lambda i: i["ref"] in (str(REFS[0]), str(REFS[2]), None)),
    ),
    "enum-and-bool": (_filter("{kind: {eq: LARGE}, active: {eq: true}}"),
                      lambda o: _items(o, lambda i: i["kind"] == "LARGE" and i["active"])),
    "int-float": (_filter("{qty: {lte: 3}, ratio: {gt: 0.01}}"),
                  lambda o: _items(o, lambda i: i["qty"] <= 3 and i["ratio"] is not None and i["ratio"] > 0.01)),
    "string-case-sensitive": (
        _filter('{OR: [{title: {startsWith: "alpha"}}, {title: {contains: "AMMA"}}, {title: {endsWith: "Two"}},'
                ' {title: {contains: "lpha"}}, {title: {endsWith: "%_"}}, {note: {contains: ""}}]}'),
        lambda o: _items(o, lambda i: i["title"].startswith("alpha") or "AMMA" in i["title"]
                         or i["title"].endswith(("Two", "%_")) or "lpha" in i["title"] or i["note"] is not None),
    ),
    "string-insensitive": (
        _filter('{title: {startsWith: "alpha", endsWith: "TWO", mode: INSENSITIVE}}'),
        lambda o: _items(o, lambda i: i["title"].lower().startswith("alpha") and i["title"].lower().endswith("two")),
    ),
    "integer-id-range": (
        _filter('{id: {gt: "2", lte: "10"}, NOT: {id: {gte: "5", lt: "6"}}}'),
        lambda o: _items(o, lambda i: 2 < int(i["id"]) <= 10 and int(i["id"]) != 5),
    ),
    "json-null": (_filter("{meta: {isNull: true}}"), lambda o: _items(o, lambda i: i["meta"] is None)),
    "fk-and-parent-filter": (
        _filter('{shelf: {label: {eq: "B"}, openedOn: {isNull: true}}}'),
        lambda o: _items(o, lambda i: i["shelfId"] == _shelf_of(o, "B")["id"]),
    ),
    "to-many-filter": (
        f'{{ shelfs(where: {{items: {{some: {{price: {{gt: "100"}}}}}}, tags: {{some: {{name: {{eq: "red"}}}}}}}}) {{ nodes {{ {SHELF} }} }} }}',
        lambda o: {"shelfs": {"nodes": [{k: v for k, v in _shelf_of(o, "A").items()}]}},
    ),
    "aggregate-by-types": (
        "{ itemsAggregate(groupBy: [KIND, DUE_ON]) { count group { kind dueOn } sum { qty price } max { ratio } } }",
        lambda o: {"itemsAggregate": sorted(
            [{"count": len(g), "group": {"kind": k, "dueOn": d},
              "sum": {"qty": float(sum(i["qty"] for i in g)), "price": float(sum(D(i["price"]) for i in g))},
              "max": {"ratio": max((i["ratio"] for i in g if i["ratio"] is not None), default=None)}}
             for (k, d) in {(i["kind"], i["dueOn"]) for i in o["items"]}
             for g in [[i for i in o["items"] if (i["kind"], i["dueOn"]) == (k, d)]]],
            key=lambda a: (KIND_ORDER[a["group"]["kind"]], a["group"]["dueOn"] is None, a["group"]["dueOn"] or ""))},
    ),
}  # fmt: skip

NOT_IN_SQL = {"aggregate-by-types"}
"""Read cases the compiled SQL path leaves to graphql-core (aggregates)."""

ORDERS = ["TITLE", "PRICE", "DUE_ON", "AT", "REF", "KIND", "SHELF_ID", "RATIO", "ACTIVE"]


def _order_key(field: str, i: dict[str, Any]) -> Any:
    value = i[_camel(field.lower())]
    if field == "PRICE":
        value = D(value)
    if field == "AT" and value is not None:
        value = dt.datetime.fromisoformat(value)
    if field == "KIND":
        value = KIND_ORDER[value]
    # nulls last ascending on both databases (see data/query/order.py)
    return (value is None, value if value is not None else 0, int(i["id"]))


def _normalized(answer: Any, o: Oracle) -> Any:
    """UUIDs named by their shelf (or kept, if a value), cursors decoded: comparable across
    databases, whose random UUIDs differ."""
    names = {s["id"]: f"shelf:{s['label']}" for s in o["shelves"]}
    text = json.dumps(answer, sort_keys=True)
    for cursor in {c for c in _cursors(answer)}:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        text = text.replace(cursor, f"cursor:{raw}".replace('"', "'"))
    for uid, name in names.items():
        text = text.replace(uid, name).replace(uid.replace("-", ""), name)
    return json.loads(text)


def _cursors(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("cursor", "endCursor", "startCursor") and isinstance(v, str):
                yield v
            else:
                yield from _cursors(v)
    elif isinstance(value, list):
        for v in value:
            yield from _cursors(v)


def _check_everywhere(dbs: list[Database], run: Callable[[TestClient, int], Any],
                      expected: Callable[[Oracle], Any] | None) -> list[int]:  # fmt: skip
    """``run`` answers the same in every configuration, twice, equal to the oracle's
    ``expected`` answer, and the same on both databases up to UUIDs."""
    seen: dict[str, Any] = {}
    sql_answers: list[int] = []
    for db in dbs:
        o = db.oracle()
        want = expected(o) if expected is not None else None
        for config in db.configs:
            for round_ in (0, 1):
                before = getattr(config.client.app.state, "sql_answers", 0)  # type: ignore[attr-defined]
                got = run(config.client, round_)
                if config.name == "postgresql/cache-off/compiled":
                    answered = config.client.app.state.sql_answers - before  # type: ignore[attr-defined]
                    sql_answers.append(answered)
                if want is not None:
                    assert got == want, f"{config.name}, round {round_}: differs from the oracle"
                first = seen.setdefault(db.kind, got)
                assert got == first, (
                    f"{config.name}, round {round_}: differs from {db.configs[0].name}"
                )
        seen[db.kind] = _normalized(seen[db.kind], o)
    assert seen["postgresql"] == seen["sqlite"], "PostgreSQL and SQLite answer differently"
    return sql_answers


@pytest.mark.parametrize("case", sorted(CASES_READ))
def test_reads_of_every_type_agree_with_the_oracle(databases: list[Database], case: str) -> None:
    query, expected = CASES_READ[case]
    by_sql = _check_everywhere(databases, lambda c, n: _post(c, f"{query} # {n}"), expected)
    if case not in NOT_IN_SQL:  # one statement answered it on PostgreSQL, both times
        assert by_sql == [1, 1], f"compiled SQL did not answer {case}: {by_sql}"


@pytest.mark.parametrize("order", ORDERS)
def test_ordering_and_cursors_of_every_type(databases: list[Database], order: str) -> None:
    """Two pages by each type's column (ties by id), the second one after the first's
    cursor, which therefore round-trips a value of that type."""
    query = (
        "query($after: String) { items(orderBy: [{field: %s}, {field: ID}], first: 3, after: $after)"
        " { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } # %d"
    )

    def run(client: TestClient, n: int) -> Any:
        first = _post(client, query % (order, n))["items"]
        second = _post(client, query % (order, n), {"after": first["pageInfo"]["endCursor"]})[
            "items"
        ]
        return [[e["node"]["id"] for e in page["edges"]] for page in (first, second)], [
            first["pageInfo"]["hasNextPage"],
            second["pageInfo"]["hasNextPage"],
            first["edges"],
        ]

    def expected(o: Oracle) -> Any:
        ids = [i["id"] for i in sorted(o["items"], key=lambda i: _order_key(order, i))]
        return [ids[:3], ids[3:6]], [len(ids) > 3, len(ids) > 6]

    seen: dict[str, Any] = {}
    for db in databases:
        o = db.oracle()
        for config in db.configs:
            for n in (0, 1):
                pages, (more1, more2, edges) = run(config.client, n)
                assert [pages, [more1, more2]] == list(expected(o)), f"{config.name}, {order}"
                first = seen.setdefault(db.kind, edges)
                assert edges == first, f"{config.name}: cursors differ"
        seen[db.kind] = _normalized(seen[db.kind], o)
    if order != "SHELF_ID":  # random UUIDs: another order on each database
        assert seen["postgresql"] == seen["sqlite"], "cursors differ across databases"


# -- writes ---------------------------------------------------------------------------


def test_nested_writes_links_and_deletes_of_every_type(databases: list[Database]) -> None:
    """Each configuration creates a shelf with nested items and tag links, reads it back
    (twice: the second through the cache), relinks it, then deletes it with its items."""
    tree = (f"{SHELF} items(orderBy: [{{field: ID}}]) {{ totalCount nodes {{ {ITEM} }} }}"
            f" tags(orderBy: [{{field: ID}}]) {{ nodes {{ {TAG} }} }}")  # fmt: skip
    answers: dict[str, Any] = {}
    for db in databases:
        for config in db.configs:
            c = config.client
            label = f"w-{uuid.uuid4().hex[:6]}"
            shelf = {"label": label, "openedOn": "2000-02-29", "tags": {"connect": ["1", "3"]},
                     "items": {"create": [
                         {"title": "n1", "price": "99999999.99", "meta": {"deep": [{"x": None}]},
                          "at": "2024-01-01T00:00:00.000001-05:00", "ref": str(REFS[1]), "kind": "LARGE"},
                         {"title": "n2", "qty": 2**31 - 1, "ratio": -0.25, "dueOn": "1970-01-01"}]}}  # fmt: skip
            created = _post(c, f"mutation($i: CreateShelfInput!) {{ createShelf(input: $i) {{ {tree} }} }}",
                            {"i": shelf})["createShelf"]  # fmt: skip
            reads = [_post(c, f"query($id: ID!) {{ shelf(id: $id) {{ {tree} }} }} # {n}",
                           {"id": created["id"]})["shelf"] for n in (0, 1)]  # fmt: skip
            o = db.oracle()
            want = _shelf_tree(o, next(s for s in o["shelves"] if s["label"] == label))
            want["items"]["nodes"] = want["items"]["nodes"]
            assert created == want == reads[0] == reads[1], config.name
            update = ("mutation($id: ID!) { updateShelf(id: $id, input: {openedOn: null,"
                      ' tags: {disconnect: ["1"], connect: ["2"]}}) { openedOn tags(orderBy: [{field: ID}])'
                      " { nodes { id } } } }")  # fmt: skip
            updated = _post(c, update, {"id": created["id"]})["updateShelf"]
            assert updated == {"openedOn": None, "tags": {"nodes": [{"id": "2"}, {"id": "3"}]}}
            deleted = _post(c, f"mutation($id: ID!) {{ deleteShelf(id: $id) {{ {SHELF} }} }}",
                            {"id": created["id"]})["deleteShelf"]  # fmt: skip
            assert deleted["id"] == created["id"]
            o = db.oracle()
            assert not [i for i in o["items"] if i["shelfId"] == created["id"]], "cascade"
            gone = _post(c, "query($id: ID!) { shelf(id: $id) { id } }", {"id": created["id"]})
            assert gone == {"shelf": None}
            nodes = [{**i, "id": "n"} for i in created["items"]["nodes"]]  # ids grow
            answers[config.name] = _normalized(
                {**created, "label": "new", "items": {**created["items"], "nodes": nodes}},
                {"shelves": [{"id": created["id"], "label": "new"}]},
            )
    first = next(iter(answers.values()))
    assert all(a == first for a in answers.values()), "answers differ across configurations"


def _start_worker(registry: Any, db: Database, redis_url: str) -> subprocess.Popen[bytes]:
    root = registry_root(registry)
    settings = db.configs[0].client.app.state.flowgen.settings  # type: ignore[attr-defined]
    env = child_env({
        "DATABASE_URL": settings.database_url, "REDIS_URL": redis_url,
        "QUEUE_PREFIX": settings.queue_prefix, "CACHE_PREFIX": settings.cache_prefix,
        "OUTBOX_RELAY_INTERVAL_S": "0",
    })  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join([str(root), env["PYTHONPATH"]])
    log = (root / f"worker-{db.kind}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "matrixapp.worker"], cwd=root, env=env,
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip


def registry_root(registry: Any) -> Path:
    return Path(sys.modules["matrixapp.registry"].ROOT)


def test_a_queued_update_of_every_type_runs_on_a_worker(
    registry: Any, databases: list[Database], redis_url: str
) -> None:
    """updateItem is queued: a worker process (sharing the first configuration's cache
    namespace) writes every type, the job's result is the row, and the cached read of
    that configuration sees the write at once."""
    patch = {"title": "queued", "price": "0.01", "meta": {"q": [1]}, "dueOn": "2028-02-29",
             "at": "2028-02-29T23:00:00-01:00", "kind": "SMALL", "ref": None, "ratio": None}  # fmt: skip
    for db in databases:
        db.worker = _start_worker(registry, db, redis_url)
        client = db.configs[0].client  # cache on, compiled
        item = _post(
            client, f"{{ items(first: 1, orderBy: [{{field: ID}}]) {{ nodes {{ {ITEM} }} }} }}"
        )
        item = item["items"]["nodes"][0]
        before = _post(
            client, f"query($id: ID!) {{ item(id: $id) {{ {ITEM} }} }}", {"id": item["id"]}
        )
        assert before == {"item": item}
        ref = _post(client, "mutation($id: ID!, $i: UpdateItemInput!) { updateItem(id: $id, input: $i)"
                            " { id queue } }", {"id": item["id"], "i": patch})["updateItem"]  # fmt: skip
        status = _wait_job(client, ref, db)
        assert status["state"] == "completed", (
            status,
            registry_root(registry).joinpath(f"worker-{db.kind}.log").read_text()[-3000:],
        )
        o = db.oracle()
        want = next(i for i in o["items"] if i["id"] == item["id"])
        assert want["title"] == "queued" and want["at"] == "2028-03-01T00:00:00+00:00"
        for config in db.configs:
            got = _post(config.client, f"query($id: ID!) {{ item(id: $id) {{ {ITEM} }} }} # after",
                        {"id": item["id"]})  # fmt: skip
            if config is db.configs[0] or "cache-off" in config.name:
                assert got == {"item": want}, config.name
        again = _post(
            client, f"query($id: ID!) {{ item(id: $id) {{ {ITEM} }} }}", {"id": item["id"]}
        )
        assert again == {"item": want}, "the worker's write did not reach the cached read"


def _wait_job(client: TestClient, ref: dict[str, Any], db: Database) -> dict[str, Any]:
    query = "query($q: String!, $id: ID!) { jobStatus(queue: $q, id: $id) { state result failedReason } }"
    deadline = time.monotonic() + 30
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = _post(client, query, {"q": ref["queue"], "id": ref["id"]})["jobStatus"] or {}
        if status.get("state") in ("completed", "failed"):
            return status
        assert db.worker is not None and db.worker.poll() is None, "the worker exited"
        time.sleep(0.1)
    return status


def test_string_max_lengths_hold_in_both_databases(databases: list[Database]) -> None:
    """VARCHAR(n) alone is not enforced by SQLite: a CHECK is, for every writer."""
    for db in databases:
        with db._connect() as cur:
            shelf = "SELECT id FROM shelves WHERE label = 'C'"
            insert = f"INSERT INTO items (title, qty, price, active, kind, shelf_id) SELECT {{}}, 0, 1, {'1' if db.kind == 'sqlite' else 'true'}, 'small', ({shelf})"  # fmt: skip
            cur.execute(insert.format("'" + "x" * 20 + "'"))  # at the limit: fine
            with pytest.raises(Exception, match="(?i)check|too long"):
                cur.execute(insert.format("'" + "x" * 21 + "'"))
            cur.connection.rollback()


def test_ids_of_deleted_rows_are_never_reused(databases: list[Database]) -> None:
    """PostgreSQL sequences never go back; SQLite tables are AUTOINCREMENT."""
    create = 'mutation { createTag(input: {name: "tmp"}) { id } }'
    delete = "mutation($id: ID!) { deleteTag(id: $id) { id } }"
    for db in databases:
        client = db.configs[1].client  # cache on, graphql-core
        last = _post(client, create)["createTag"]["id"]
        _post(client, delete, {"id": last})
        again = _post(client, create)["createTag"]["id"]
        _post(client, delete, {"id": again})
        assert int(again) > int(last), db.kind
