"""The permission matrix of the example app over HTTP (PostgreSQL + Redis, real processes):
every role x operation x own/other rows, counts, aggregates, relations, filters on hidden
fields, cached results after another caller warmed the cache, and job status."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .harness import ADMIN, App, token

pytestmark = pytest.mark.e2e


def create(app: App, entity: str, data: dict[str, Any], fields: str = "id") -> dict[str, Any]:
    q = f"mutation($i: Create{entity}Input!) {{ create{entity}(input: $i) {{ {fields} }} }}"
    result: dict[str, Any] = app.data(q, {"i": data})[f"create{entity}"]
    return result


@pytest.fixture(scope="module")
def w(pg_app: App) -> dict[str, Any]:
    """Two teachers, two students (one enrolled), courses, exams, questions."""
    p = f"p{uuid.uuid4().hex[:6]}"
    ids = {
        n: create(pg_app, "User", {"email": f"{p}-{n}@x.io", "name": n, "role": role})["id"]
        for n, role in (("t1", "TEACHER"), ("t2", "TEACHER"), ("s1", "STUDENT"), ("s2", "STUDENT"))
    }
    c1 = create(
        pg_app,
        "Course",
        {
            "slug": f"{p}-c1",
            "title": "Course one",
            "published": True,
            "students": {"connect": [ids["s1"]]},
        },
    )["id"]
    c2 = create(pg_app, "Course", {"slug": f"{p}-c2", "title": "Course two", "published": False})[
        "id"
    ]
    exams = {
        name: create(
            pg_app,
            "Exam",
            {
                "slug": f"{p}-{name}",
                "title": name.upper() + " exam",
                "status": status,
                "authorId": ids[author],
                "courseId": course,
                "durationMinutes": minutes,
            },
        )["id"]  # fmt: skip
        for name, status, author, course, minutes in (
            ("e1", "PUBLISHED", "t1", c1, 30),
            ("e2", "DRAFT", "t1", c1, 60),
            ("e3", "PUBLISHED", "t2", c2, 90),
        )  # fmt: skip
    }
    q1 = create(
        pg_app,
        "Question",
        {"examId": exams["e1"], "position": 1, "prompt": "2+2?", "answerKey": "4"},
    )["id"]
    tokens = {n: token(ids[n], "teacher" if n.startswith("t") else "student") for n in ids}
    return {"p": p, "ids": ids, "exams": exams, "q1": q1, "c1": c1, "tokens": tokens}


def visible_exams(app: App, w: dict[str, Any], who: str | None) -> tuple[list[str], int, int]:
    q = """query($w: ExamWhere) { exams(where: $w, orderBy: [{field: SLUG}]) { totalCount nodes { slug } }
                                  examsAggregate(where: $w) { count } }"""
    data = app.data(
        q,
        {"w": {"slug": {"startsWith": w["p"]}}},
        as_=w["tokens"].get(who, ADMIN if who == "admin" else None),
    )
    slugs = [n["slug"].split("-", 1)[1] for n in data["exams"]["nodes"]]
    return slugs, data["exams"]["totalCount"], data["examsAggregate"][0]["count"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", ["e1", "e2", "e3"]),
        ("t1", ["e1", "e2", "e3"]),  # own exams and published ones
        ("t2", ["e1", "e3"]),  # e2 is t1's draft
        ("s1", ["e1"]),  # published, in a course s1 is enrolled in
        ("s2", []),
    ],
)
def test_row_rules_apply_to_lists_counts_and_aggregates(
    pg_app: App, w: dict[str, Any], who: str, expected: list[str]
) -> None:
    slugs, total, count = visible_exams(pg_app, w, who)
    assert slugs == expected and total == len(expected) and count == len(expected)


def test_anonymous_callers_get_unauthenticated_and_see_only_public_rows(
    pg_app: App, w: dict[str, Any]
) -> None:
    body = pg_app.gql("{ exams { totalCount } }", as_=None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    courses = pg_app.data("query($p: String) { courses(where: {slug: {startsWith: $p}}) { nodes { title } } }",
                          {"p": w["p"]}, as_=None)["courses"]["nodes"]  # fmt: skip
    assert courses == [{"title": "Course one"}]  # the unpublished course is not public
    bad = httpx.post(
        f"{pg_app.url}/graphql",
        json={"query": "{ apiVersion }"},
        headers={"authorization": "Bearer nope"},
    )
    assert (
        bad.status_code == 401
        and bad.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    )


def test_unreadable_rows_look_missing_everywhere(pg_app: App, w: dict[str, Any]) -> None:
    s2, e1 = w["tokens"]["s2"], w["exams"]["e1"]
    assert (
        pg_app.data("query($id: ID!) { exam(id: $id) { id } }", {"id": e1}, as_=s2)["exam"] is None
    )
    slug = f"{w['p']}-e1"
    assert (
        pg_app.data("query($s: String!) { examBySlug(slug: $s) { id } }", {"s": slug}, as_=s2)[
            "examBySlug"
        ]
        is None
    )
    # through a relation: s2 reads t1 (users are readable) but none of t1's exams
    t1 = pg_app.data(
        "query($id: ID!) { user(id: $id) { name exams { totalCount } } }",
        {"id": w["ids"]["t1"]},
        as_=s2,
    )
    assert t1["user"] == {"name": "t1", "exams": {"totalCount": 0}}
    # through a filter on a relation: cannot count t1's questions by their prompt
    q = 'query($p: String) { users(where: {email: {startsWith: $p}, exams: {some: {title: {startsWith: "E"}}}}) { totalCount } }'
    body = pg_app.gql(q, {"p": w["p"]}, as_=s2)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # email is hidden from students
    q = 'query($p: String) { users(where: {name: {startsWith: "t"}, exams: {some: {slug: {startsWith: $p}}}}) { totalCount } }'
    assert pg_app.data(q, {"p": w["p"]}, as_=s2)["users"]["totalCount"] == 0
    assert (
        pg_app.data(q, {"p": w["p"]}, as_=w["tokens"]["s1"])["users"]["totalCount"] == 1
    )  # t1, via e1


def test_hidden_fields_read_as_null_and_cannot_be_filtered(pg_app: App, w: dict[str, Any]) -> None:
    q = "query($id: ID!) { question(id: $id) { prompt answerKey } }"
    assert pg_app.data(q, {"id": w["q1"]}, as_=w["tokens"]["s1"])["question"] == {
        "prompt": "2+2?",
        "answerKey": None,
    }
    assert pg_app.data(q, {"id": w["q1"]}, as_=w["tokens"]["t1"])["question"] == {
        "prompt": "2+2?",
        "answerKey": "4",
    }
    leak = pg_app.gql(
        "{ questions(where: {answerKey: {isNull: false}}) { totalCount } }", as_=w["tokens"]["s1"]
    )
    assert leak["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    u = "query($id: ID!) { user(id: $id) { email } }"
    assert pg_app.data(u, {"id": w["ids"]["s1"]}, as_=w["tokens"]["t1"])["user"]["email"] is None
    assert pg_app.data(u, {"id": w["ids"]["s1"]})["user"]["email"].endswith("-s1@x.io")  # admin


def test_cached_results_never_cross_callers(pg_app: App, w: dict[str, Any]) -> None:
    for _ in range(2):  # t1 warms the cache (entity reads and whole responses) ...
        assert visible_exams(pg_app, w, "t1")[0] == ["e1", "e2", "e3"]
    assert visible_exams(pg_app, w, "t2")[0] == ["e1", "e3"]  # ... t2 still sees only its rows
    assert visible_exams(pg_app, w, "s2")[0] == []


def test_writes_check_the_rule_before_and_after(pg_app: App, w: dict[str, Any]) -> None:
    t1, t2, s1 = (w["tokens"][n] for n in ("t1", "t2", "s1"))
    e1, e2 = w["exams"]["e1"], w["exams"]["e2"]
    upd = "mutation($id: ID!, $i: UpdateExamInput!) { updateExam(id: $id, input: $i) { title } }"
    assert (
        pg_app.data(upd, {"id": e1, "i": {"title": "E1 renamed"}}, as_=t1)["updateExam"]["title"]
        == "E1 renamed"
    )
    codes = {
        "t2 on a readable exam of t1": pg_app.gql(upd, {"id": e1, "i": {"title": "Nope"}}, as_=t2),
        "t2 on a draft it cannot read": pg_app.gql(upd, {"id": e2, "i": {"title": "Nope"}}, as_=t2),
        "a student": pg_app.gql(upd, {"id": e1, "i": {"title": "Nope"}}, as_=s1),
        "t1 giving its exam away": pg_app.gql(
            upd, {"id": e1, "i": {"authorId": w["ids"]["t2"]}}, as_=t1
        ),
        "anonymous": pg_app.gql(upd, {"id": e1, "i": {"title": "Nope"}}, as_=None),
    }
    assert {k: v["errors"][0]["extensions"]["code"] for k, v in codes.items()} == {
        "t2 on a readable exam of t1": "FORBIDDEN",
        "t2 on a draft it cannot read": "NOT_FOUND",
        "a student": "FORBIDDEN",
        "t1 giving its exam away": "FORBIDDEN",
        "anonymous": "UNAUTHENTICATED",
    }
    mine = pg_app.data("mutation($i: CreateExamInput!) { createExam(input: $i) { id authorId } }",
                       {"i": {"slug": f"{w['p']}-mine", "title": "Mine exam"}}, as_=t1)["createExam"]  # fmt: skip
    assert mine["authorId"] == w["ids"]["t1"]  # preset from the token
    forged = pg_app.gql("mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
                        {"i": {"slug": f"{w['p']}-forged", "title": "Forged", "authorId": w["ids"]["t2"]}}, as_=t1)  # fmt: skip
    assert forged["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bulk = pg_app.data("mutation($w: ExamWhere!) { updateExams(where: $w, input: {durationMinutes: 15}) { count } }",
                       {"w": {"slug": {"startsWith": w["p"]}}}, as_=t2)  # fmt: skip
    assert bulk["updateExams"]["count"] == 1  # only its own exam e3
    gone = pg_app.gql(
        "mutation($id: ID!) { deleteExam(id: $id) { id } }", {"id": mine["id"]}, as_=t2
    )
    assert (
        gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    )  # a draft of t1: unreadable for t2
    assert pg_app.data(
        "mutation($id: ID!) { deleteExam(id: $id) { id } }", {"id": mine["id"]}, as_=t1
    )


def test_self_service_profile_with_readonly_role(pg_app: App, w: dict[str, Any]) -> None:
    s1, me, other = w["tokens"]["s1"], w["ids"]["s1"], w["ids"]["t1"]
    upd = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { name } }"
    assert pg_app.data(upd, {"id": me, "i": {"bio": "hello"}}, as_=s1)["updateUser"]["name"] == "s1"
    assert (
        pg_app.gql(upd, {"id": me, "i": {"role": "ADMIN"}}, as_=s1)["errors"][0]["extensions"][
            "code"
        ]
        == "FORBIDDEN"
    )
    assert (
        pg_app.gql(upd, {"id": other, "i": {"bio": "x"}}, as_=s1)["errors"][0]["extensions"]["code"]
        == "FORBIDDEN"
    )


def test_queued_mutation_and_job_status_are_per_caller(pg_app: App, w: dict[str, Any]) -> None:
    s1, s2, t1 = (w["tokens"][n] for n in ("s1", "s2", "t1"))
    sub = "mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }"
    forged = pg_app.gql(
        sub, {"i": {"examId": w["exams"]["e1"], "studentId": w["ids"]["s2"], "answers": {}}}, as_=s1
    )
    assert forged["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ref = pg_app.data(sub, {"i": {"examId": w["exams"]["e1"], "answers": {"q1": "4"}}}, as_=s1)[
        "createSubmission"
    ]
    status = 'query($id: ID!) { jobStatus(queue: "exam", id: $id) { state result } }'
    done = pg_app.wait_job("exam", ref["id"])  # as admin: sees every job
    assert done["state"] == "completed" and done["result"]["student_id"] == int(w["ids"]["s1"])
    assert pg_app.data(status, {"id": ref["id"]}, as_=s1)["jobStatus"]["state"] == "completed"
    assert pg_app.data(status, {"id": ref["id"]}, as_=s2)["jobStatus"] is None  # not s2's job
    grade = "mutation($i: GradeSubmissionInput!) { enqueueGradeSubmission(input: $i) { id } }"
    assert (
        pg_app.gql(grade, {"i": {"submissionId": 1}}, as_=s1)["errors"][0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    assert pg_app.data(grade, {"i": {"submissionId": 1}}, as_=t1)["enqueueGradeSubmission"]["id"]
    mine = (
        "query($p: String) { submissions(where: {exam: {slug: {startsWith: $p}}}) { totalCount } }"
    )
    assert pg_app.data(mine, {"p": w["p"]}, as_=s1)["submissions"]["totalCount"] == 1
    assert pg_app.data(mine, {"p": w["p"]}, as_=s2)["submissions"]["totalCount"] == 0
