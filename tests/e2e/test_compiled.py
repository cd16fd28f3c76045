"""The compiled executor answers byte for byte what graphql-core answers.

Two in-process apps of the committed example share one fresh PostgreSQL database (cache
off, so both compute every answer): one runs queries on compiled plans
(``COMPILED_EXECUTION=true``, the default), the other on graphql-core only. Every query of
the corpus is sent as four callers (admin, teacher, student, anonymous) to both, and the
response bodies and status codes must be identical. A spy on the executor proves the
one-statement SQL path really answered the success cases on PostgreSQL (and gave way on
the others), and that SQLite never reaches it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.graphql.app import create_app
from flowgen_runtime.migrate import run as migrate
from starlette.testclient import TestClient

from generated.registry import REGISTRY

from .harness import ADMIN, JWT_SECRET, drop_keys, token

TAG = uuid.uuid4().hex[:6]
USER = "id email name role bio createdAt mentorId"
EXAM = "id slug title status durationMinutes passMark startsAt settings createdAt"


IN_SQL = {
    "pk", "pk-missing", "pk-typename-alias", "exam-all-types", "lookup", "list-nested",
    "fragments-directives", "directives-off", "to-many-filter", "page-info-forward",
    "page-info-backward", "page-after-cursor", "nested-page-info", "cursors",
    "cursors-backward", "cursors-nested-empty",
}  # fmt: skip
"""Queries the admin gets answered by one SQL statement on PostgreSQL."""


def _app(url: str, redis_url: str, compiled: bool, prefix: str) -> Any:
    settings = Settings(
        jwt_secret=JWT_SECRET, database_url=url, redis_url=redis_url, cache_enabled=False,
        cache_prefix=prefix, compiled_execution=compiled,
    )  # fmt: skip
    return create_app(REGISTRY, settings)


class Spy:
    """Counts what the compiled executor did with each request."""

    def __init__(self, executor: Any) -> None:
        self.answered = self.gave_way = self.by_sql = 0
        self._run, self._run_sql = executor.run, executor._run_sql
        executor.run, executor._run_sql = self.run, self.run_sql

    async def run_sql(self, plan: Any, ctx: Any) -> Any:
        result = await self._run_sql(plan, ctx)
        self.by_sql += result is not None
        return result

    async def run(self, plan: Any, ctx: Any) -> Any:
        result = await self._run(plan, ctx)
        if result is None:  # graphql-core runs it
            self.gave_way += 1
        else:
            self.answered += 1
        return result


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[TestClient, TestClient, Spy]]:
    if request.param == "postgresql":
        url = request.getfixturevalue("generated_pg")
    else:
        path = tmp_path_factory.mktemp("compiled") / "app.db"
        migrate(REGISTRY, "upgrade", url=f"sqlite:///{path}")
        url = f"sqlite+aiosqlite:///{path}"
    prefix = f"c{uuid.uuid4().hex[:8]}"
    compiled_app = _app(url, redis_url, True, prefix)
    endpoint = next(r.endpoint for r in compiled_app.routes if getattr(r, "path", "") == "/graphql")
    spy = Spy(endpoint.executor)
    try:
        with (
            TestClient(compiled_app) as fast,
            TestClient(_app(url, redis_url, False, prefix)) as slow,
        ):
            yield fast, slow, spy
    finally:
        drop_keys(redis_url, prefix)


def _calls(monkeypatch: pytest.MonkeyPatch, name: str, arg: int) -> list[Any]:
    """Argument ``arg`` of every call of ``flowgen_runtime.graphql.execution.<name>`` in the test."""
    import flowgen_runtime.graphql.execution as execution

    seen: list[Any] = []
    original = getattr(execution, name)

    def counting(*args: Any) -> Any:
        seen.append(args[arg])
        return original(*args)

    monkeypatch.setattr(execution, name, counting)
    return seen


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The plans the executor compiles SQL for during the test."""
    return _calls(monkeypatch, "compile_sql", 0)


def _post(client: TestClient, query: str, variables: Any, as_: str | None) -> tuple[int, bytes]:
    headers = {"authorization": f"Bearer {as_}"} if as_ else {}
    r = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return r.status_code, r.content


@pytest.fixture(scope="module")
def seeded(apps: tuple[TestClient, TestClient, Spy]) -> dict[str, Any]:
    client = apps[1]

    def data(query: str, variables: dict[str, Any]) -> Any:
        status, body = _post(client, query, variables, ADMIN)
        out = orjson.loads(body)
        assert status == 200 and not out.get("errors"), out
        return out["data"]

    def user(name: str, role: str, mentor: str | None = None) -> str:
        i = {"email": f"{name}-{TAG}@x.io", "name": name, "role": role, "mentorId": mentor}
        q = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
        return str(data(q, {"i": i})["createUser"]["id"])

    teacher = user("Tess", "TEACHER")
    other = user("Theo", "TEACHER")
    students = [user(f"Stu{i}", "STUDENT", teacher if i % 2 else None) for i in range(3)]
    course = data(
        "mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }",
        {"i": {"slug": f"c-{TAG}", "title": "Algebra", "price": "12.50", "published": True,
               "startsOn": "2026-12-01", "students": {"connect": students[:2]}}},
    )["createCourse"]["id"]  # fmt: skip
    exams = []
    for n, (author, status) in enumerate(
        [(teacher, "PUBLISHED"), (teacher, "DRAFT"), (other, "PUBLISHED"), (other, "ARCHIVED")]
    ):
        i = {
            "slug": f"e{n}-{TAG}", "title": f"Exam {n}", "status": status, "authorId": author,
            "courseId": course if n != 3 else None, "passMark": 50.5 + n if n % 2 else 51.0 + n,  # 51.0: JSON from SQL says 51
            "startsAt": [None, "2026-12-01T09:30:00.250000+00:00", None, "2026-12-01T09:30:00Z"][n],
            "settings": {"shuffle": True, "n": n} if n < 2 else None,
            "questions": {"create": [{"position": p, "prompt": f"q{p}"} for p in (1, 2, 3)]},
        }  # fmt: skip
        q = "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }"
        exams.append(data(q, {"i": i})["createExam"]["id"])
    first = data(
        "query($t: String!) { exams(first: 1, orderBy: [{field: ID}], "
        "where: {slug: {endsWith: $t}}) { pageInfo { endCursor } } }",
        {"t": TAG},
    )["exams"]["pageInfo"]["endCursor"]
    return {"teacher": teacher, "students": students, "course": course, "exams": exams,
            "cursor": first}  # fmt: skip


def _callers(seeded: dict[str, Any]) -> dict[str, str | None]:
    return {
        "admin": ADMIN,
        "teacher": token(seeded["teacher"], "teacher"),
        "student": token(seeded["students"][0], "student"),
        "anonymous": None,
    }


def _corpus(s: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, query, variables): successes, partial errors and refusals."""
    teacher, exam = s["teacher"], s["exams"][0]
    return [
        ("pk", f"{{ user(id: {teacher}) {{ {USER} }} }}", {}),
        ("pk-missing", "{ user(id: 999999999) { id name } }", {}),
        ("pk-typename-alias", f'{{ me: user(id: {teacher}) {{ __typename who: name id }} x: exam(id: "{exam}") {{ title }} }}', {}),
        ("exam-all-types", f"query($id: ID!) {{ exam(id: $id) {{ {EXAM} }} }}", {"id": exam}),
        ("lookup", 'query($s: String!) { examBySlug(slug: $s) { title author { name role } } }', {"s": f"e0-{TAG}"}),
        ("list-nested",
         "{ users(first: 20, orderBy: [{field: ID}], where: {exams: {some: {slug: {endsWith: \"" + TAG + "\"}}}}) { nodes { id name "
         "exams(first: 5, orderBy: [{field: ID}]) { nodes { id title status } } } } }", {}),
        ("connection-all",
         "query($n: Int!) { exams(first: $n, orderBy: [{field: PASS_MARK, direction: DESC}], where: {slug: {endsWith: \"" + TAG + "\"}}) {"
         " totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
         " edges { cursor node { title passMark author { name mentor { name } } course { title price published startsOn"
         " students(first: 1) { totalCount nodes { name } pageInfo { hasNextPage } } }"
         " questions(last: 2) { nodes { position prompt } } } } } }", {"n": 3}),
        ("fragments-directives",
         "query($withCourse: Boolean!, $skipTitle: Boolean = false) { exams(first: 10, where: {slug: {endsWith: \"" + TAG + "\"}}) { nodes { ...E"
         " course @include(if: $withCourse) { ... on Course { title } } } } }"
         " fragment E on Exam { id title @skip(if: $skipTitle) ... { status } }",
         {"withCourse": True}),
        ("directives-off",
         "query($withCourse: Boolean!) { exams(first: 10, where: {slug: {endsWith: \"" + TAG + "\"}}) { nodes { id course @include(if: $withCourse) { title } } } }",
         {"withCourse": False}),
        ("to-many-filter",
         "{ courses(where: {students: {some: {name: {startsWith: \"Stu\"}}}, slug: {eq: \"C-" + TAG.upper() + "\", mode: INSENSITIVE}}) { nodes { title students { nodes { name email } } exams { totalCount } } } }", {}),
        ("page-info-forward",
         "{ users(first: 2, orderBy: [{field: NAME, direction: DESC}], where: {exams: {some: {slug: {endsWith: \"" + TAG + "\"}}}}) {"
         " __typename pageInfo { __typename hasNextPage hasPreviousPage } edges { __typename node { name } } totalCount } }", {}),
        ("page-info-backward",
         "{ exams(last: 3, orderBy: [{field: ID}], where: {slug: {endsWith: \"" + TAG + "\"}}) {"
         " pageInfo { hasNextPage hasPreviousPage } nodes { title } } }", {}),
        ("page-after-cursor",
         "query($c: String) { exams(first: 2, after: $c, orderBy: [{field: ID}], where: {slug: {endsWith: \"" + TAG + "\"}}) {"
         " pageInfo { hasNextPage hasPreviousPage } nodes { title course { title } } } }", {"c": s["cursor"]}),
        ("nested-page-info",
         "{ users(where: {exams: {some: {slug: {endsWith: \"" + TAG + "\"}}}}) { nodes { name"
         " exams(first: 1) { pageInfo { hasNextPage } nodes { id } } all: exams(first: 0) { totalCount pageInfo { hasNextPage } } } } }", {}),
        ("cursors",
         "query($c: String) { exams(first: 2, after: $c, orderBy: [{field: STARTS_AT, direction: DESC}, {field: STATUS}, {field: PASS_MARK}], where: {slug: {endsWith: \"" + TAG + "\"}}) {"
         " pageInfo { startCursor hasNextPage endCursor } edges { cursor node { title } } } }", {"c": None}),
        ("cursors-backward",
         "{ users(last: 2, orderBy: [{field: CREATED_AT}, {field: ROLE, direction: DESC}], where: {exams: {some: {slug: {endsWith: \"" + TAG + "\"}}}}) {"
         " edges { node { name } cursor } pageInfo { endCursor startCursor hasPreviousPage } } }", {}),
        ("cursors-nested-empty",
         "{ courses(where: {slug: {eq: \"c-" + TAG + "\"}}) { nodes { students(first: 0) { pageInfo { startCursor endCursor } edges { cursor } }"
         " exams(orderBy: [{field: TITLE, direction: DESC}]) { edges { cursor } } } } }", {}),
        ("aggregate", "{ examsAggregate(where: {slug: {endsWith: \"" + TAG + "\"}}, groupBy: [STATUS]) { count } }", {}),
        ("api-version", "{ apiVersion }", {}),
        ("introspection", "{ __schema { queryType { name } } }", {}),
        ("order-by-hidden", "{ users(orderBy: [{field: EMAIL}], first: 2) { nodes { id } } }", {}),
        ("bad-first", "{ users(first: -1) { nodes { id } } }", {}),
        ("bad-variable", "query($n: Int!) { users(first: $n) { nodes { id } } }", {"n": "two"}),
        ("bad-field", "{ users { nodes { nope } } }", {}),
        ("bad-cursor", '{ users(after: "not-a-cursor") { nodes { id } } }', {}),
    ]  # fmt: skip


def test_compiled_answers_equal_graphql_core(
    apps: tuple[TestClient, TestClient, Spy], seeded: dict[str, Any]
) -> None:
    fast, slow, spy = apps
    on_pg = not fast.app.state.flowgen.db.is_sqlite  # type: ignore[attr-defined]
    mismatches, not_sql = [], []
    for name, query, variables in _corpus(seeded):
        for who, tok in _callers(seeded).items():
            expected = _post(slow, query, variables, tok)
            before = spy.by_sql
            got = _post(fast, query, variables, tok)
            if got != expected:
                mismatches.append(f"{name} as {who}:\n  core:     {expected}\n  compiled: {got}")
            if on_pg and who == "admin" and name in IN_SQL and spy.by_sql == before:
                not_sql.append(name)
    assert not mismatches, "\n".join(mismatches)
    assert not not_sql, f"expected one SQL statement for {not_sql}"
    if on_pg:  # a hidden field (User.email for a teacher) reads as null in SQL too
        before = spy.by_sql
        q = f"{{ user(id: {seeded['teacher']}) {{ name email }} }}"
        body = orjson.loads(_post(fast, q, {}, _callers(seeded)["teacher"])[1])
        assert body == {"data": {"user": {"name": "Tess", "email": None}}}
        assert spy.by_sql == before + 1
    if fast.app.state.flowgen.db.is_sqlite:  # type: ignore[attr-defined]
        # graphql-core runs everything: the executor is not even asked
        assert (spy.answered, spy.gave_way, spy.by_sql) == (0, 0, 0)
    else:  # both outcomes: one statement answered most requests, and gave way on errors
        assert spy.by_sql >= 20, spy.by_sql
        assert spy.answered == spy.by_sql
        assert spy.gave_way >= 4, (spy.answered, spy.gave_way)


def test_corpus_is_not_trivial(
    apps: tuple[TestClient, TestClient, Spy], seeded: dict[str, Any]
) -> None:
    """The comparison above means something: the answers carry data and errors."""
    fast, _, _ = apps
    corpus = {name: (q, v) for name, q, v in _corpus(seeded)}
    q, v = corpus["connection-all"]
    body = orjson.loads(_post(fast, q, v, ADMIN)[1])
    edges = body["data"]["exams"]["edges"]
    assert len(edges) == 3 and body["data"]["exams"]["pageInfo"]["hasNextPage"] is True
    assert all(len(e["node"]["questions"]["nodes"]) == 2 for e in edges)
    q, v = corpus["list-nested"]
    users = orjson.loads(_post(fast, q, v, token(seeded["teacher"], "teacher"))[1])["data"]
    tess = next(u for u in users["users"]["nodes"] if u["name"] == "Tess")
    assert [e["title"] for e in tess["exams"]["nodes"]] == ["Exam 0", "Exam 1"]
    q, v = corpus["order-by-hidden"]
    assert orjson.loads(_post(fast, q, v, token(seeded["teacher"], "teacher"))[1])["errors"]


def test_one_statement_serves_every_value_of_a_lifted_variable(
    apps: tuple[TestClient, TestClient, Spy],
    seeded: dict[str, Any],
    compiled: list[Any],
) -> None:
    """``user(id: $id)``: the statement is compiled once and bound per request; values
    the services refuse (not an id, out of range) and missing rows answer as graphql-core."""
    fast, slow, spy = apps
    q = f"query($id: ID!) {{ user(id: $id) {{ id name a{TAG}: role }} }}"
    ids = [seeded["teacher"], *seeded["students"], "999999999", "abc", "99999999999", "-1"]
    before = spy.by_sql
    for value in ids:
        assert _post(fast, q, {"id": value}, ADMIN) == _post(slow, q, {"id": value}, ADMIN), value
    if fast.app.state.flowgen.db.is_sqlite:  # type: ignore[attr-defined]
        return
    assert spy.by_sql - before == 6  # the four users, the missing one and -1
    assert len(compiled) == 1  # once; "abc" cannot bind, "99999999999" overflows: services


def test_a_bad_first_value_does_not_spoil_the_statement(
    apps: tuple[TestClient, TestClient, Spy], seeded: dict[str, Any]
) -> None:
    """The first request of a lookup brings a value the services refuse: it is answered
    by them, and the next request with a good value still gets the one-statement path."""
    fast, slow, spy = apps
    q = f"query($s: String!) {{ examBySlug(slug: $s) {{ title a{TAG}: id }} }}"
    for value in ["bad\x00slug", f"e0-{TAG}", f"e2-{TAG}"]:
        before = spy.by_sql
        assert _post(fast, q, {"s": value}, ADMIN) == _post(slow, q, {"s": value}, ADMIN)
        if not fast.app.state.flowgen.db.is_sqlite:  # type: ignore[attr-defined]
            assert spy.by_sql == before + (0 if "\x00" in value else 1), value


def test_callers_who_see_the_same_share_one_statement(
    apps: tuple[TestClient, TestClient, Spy],
    seeded: dict[str, Any],
    compiled: list[Any],
) -> None:
    """Statements are cached by what the caller may read, not by its token: two admins
    share one, and a teacher's renewed token reuses the teacher's."""
    fast, slow, _ = apps
    q = f'{{ exams(first: 3, where: {{slug: {{endsWith: "{TAG}"}}}}) {{ nodes {{ title }} }} }}'
    teacher = seeded["teacher"]
    callers = [
        token("1", "admin"), token("2", "admin", ttl=7200),
        token(teacher, "teacher"), token(teacher, "teacher", ttl=7200),
    ]  # fmt: skip
    for tok in callers:
        assert _post(fast, q, {}, tok) == _post(slow, q, {}, tok)
    if not fast.app.state.flowgen.db.is_sqlite:  # type: ignore[attr-defined]
        assert len(compiled) == 2  # the admins' statement, the teacher's


def _users_with(client: TestClient, email: str) -> int:
    q = "query($e: String!) { users(where: {email: {eq: $e}}) { totalCount } }"
    return int(
        orjson.loads(_post(client, q, {"e": email}, ADMIN)[1])["data"]["users"]["totalCount"]
    )


def test_mutations_run_once_and_report_errors_as_graphql_core(
    apps: tuple[TestClient, TestClient, Spy], seeded: dict[str, Any]
) -> None:
    """Mutations go to graphql-core, never to the executor: a failing one answers byte
    for byte the same on both apps (bad input, a conflict, a refusal), and a root field
    that already ran is never run again when a later one fails."""
    fast, slow, spy = apps
    taken = f"taken-{TAG}@x.io"
    create = "mutation($i: CreateUserInput!) { createUser(input: $i) { id email role } }"
    assert _post(slow, create, {"i": {"email": taken, "name": "T"}}, ADMIN)[0] == 200
    failing = [
        (create, {"i": {"email": "not-an-email", "name": ""}}, ADMIN),  # every field error
        (create, {"i": {"email": taken, "name": "Again"}}, ADMIN),  # unique violation
        (create, {"i": {"email": f"s-{TAG}@x.io", "name": "S"}}, _callers(seeded)["student"]),
        ('mutation { deleteUser(id: "999999999") { id } }', {}, ADMIN),  # no such row
    ]
    for query, variables, tok in failing:
        assert _post(fast, query, variables, tok) == _post(slow, query, variables, tok), query

    before = spy.answered
    ok = f"ok-{TAG}@x.io"
    status, body = _post(fast, create, {"i": {"email": ok, "name": "Ok"}}, ADMIN)
    assert status == 200 and orjson.loads(body)["data"]["createUser"]["email"] == ok
    assert spy.answered == before  # graphql-core ran it

    two = (
        "mutation($a: CreateUserInput!, $b: CreateUserInput!) {"
        " a: createUser(input: $a) { email } b: createUser(input: $b) { email } }"
    )
    first = f"first-{TAG}@x.io"
    variables = {"a": {"email": first, "name": "A"}, "b": {"email": taken, "name": "B"}}
    answer = orjson.loads(_post(fast, two, variables, ADMIN)[1])
    assert answer["data"] is None  # b is non-null: its error nulls the whole data, as always
    assert [e["path"] for e in answer["errors"]] == [["b"]]
    assert _users_with(fast, first) == 1  # a ran once (a second run would have conflicted)


def test_an_operation_compiles_once_per_skip_and_include_values(
    apps: tuple[TestClient, TestClient, Spy],
    seeded: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New variable values (a page size, a variable inside an input object) reuse the
    compiled operation; only ``@skip``/``@include`` values compile another one; a
    mutation compiles nothing. Every answer is still graphql-core's."""
    fast, slow, spy = apps
    compilations = _calls(monkeypatch, "compile_operation", 2)
    create = (
        "mutation($e: String!, $n: String!) {"
        f" createUser(input: {{email: $e, name: $n, role: STUDENT}}) {{ email name a{TAG}: role }} }}"
    )
    before = spy.answered
    for i in range(3):
        email = f"bound{i}-{TAG}@x.io"
        answer = orjson.loads(_post(fast, create, {"e": email, "n": f"B{i}"}, ADMIN)[1])
        assert answer == {
            "data": {"createUser": {"email": email, "name": f"B{i}", f"a{TAG}": "STUDENT"}}
        }
        assert _users_with(slow, email) == 1
    assert spy.answered == before  # graphql-core ran them
    assert compilations == []

    del compilations[:]
    query = (
        "query($n: Int!, $w: Boolean!) { users(first: $n, orderBy: [{field: ID}],"
        f' where: {{email: {{endsWith: "{TAG}@x.io"}}}}) {{ nodes {{ a{TAG}: email'
        " mentor @include(if: $w) { name } } } }"
    )
    for n, w in [(1, True), (2, True), (3, False), (1, False), (4, True)]:
        variables = {"n": n, "w": w}
        assert _post(fast, query, variables, ADMIN) == _post(slow, query, variables, ADMIN)
    on_pg = not fast.app.state.flowgen.db.is_sqlite  # type: ignore[attr-defined]
    assert len(compilations) == (2 if on_pg else 0)  # @include's two values


def test_a_result_that_breaks_the_schema_is_reported_without_writing_again(
    apps: tuple[TestClient, TestClient, Spy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write succeeded but its result breaks the schema (a null name): graphql-core
    reports the error with its path, and the write ran once."""
    fast, _, _ = apps
    users = REGISTRY.services["User"]
    calls: list[Any] = []
    create = users.create

    async def nameless(ctx: Any, data: Any) -> Any:
        calls.append(data)
        return {**await create(ctx, data), "name": None}

    monkeypatch.setattr(users, "create", nameless)
    email = f"nameless-{TAG}@x.io"
    q = "mutation($i: CreateUserInput!) { createUser(input: $i) { email name } }"
    answer = orjson.loads(_post(fast, q, {"i": {"email": email, "name": "N"}}, ADMIN)[1])
    assert answer["data"] is None
    assert [e["path"] for e in answer["errors"]] == [["createUser", "name"]]
    assert len(calls) == 1 and _users_with(fast, email) == 1
