"""The generated query API over HTTP on PostgreSQL: filters, ordering, pagination, lookups,
aggregates, nested and bulk writes, limits, and hostile input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .harness import App

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(pg_app: App) -> dict[str, Any]:
    """Two authors, five exams with questions, a course with students; unique slugs."""
    p = f"t{uuid.uuid4().hex[:6]}"
    users = [
        pg_app.data(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            {"i": {"email": f"{p}-{n}@x.io", "name": n, "role": role}},
        )["createUser"]["id"]
        for n, role in (("Ann", "TEACHER"), ("bob", "STUDENT"))
    ]
    specs = [
        ("alpha", "Algebra", "PUBLISHED", 30, 40.0, users[0]),
        ("beta", "Biology", "DRAFT", 60, 50.0, users[0]),
        ("gamma", "algorithms", "PUBLISHED", 90, 60.0, users[1]),
        ("delta", "Databases 100%", "ARCHIVED", 120, 70.5, users[1]),
        ("eps", "Ethics_101", "DRAFT", 45, 50.0, users[0]),
    ]
    exams = {}
    for slug, title, status, minutes, mark, author in specs:
        questions = [{"position": i, "prompt": f"{slug} q{i}", "points": i} for i in range(1, 4)]
        exams[slug] = pg_app.data(
            "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
            {"i": {"slug": f"{p}-{slug}", "title": title, "status": status, "durationMinutes": minutes,
                   "passMark": mark, "authorId": author, "questions": {"create": questions}}},
        )["createExam"]["id"]  # fmt: skip
    return {"p": p, "users": users, "exams": exams}


def slugs(app: App, where: dict[str, Any], p: str, order: str = "[{field: SLUG}]") -> list[str]:
    scoped = {"AND": [{"slug": {"startsWith": p}}, where]}
    body = app.data(
        f"query($w: ExamWhere) {{ exams(where: $w, orderBy: {order}, first: 100) {{ nodes {{ slug }} }} }}",
        {"w": scoped},
    )
    return [n["slug"].split("-", 1)[1] for n in body["exams"]["nodes"]]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"title": {"eq": "Algebra"}}, ["alpha"]),
        ({"title": {"ne": "Algebra"}}, ["beta", "delta", "eps", "gamma"]),
        ({"title": {"in": ["Algebra", "Biology"]}}, ["alpha", "beta"]),
        ({"title": {"notIn": ["Algebra", "Biology"]}}, ["delta", "eps", "gamma"]),
        ({"title": {"contains": "log"}}, ["beta"]),
        ({"title": {"contains": "ALG", "mode": "INSENSITIVE"}}, ["alpha", "gamma"]),
        ({"title": {"startsWith": "al"}}, ["gamma"]),
        ({"title": {"startsWith": "al", "mode": "INSENSITIVE"}}, ["alpha", "gamma"]),
        ({"title": {"endsWith": "100%"}}, ["delta"]),
        ({"title": {"contains": "%"}}, ["delta"]),
        ({"title": {"contains": "_"}}, ["eps"]),
        ({"title": {"eq": "algebra", "mode": "INSENSITIVE"}}, ["alpha"]),
        ({"title": {"in": ["ALGEBRA"], "mode": "INSENSITIVE"}}, ["alpha"]),
        ({"durationMinutes": {"lt": 45}}, ["alpha"]),
        ({"durationMinutes": {"lte": 45}}, ["alpha", "eps"]),
        ({"durationMinutes": {"gt": 90}}, ["delta"]),
        ({"durationMinutes": {"gte": 90, "lt": 120}}, ["gamma"]),
        ({"passMark": {"eq": 70.5}}, ["delta"]),
        ({"status": {"eq": "DRAFT"}}, ["beta", "eps"]),
        ({"status": {"in": ["ARCHIVED", "PUBLISHED"]}}, ["alpha", "delta", "gamma"]),
        ({"status": {"notIn": ["DRAFT"]}}, ["alpha", "delta", "gamma"]),
        ({"startsAt": {"isNull": True}}, ["alpha", "beta", "delta", "eps", "gamma"]),
        ({"startsAt": {"isNull": False}}, []),
        ({"courseId": {"isNull": True}, "status": {"eq": "DRAFT"}}, ["beta", "eps"]),
        (
            {"OR": [{"status": {"eq": "ARCHIVED"}}, {"durationMinutes": {"lt": 40}}]},
            ["alpha", "delta"],
        ),
        ({"NOT": {"status": {"eq": "DRAFT"}}}, ["alpha", "delta", "gamma"]),
        ({"AND": [{"passMark": {"gte": 50}}, {"passMark": {"lt": 60}}]}, ["beta", "eps"]),
        ({"author": {"name": {"eq": "bob"}}}, ["delta", "gamma"]),
        ({"author": {"role": {"eq": "TEACHER"}}}, ["alpha", "beta", "eps"]),
        (
            {"questions": {"some": {"points": {"gte": 3}}}},
            ["alpha", "beta", "delta", "eps", "gamma"],
        ),
        (
            {"questions": {"none": {"prompt": {"endsWith": "gamma q2"}}}},
            ["alpha", "beta", "delta", "eps"],
        ),
        (
            {"questions": {"every": {"points": {"lte": 3}}}},
            ["alpha", "beta", "delta", "eps", "gamma"],
        ),
        ({"questions": {"every": {"points": {"lte": 2}}}}, []),
    ],
)
def test_filter_operators(
    pg_app: App, world: dict[str, Any], where: dict[str, Any], expected: list[str]
) -> None:
    assert sorted(slugs(pg_app, where, world["p"])) == expected


def test_id_filters_and_lookups(pg_app: App, world: dict[str, Any]) -> None:
    p, exams = world["p"], world["exams"]
    assert slugs(pg_app, {"id": {"in": [exams["beta"], exams["gamma"]]}}, p) == ["beta", "gamma"]
    assert slugs(pg_app, {"authorId": {"eq": world["users"][1]}}, p) == ["delta", "gamma"]
    got = pg_app.data(
        "query($s: String!) { examBySlug(slug: $s) { id title } }", {"s": f"{p}-beta"}
    )
    assert got["examBySlug"] == {"id": exams["beta"], "title": "Biology"}
    q = pg_app.data(
        "query($e: ID!) { questionByExamIdAndPosition(examId: $e, position: 2) { prompt } }",
        {"e": exams["beta"]},
    )
    assert q["questionByExamIdAndPosition"] == {"prompt": "beta q2"}
    assert pg_app.data('{ examBySlug(slug: "no-such-exam") { id } }')["examBySlug"] is None


def test_ordering_is_multi_field_and_stable(pg_app: App, world: dict[str, Any]) -> None:
    p = world["p"]
    order = "[{field: PASS_MARK, direction: DESC}, {field: TITLE}]"
    assert slugs(pg_app, {}, p, order) == ["delta", "gamma", "beta", "eps", "alpha"]
    assert slugs(pg_app, {}, p, "[{field: STATUS}, {field: DURATION_MINUTES, direction: DESC}]") == [
        "beta", "eps", "gamma", "alpha", "delta",
    ]  # fmt: skip


def _page(app: App, p: str, args: str) -> dict[str, Any]:
    q = (
        "query($w: ExamWhere) { exams(where: $w, orderBy: [{field: SLUG}], " + args + ") "
        "{ totalCount edges { cursor node { slug } } "
        "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    page: dict[str, Any] = app.data(q, {"w": {"slug": {"startsWith": p}}})["exams"]
    page["slugs"] = [e["node"]["slug"].split("-", 1)[1] for e in page["edges"]]
    return page


def test_cursor_pagination_forward_backward_and_edges(pg_app: App, world: dict[str, Any]) -> None:
    p = world["p"]
    first = _page(pg_app, p, "first: 2")
    assert first["slugs"] == ["alpha", "beta"] and first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = _page(pg_app, p, f'first: 2, after: "{first["pageInfo"]["endCursor"]}"')
    assert second["slugs"] == ["delta", "eps"] and second["pageInfo"]["hasPreviousPage"]
    last = _page(pg_app, p, f'first: 2, after: "{second["pageInfo"]["endCursor"]}"')
    assert last["slugs"] == ["gamma"] and not last["pageInfo"]["hasNextPage"]
    beyond = _page(pg_app, p, f'first: 2, after: "{last["pageInfo"]["endCursor"]}"')
    assert beyond["slugs"] == [] and beyond["pageInfo"]["startCursor"] is None

    tail = _page(pg_app, p, "last: 2")
    assert tail["slugs"] == ["eps", "gamma"] and tail["pageInfo"]["hasPreviousPage"]
    before = _page(pg_app, p, f'last: 2, before: "{tail["pageInfo"]["startCursor"]}"')
    assert before["slugs"] == ["beta", "delta"]
    assert _page(pg_app, p, "first: 0")["slugs"] == []

    # a cursor survives inserts before it: the next page neither repeats nor skips rows
    pg_app.data(
        "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
        {"i": {"slug": f"{p}-aaa", "title": "Inserted", "authorId": world["users"][0]}},
    )
    again = _page(pg_app, p, f'first: 2, after: "{first["pageInfo"]["endCursor"]}"')
    assert again["slugs"] == ["delta", "eps"]
    pg_app.data(
        "mutation($w: ExamWhere!) { deleteExams(where: $w) { count } }",
        {"w": {"slug": {"eq": f"{p}-aaa"}}},
    )


def test_relation_connections_take_the_same_arguments(pg_app: App, world: dict[str, Any]) -> None:
    q = pg_app.data(
        "query($id: ID!) { exam(id: $id) { questions(where: {points: {gte: 2}}, orderBy: [{field: POSITION, direction: DESC}], first: 1) "
        "{ totalCount nodes { position } pageInfo { hasNextPage } } } }",
        {"id": world["exams"]["alpha"]},
    )["exam"]["questions"]
    assert q == {"totalCount": 2, "nodes": [{"position": 3}], "pageInfo": {"hasNextPage": True}}
    user = pg_app.data(
        "query($id: ID!) { user(id: $id) { exams(where: {status: {eq: DRAFT}}, orderBy: [{field: SLUG}]) { nodes { title } } } }",
        {"id": world["users"][0]},
    )["user"]
    assert [n["title"] for n in user["exams"]["nodes"]] == ["Biology", "Ethics_101"]


def test_aggregates_with_group_by_and_where(pg_app: App, world: dict[str, Any]) -> None:
    w = {"slug": {"startsWith": world["p"]}}
    total = pg_app.data(
        "query($w: ExamWhere) { examsAggregate(where: $w) { count sum { durationMinutes } avg { passMark } min { passMark } max { durationMinutes } } }",
        {"w": w},
    )["examsAggregate"]
    assert total == [
        {
            "count": 5,
            "sum": {"durationMinutes": 345.0},
            "avg": {"passMark": 54.1},
            "min": {"passMark": 40.0},
            "max": {"durationMinutes": 120.0},
        }
    ]
    groups = pg_app.data(
        "query($w: ExamWhere) { examsAggregate(where: $w, groupBy: [STATUS]) { count group { status } sum { durationMinutes } } }",
        {"w": w},
    )["examsAggregate"]
    assert groups == [
        {"count": 2, "group": {"status": "DRAFT"}, "sum": {"durationMinutes": 105.0}},
        {"count": 2, "group": {"status": "PUBLISHED"}, "sum": {"durationMinutes": 120.0}},
        {"count": 1, "group": {"status": "ARCHIVED"}, "sum": {"durationMinutes": 120.0}},
    ]
    # an entity with no numeric field: the count must still come FROM its table (regression)
    users = pg_app.data(
        "query($p: String) { usersAggregate(where: {email: {startsWith: $p}}) { count } }",
        {"p": world["p"]},
    )["usersAggregate"]
    assert users == [{"count": 2}]


def test_nested_write_connect_disconnect_and_rollback(pg_app: App, world: dict[str, Any]) -> None:
    p, users = world["p"], world["users"]
    course = pg_app.data(
        "mutation($i: CreateCourseInput!) { createCourse(input: $i) { id students { nodes { name } } } }",
        {"i": {"slug": f"{p}-course", "title": "Course", "students": {"connect": users}}},
    )["createCourse"]
    assert sorted(n["name"] for n in course["students"]["nodes"]) == ["Ann", "bob"]
    after = pg_app.data(
        "mutation($id: ID!, $i: UpdateCourseInput!) { updateCourse(id: $id, input: $i) { students { nodes { name } } } }",
        {"id": course["id"], "i": {"students": {"disconnect": [users[0]]}}},
    )["updateCourse"]
    assert after["students"]["nodes"] == [{"name": "bob"}]
    moved = pg_app.data(
        "mutation($id: ID!, $i: UpdateCourseInput!) { updateCourse(id: $id, input: $i) { exams { nodes { title } } } }",
        {"id": course["id"], "i": {"exams": {"connect": [world["exams"]["alpha"]]}}},
    )["updateCourse"]
    assert moved["exams"]["nodes"] == [{"title": "Algebra"}]

    # duplicate question position violates UNIQUE(exam_id, position): nothing is written
    bad = pg_app.gql(
        "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
        {"i": {"slug": f"{p}-rollback", "title": "Rollback", "authorId": users[0],
               "questions": {"create": [{"position": 1, "prompt": "a"}, {"position": 1, "prompt": "b"}]}}},
    )  # fmt: skip
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert bad["errors"][0]["extensions"]["errors"][0]["path"][:4] == [
        "input",
        "questions",
        "create",
        1,
    ]
    assert (
        pg_app.data("query($s: String!) { examBySlug(slug: $s) { id } }", {"s": f"{p}-rollback"})[
            "examBySlug"
        ]
        is None
    )
    unknown = pg_app.gql(
        'mutation($id: ID!) { updateCourse(id: $id, input: {students: {connect: ["999999"]}}) { id } }',
        {"id": course["id"]},
    )
    assert unknown["errors"][0]["extensions"]["errors"] == [
        {"path": ["input", "students", "connect", 0], "message": "no User with id 999999"}
    ]


def test_bulk_and_upsert(pg_app: App, world: dict[str, Any]) -> None:
    p, author = world["p"], world["users"][0]
    made = pg_app.data(
        "mutation($i: [CreateExamInput!]!) { createExams(inputs: $i) { slug } }",
        {
            "i": [
                {"slug": f"{p}-bulk{i}", "title": f"Bulk {i}", "authorId": author} for i in range(3)
            ]
        },
    )["createExams"]
    assert len(made) == 3
    bad = pg_app.gql(
        "mutation($i: [CreateExamInput!]!) { createExams(inputs: $i) { slug } }",
        {
            "i": [
                {"slug": f"{p}-bulk9", "title": "Fine", "authorId": author},
                {"slug": f"{p}-bulk8", "title": "x", "authorId": author},
            ]
        },
    )
    assert bad["errors"][0]["extensions"]["errors"][0]["path"] == ["inputs", 1, "title"]
    assert (
        pg_app.data("query($s: String!) { examBySlug(slug: $s) { id } }", {"s": f"{p}-bulk9"})[
            "examBySlug"
        ]
        is None
    )
    bulk_where = {"slug": {"startsWith": f"{p}-bulk"}}
    count = pg_app.data(
        "mutation($w: ExamWhere!) { updateExams(where: $w, input: {status: ARCHIVED}) { count } }",
        {"w": bulk_where},
    )["updateExams"]["count"]
    assert count == 3
    assert slugs(pg_app, {"status": {"eq": "ARCHIVED"}}, p) == ["bulk0", "bulk1", "bulk2", "delta"]
    up = "mutation($i: CreateExamInput!) { upsertExamBySlug(input: $i) { id title durationMinutes } }"
    first = pg_app.data(up, {"i": {"slug": f"{p}-up", "title": "Upsert", "authorId": author}})[
        "upsertExamBySlug"
    ]
    second = pg_app.data(
        up,
        {"i": {"slug": f"{p}-up", "title": "Upserted", "authorId": author, "durationMinutes": 5}},
    )["upsertExamBySlug"]
    assert second == {"id": first["id"], "title": "Upserted", "durationMinutes": 5}
    deleted = pg_app.data(
        "mutation($w: ExamWhere!) { deleteExams(where: $w) { count } }", {"w": bulk_where}
    )
    assert deleted["deleteExams"]["count"] == 3


def test_limits_refuse_abusive_queries_before_execution(pg_app: App) -> None:
    deep = "{ users { nodes { mentor { mentor { mentor { mentor { mentor { mentor { mentor { mentor { mentor { mentor { mentor { mentor { mentor { mentor { id } } } } } } } } } } } } } } } } }"
    body = pg_app.gql(deep)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP" and "data" not in body
    costly = "{ users(first: 100) { nodes { exams(first: 100) { nodes { questions(first: 100) { nodes { id prompt } } } } } } }"
    body = pg_app.gql(costly)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY" and "data" not in body


HOSTILE = [
    "{ users { nodes { id }",  # malformed
    '{ exam(id: "1 OR 1=1") { id } }',
    "{ exam(id: 1) { noSuchField } }",
    '{ exams(where: {durationMinutes: {eq: "ten"}}) { nodes { id } } }',
    "{ exams(first: 1000000) { nodes { id } } }",
    "{ exams(first: -1) { nodes { id } } }",
    '{ exams(after: "not-a-cursor") { nodes { id } } }',
    '{ exams(after: "eyJvIjpbXSwidiI6W119") { nodes { id } } }',
    "{ exams(first: 1, last: 1) { nodes { id } } }",
    '{ examsAggregate(where: {startsAt: {gt: "yesterday"}}) { count } }',
]
INJECTIONS = ["'; DROP TABLE exams; --", "%", "_", "\\", "' OR '1'='1", "\x00", "ñ😀", "a" * 5000]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_get_clean_errors(pg_app: App, query: str) -> None:
    body = pg_app.gql(query)
    assert body.get("errors"), body
    text = str(body)
    assert "Traceback" not in text and "INTERNAL_SERVER_ERROR" not in text and "SELECT" not in text


TITLES = ["Algebra", "Biology", "algorithms", "Databases 100%", "Ethics_101"]
_MATCH = {
    "eq": lambda t, v: t == v,
    "contains": lambda t, v: v in t,
    "startsWith": lambda t, v: t.startswith(v),
    "endsWith": lambda t, v: t.endswith(v),
    "in": lambda t, v: t == v,
}


@pytest.mark.parametrize("op", list(_MATCH))
@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_strings_are_only_data(
    pg_app: App, world: dict[str, Any], op: str, value: str
) -> None:
    arg = [value] if op == "in" else value
    where = {"slug": {"startsWith": world["p"]}, "title": {op: arg}}
    body = pg_app.gql("query($w: ExamWhere) { exams(where: $w) { totalCount } }", {"w": where})
    if "\x00" in value:  # PostgreSQL cannot store NUL: refused as input, never a 500
        assert (
            body["errors"][0]["extensions"]["errors"][0]["message"]
            == "must not contain NUL characters"
        )
        return
    assert body.get("errors") is None, body
    assert body["data"]["exams"]["totalCount"] == sum(_MATCH[op](t, value) for t in TITLES)
