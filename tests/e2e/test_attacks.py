"""An attacker's view of the example app over HTTP (PostgreSQL + Redis, real server and
worker processes): one test per class of attack found in issue #15, each of which
succeeded before the fix. See ``docs/threat-model.md``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from .harness import JWT_SECRET, App, token

pytestmark = pytest.mark.e2e


def create(app: App, entity: str, data: dict[str, Any], fields: str = "id") -> dict[str, Any]:
    q = f"mutation($i: Create{entity}Input!) {{ create{entity}(input: $i) {{ {fields} }} }}"
    result: dict[str, Any] = app.data(q, {"i": data})[f"create{entity}"]
    return result


def code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


@pytest.fixture(scope="module")
def w(pg_app: App) -> dict[str, Any]:
    """Two teachers, two students (s1 enrolled in c1), exams, a submission, videos."""
    p = f"a{uuid.uuid4().hex[:6]}"
    roles = (("t1", "TEACHER"), ("t2", "TEACHER"), ("s1", "STUDENT"), ("s2", "STUDENT"))
    ids = {
        n: create(pg_app, "User", {"email": f"{p}-{n}@x.io", "name": n, "role": role})["id"]
        for n, role in roles
    }
    c1 = create(pg_app, "Course", {"slug": f"{p}-c1", "title": "Course one", "published": True,
                                   "students": {"connect": [ids["s1"]]}})["id"]  # fmt: skip
    c2 = create(pg_app, "Course", {"slug": f"{p}-c2", "title": "Course two"})["id"]
    exams = {
        name: create(
            pg_app,
            "Exam",
            {
                "slug": f"{p}-{name}",
                "title": f"{name} exam",
                "status": "PUBLISHED",
                "authorId": ids[author],
                "courseId": course,
            },
        )["id"]  # fmt: skip
        for name, author, course in (("e1", "t1", c1), ("e3", "t2", c2))
    }
    create(pg_app, "Question", {"examId": exams["e1"], "position": 1, "prompt": "2+2?",
                                "answerKey": "4"})  # fmt: skip
    tokens = {n: token(ids[n], "teacher" if n.startswith("t") else "student") for n in ids}
    sub = pg_app.data(
        "mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }",
        {"i": {"examId": exams["e1"], "answers": {"q1": "4"}}},
        as_=tokens["s1"],
    )["createSubmission"]
    submission = pg_app.wait_job("exam", sub["id"])["result"]["id"]
    graded = "query($id: ID!) { submission(id: $id) { status } }"
    for _ in range(100):  # the example grades every new submission (extensions/submission.py)
        if pg_app.data(graded, {"id": submission})["submission"]["status"] == "GRADED":
            break
        time.sleep(0.1)
    video = pg_app.data(  # by t1 itself: the grant presets the owner from the token
        "mutation($i: CreateVideoInput!) { createVideo(input: $i) { id } }",
        {"i": {"title": "v", "sourceUrl": "s3://v", "sizeBytes": 1}},
        as_=tokens["t1"],
    )["createVideo"]["id"]
    return {"p": p, "ids": ids, "exams": exams, "c1": c1, "c2": c2, "tokens": tokens,
            "submission": submission, "video": video}  # fmt: skip


def enqueue(app: App, job: str, data: dict[str, Any], who: str) -> str:
    name = "".join(part.title() for part in job.split("_"))
    q = f"mutation($i: {name}Input!) {{ enqueue{name}(input: $i) {{ id }} }}"
    return str(app.data(q, {"i": data}, as_=who)[f"enqueue{name}"]["id"])


# -- 1. jobs act as the caller who enqueued them ---------------------------------------------


def test_a_job_cannot_read_what_its_caller_cannot(pg_app: App, w: dict[str, Any]) -> None:
    s1, t1 = w["tokens"]["s1"], w["ids"]["t1"]
    other = pg_app.wait_job("user", enqueue(pg_app, "send_welcome_email", {"userId": int(t1)}, s1))
    assert other["state"] == "failed" and other["result"] is None
    assert "yourself" in other["failedReason"]
    own = pg_app.wait_job(
        "user", enqueue(pg_app, "send_welcome_email", {"userId": int(w["ids"]["s1"])}, s1)
    )
    assert own["state"] == "completed" and "@" not in str(own["result"])  # never the address


def test_a_job_cannot_write_what_its_caller_cannot(pg_app: App, w: dict[str, Any]) -> None:
    t1, t2, s1 = (w["tokens"][n] for n in ("t1", "t2", "s1"))
    grade = pg_app.wait_job(
        "exam", enqueue(pg_app, "grade_submission", {"submissionId": w["submission"]}, t2)
    )
    assert grade["state"] == "failed"  # t2 cannot read t1's exam's submissions
    score = "query($id: ID!) { submission(id: $id) { status score graded_at: gradedAt } }"
    before = pg_app.data(score, {"id": w["submission"]})["submission"]
    assert before["status"] == "GRADED"  # by the example's own hook, as the system
    t2_again = pg_app.wait_job(
        "exam", enqueue(pg_app, "grade_submission", {"submissionId": w["submission"]}, t2)
    )
    assert t2_again["state"] == "failed"
    assert pg_app.data(score, {"id": w["submission"]})["submission"] == before  # untouched
    thumb = pg_app.wait_job(
        "video", enqueue(pg_app, "generate_thumbnail", {"videoId": w["video"]}, s1)
    )
    assert thumb["state"] == "failed"
    v = pg_app.data("query($id: ID!) { video(id: $id) { thumbnailUrl } }", {"id": w["video"]})
    assert v["video"]["thumbnailUrl"] is None
    # the exam's author may grade it: read as the caller, graded as the system
    own = pg_app.wait_job(
        "exam", enqueue(pg_app, "grade_submission", {"submissionId": w["submission"]}, t1)
    )
    assert own["state"] == "completed", own
    after = pg_app.data(score, {"id": w["submission"]})["submission"]
    assert (after["status"], after["score"]) == ("GRADED", 100.0)
    assert after["graded_at"] > before["graded_at"]  # graded again, by its author's job


# -- 2. a queued write is the inline write, run later ----------------------------------------


def test_a_queued_update_checks_the_rule_after_the_write(pg_app: App, w: dict[str, Any]) -> None:
    upd = "mutation($id: ID!, $i: UpdateVideoInput!) { updateVideo(id: $id, input: $i) { id } }"
    ref = pg_app.data(upd, {"id": w["video"], "i": {"ownerId": w["ids"]["t2"]}},
                      as_=w["tokens"]["t1"])["updateVideo"]  # fmt: skip
    done = pg_app.wait_job("video", ref["id"])
    assert done["state"] == "failed" and "out of your reach" in done["failedReason"]
    owner = pg_app.data("query($id: ID!) { video(id: $id) { ownerId } }", {"id": w["video"]})
    assert owner["video"]["ownerId"] == w["ids"]["t1"]


def test_a_queued_create_cannot_refer_to_an_unreadable_row(pg_app: App, w: dict[str, Any]) -> None:
    sub = "mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }"
    body = pg_app.gql(sub, {"i": {"examId": w["exams"]["e3"], "answers": {}}},
                      as_=w["tokens"]["s1"])  # fmt: skip
    assert code(body) == "BAD_USER_INPUT"  # as if e3 did not exist: s1 cannot read it
    assert body["errors"][0]["extensions"]["errors"][0]["path"] == ["input", "examId"]


def test_students_cannot_set_their_own_score(pg_app: App, w: dict[str, Any]) -> None:
    sub = "mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }"
    body = pg_app.gql(sub, {"i": {"examId": w["exams"]["e1"], "answers": {}, "score": 100}},
                      as_=w["tokens"]["s1"])  # fmt: skip
    assert code(body) == "FORBIDDEN"


def test_nested_writes_honour_a_queued_target(pg_app: App, w: dict[str, Any]) -> None:
    upd = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }"
    nested = {"submissions": {"create": [{"examId": w["exams"]["e1"], "answers": {},
                                          "score": 100, "status": "GRADED"}]}}  # fmt: skip
    body = pg_app.gql(upd, {"id": w["ids"]["s1"], "i": nested}, as_=w["tokens"]["s1"])
    assert code(body) == "BAD_USER_INPUT"
    assert "queued" in body["errors"][0]["extensions"]["errors"][0]["message"]


def test_a_teacher_can_upsert_its_exam(pg_app: App, w: dict[str, Any]) -> None:
    t1 = w["tokens"]["t1"]
    up = "mutation($i: CreateExamInput!) { upsertExamBySlug(input: $i) { title authorId } }"
    i = {"slug": f"{w['p']}-up", "title": "Upserted"}
    assert pg_app.data(up, {"i": i}, as_=t1)["upsertExamBySlug"]["authorId"] == w["ids"]["t1"]
    i["title"] = "Upserted again"
    assert pg_app.data(up, {"i": i}, as_=t1)["upsertExamBySlug"]["title"] == "Upserted again"
    assert code(pg_app.gql(up, {"i": i}, as_=w["tokens"]["t2"])) == "FORBIDDEN"


# -- 3. relations and lookups ------------------------------------------------------------------


def test_a_student_cannot_enrol_itself(pg_app: App, w: dict[str, Any]) -> None:
    upd = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }"
    body = pg_app.gql(upd, {"id": w["ids"]["s2"], "i": {"courses": {"connect": [w["c1"]]}}},
                      as_=w["tokens"]["s2"])  # fmt: skip
    assert code(body) == "FORBIDDEN"
    body = pg_app.gql(upd, {"id": w["ids"]["s1"], "i": {"courses": {"disconnect": [w["c1"]]}}},
                      as_=w["tokens"]["s1"])  # fmt: skip
    assert code(body) == "FORBIDDEN"
    students = pg_app.data("query($id: ID!) { course(id: $id) { students { totalCount } } }",
                           {"id": w["c1"]})["course"]["students"]["totalCount"]  # fmt: skip
    assert students == 1


def test_no_lookup_by_a_hidden_field(pg_app: App, w: dict[str, Any]) -> None:
    q = "query($e: String!) { userByEmail(email: $e) { id } }"
    email = f"{w['p']}-t1@x.io"
    for _ in range(2):  # the compiled plan and the cached one
        assert code(pg_app.gql(q, {"e": email}, as_=w["tokens"]["s1"])) == "FORBIDDEN"
    assert pg_app.data(q, {"e": email})["userByEmail"]["id"] == w["ids"]["t1"]  # admin


# -- 4. claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [{"admin": False}, 7, ["admin", 1]])
def test_a_roles_claim_of_another_shape_is_unauthenticated(pg_app: App, roles: Any) -> None:
    import time

    import jwt

    forged = jwt.encode({"sub": "5", "exp": int(time.time()) + 60, "roles": roles}, JWT_SECRET)
    body = pg_app.gql("{ users(first: 1) { totalCount } }", as_=forged)
    assert code(body) == "UNAUTHENTICATED"


# -- 6. bad values are BAD_USER_INPUT with their path -------------------------------------------


def _deep(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($id: ID!) { user(id: $id) { id } }", {"id": "99999999999999999999"}),
        ("query($id: ID!) { user(id: $id) { id } }", {"id": "3000000000"}),
        ("query($w: UserWhere) { users(where: $w) { totalCount } }",
         {"w": {"id": {"in": ["1", "99999999999999999999"]}}}),
        ("query($a: String) { users(first: 1, after: $a) { totalCount } }",
         {"a": "eyJvIjpbImlkOmEiXSwidiI6Wzk5OTk5OTk5OTk5OTk5OTk5OTk5XX0"}),  # {"o": ["id:a"], "v": [99999999999999999999]}
        ("query($a: String) { users(first: 1, after: $a) { totalCount } }", {"a": "%%%"}),
        ("query($w: ExamWhere) { exams(where: $w) { totalCount } }",
         {"w": {"startsAt": {"gt": "9999-12-31T23:59:59-23:59"}}}),
        ("query($w: ExamWhere) { exams(where: $w) { totalCount } }",
         {"w": {"startsAt": {"lt": "0001-01-01T00:00:00+23:59"}}}),
        ("query($w: CourseWhere) { courses(where: $w) { totalCount } }",
         {"w": {"price": {"gt": "1e999999"}}}),
        ("mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }",
         {"i": {"examId": "1", "studentId": "1", "answers": _deep(300)}}),
        ("query($w: UserWhere) { users(where: $w) { totalCount } }",
         {"w": {"id": {"in": [str(i) for i in range(1, 40_001)]}}}),
        ("mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
         {"i": {"slug": "big-fk", "title": "Big fk", "authorId": "99999999999"}}),
    ],
    ids=["id-int64", "id-int32", "in-int64", "cursor-range", "cursor-junk", "datetime-max",
         "datetime-min", "decimal-exp", "json-deep", "in-40000", "fk-int64"],
)  # fmt: skip
def test_bad_values_are_bad_user_input(pg_app: App, query: str, variables: Any) -> None:
    body = pg_app.gql(query, variables)
    assert body.get("errors"), body
    for error in body["errors"]:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body["errors"]
        assert error["extensions"]["errors"][0]["path"], error
