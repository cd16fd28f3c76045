"""The example app end to end over HTTP: the generated server and worker run as processes.

The same scenario runs on PostgreSQL + Redis (the production targets) and on the embedded
defaults (SQLite file + embedded Valkey), which a new user gets with no configuration.
"""

from __future__ import annotations

import uuid

import pytest

from .harness import App

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["postgres", "embedded"])
def app(request: pytest.FixtureRequest) -> App:
    name = "pg_app" if request.param == "postgres" else "embedded_app"
    result: App = request.getfixturevalue(name)
    return result


def _user(app: App, name: str = "Ada") -> dict:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    return app.data(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id email name role createdAt } }",
        {"i": {"email": email, "name": name}},
    )["createUser"]


def test_create_read_update_delete(app: App) -> None:
    user = _user(app)
    assert user["role"] == "STUDENT" and user["createdAt"]
    slug = f"exam-{uuid.uuid4().hex[:8]}"
    exam = app.data(
        "mutation($i: CreateExamInput!) { createExam(input: $i) { id slug status passMark author { id name } } }",
        {
            "i": {
                "slug": slug,
                "title": "Algebra",
                "authorId": user["id"],
                "settings": {"shuffle": True},
            }
        },
    )["createExam"]
    assert (
        exam["status"] == "DRAFT"
        and exam["passMark"] == 50.0
        and exam["author"] == {"id": user["id"], "name": "Ada"}
    )

    got = app.data(
        "query($id: ID!) { exam(id: $id) { title settings author { email } } }", {"id": exam["id"]}
    )
    assert got["exam"] == {
        "title": "Algebra",
        "settings": {"shuffle": True},
        "author": {"email": user["email"]},
    }

    updated = app.data(
        'mutation($id: ID!) { updateExam(id: $id, input: {title: "Algebra II", status: PUBLISHED}) { title status slug } }',
        {"id": exam["id"]},
    )["updateExam"]
    assert updated == {"title": "Algebra II", "status": "PUBLISHED", "slug": slug}
    # the update invalidated the cached read
    again = app.data("query($id: ID!) { exam(id: $id) { title } }", {"id": exam["id"]})
    assert again["exam"]["title"] == "Algebra II"

    # other tests share the database: list among this test's rows only
    listed = app.data(
        "query($s: String!) { exams(first: 100, where: {slug: {startsWith: $s}}) { nodes { id } } }",
        {"s": slug},
    )["exams"]["nodes"]
    assert listed == [{"id": exam["id"]}]
    deleted = app.data("mutation($id: ID!) { deleteExam(id: $id) { id } }", {"id": exam["id"]})
    assert deleted["deleteExam"]["id"] == exam["id"]
    assert app.data("query($id: ID!) { exam(id: $id) { id } }", {"id": exam["id"]})["exam"] is None


def test_relations_of_every_kind(app: App) -> None:
    mentor = _user(app, "Mentor")
    mentee = app.data(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id mentor { id } } }",
        {
            "i": {
                "email": f"m-{uuid.uuid4().hex[:8]}@x.io",
                "name": "Mentee",
                "mentorId": mentor["id"],
            }
        },
    )["createUser"]
    assert mentee["mentor"] == {"id": mentor["id"]}  # self-reference, belongs_to
    exam = app.data(
        "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
        {
            "i": {
                "slug": f"r-{uuid.uuid4().hex[:8]}",
                "title": "Relations",
                "authorId": mentor["id"],
            }
        },
    )["createExam"]
    for pos in (1, 2):
        app.data(
            "mutation($i: CreateQuestionInput!) { createQuestion(input: $i) { id } }",
            {"i": {"examId": exam["id"], "position": pos, "prompt": f"Q{pos}", "answerKey": "a"}},
        )
    tree = app.data(
        "query($id: ID!) { user(id: $id) { mentees { nodes { name } } exams { nodes { questions { nodes { position } } } } } }",
        {"id": mentor["id"]},
    )["user"]
    assert tree["mentees"]["nodes"] == [{"name": "Mentee"}]  # has_many through the self-reference
    assert tree["exams"]["nodes"] == [{"questions": {"nodes": [{"position": 1}, {"position": 2}]}}]
    course = app.data(
        "mutation($i: CreateCourseInput!) { createCourse(input: $i) { id price students { nodes { id } } } }",
        {"i": {"slug": f"c-{uuid.uuid4().hex[:8]}", "title": "Course", "price": "19.90"}},
    )["createCourse"]
    assert course["price"] == "19.90" and course["students"] == {"nodes": []}


def test_input_errors_name_the_field(app: App) -> None:
    user = _user(app)
    body = app.gql(
        "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
        {"i": {"slug": "Bad Slug", "title": "x", "authorId": user["id"], "durationMinutes": 0}},
    )
    err = body["errors"][0]
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    paths = sorted(".".join(map(str, e["path"])) for e in err["extensions"]["errors"])
    assert paths == ["input.durationMinutes", "input.slug", "input.title"]
    assert "Traceback" not in str(body) and "SELECT" not in str(body)

    dup = app.gql(
        'mutation($e: String!) { createUser(input: {email: $e, name: "Twin"}) { id } }',
        {"e": user["email"]},
    )
    assert dup["errors"][0]["extensions"]["errors"] == [
        {"path": ["input", "email"], "message": "another User already has this value"}
    ]
    missing_fk = app.gql(
        'mutation { createExam(input: {slug: "fk-x", title: "Orphan", authorId: 999999}) { id } }'
    )
    assert missing_fk["errors"][0]["extensions"]["errors"] == [
        {"path": ["input", "authorId"], "message": "no User with id 999999"}
    ]
    gone = app.gql("mutation { deleteExam(id: 999999) { id } }")
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bad_id = app.gql('{ exam(id: "abc") { id } }')
    assert bad_id["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_many = app.gql("{ users(first: 101) { nodes { id } } }")
    assert too_many["errors"][0]["extensions"]["errors"][0]["path"] == ["first"]


def test_queued_mutation_and_job_run_in_the_worker(app: App) -> None:
    student = _user(app, "Stu")
    exam = app.data(
        "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
        {"i": {"slug": f"q-{uuid.uuid4().hex[:8]}", "title": "Queued", "authorId": student["id"]}},
    )["createExam"]
    app.data(
        "mutation($i: CreateQuestionInput!) { createQuestion(input: $i) { id } }",
        {
            "i": {
                "examId": exam["id"],
                "position": 1,
                "prompt": "2+2?",
                "answerKey": "4",
                "points": 2,
            }
        },
    )
    key = f"submit-{uuid.uuid4().hex}"
    ref = app.data(
        "mutation($i: CreateSubmissionInput!, $k: String) { createSubmission(input: $i, idempotencyKey: $k) { id queue name } }",
        {"i": {"examId": exam["id"], "studentId": student["id"], "answers": {"q1": "4"}}, "k": key},
    )["createSubmission"]
    # idempotency keys are scoped to the caller (user 1, the admin token): u1-<key>
    assert ref == {"id": f"u1-{key}", "queue": "exam", "name": "Submission.create"}
    # a retried request with the same idempotency key enqueues nothing new
    again = app.data(
        "mutation($i: CreateSubmissionInput!, $k: String) { createSubmission(input: $i, idempotencyKey: $k) { id } }",
        {"i": {"examId": exam["id"], "studentId": student["id"], "answers": {"q1": "4"}}, "k": key},
    )["createSubmission"]
    assert again["id"] == f"u1-{key}"
    # the same key for another input is refused, not answered with the first job
    other = app.gql(
        "mutation($i: CreateSubmissionInput!, $k: String) { createSubmission(input: $i, idempotencyKey: $k) { id } }",
        {"i": {"examId": exam["id"], "studentId": student["id"], "answers": {"q1": "5"}}, "k": key},
    )["errors"][0]
    assert other["extensions"]["code"] == "CONFLICT", other
    assert other["message"].startswith(f"idempotencyKey {key!r} was already used")
    done = app.wait_job("exam", f"u1-{key}")
    assert done["state"] == "completed", done
    sub_id = done["result"]["id"]

    grade = app.data(
        "mutation($i: GradeSubmissionInput!) { enqueueGradeSubmission(input: $i) { id } }",
        {"i": {"submissionId": int(sub_id)}},
    )["enqueueGradeSubmission"]
    graded = app.wait_job("exam", grade["id"])
    assert graded["state"] == "completed", graded
    assert graded["result"] == {"submission_id": int(sub_id), "score": 100.0}
    subs = app.data(
        "query($id: ID!) { exam(id: $id) { submissions { nodes { status score } } } }",
        {"id": exam["id"]},
    )
    assert subs["exam"]["submissions"]["nodes"] == [{"status": "GRADED", "score": 100.0}]


def test_a_queued_create_the_worker_refuses_fails_at_once(app: App) -> None:
    """The exam queue retries 3 times with backoff, but a missing exam is refused on every
    attempt: the job fails on the first, naming the field."""
    student = _user(app, "Refused")
    ref = app.data(
        "mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }",
        {"i": {"examId": 987654, "studentId": student["id"], "answers": {}}},
    )["createSubmission"]
    done = app.wait_job("exam", ref["id"])
    assert done["state"] == "failed" and done["attemptsMade"] == 1, done
    assert done["failedReason"] == "Invalid input: input.examId: no Exam with id 987654"


def test_bad_job_payload_is_rejected_at_enqueue(app: App) -> None:
    body = app.gql("mutation { enqueueGradeSubmission(input: {submissionId: 0}) { id } }")
    err = body["errors"][0]
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert err["extensions"]["errors"][0]["path"] == ["input", "submissionId"]
    bad_key = app.gql(
        'mutation { enqueueGradeSubmission(input: {submissionId: 1}, jobId: "grade:1") { id } }'
    )["errors"][0]
    assert bad_key["extensions"]["code"] == "BAD_USER_INPUT"
    assert (
        bad_key["message"] == "Invalid input: jobId: must not contain ':' (BullMQ's key separator)"
    )


def test_graphiql_explorer_and_health(app: App) -> None:
    import httpx

    page = httpx.get(f"{app.url}/graphql", headers={"accept": "text/html"}, timeout=5)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert httpx.get(f"{app.url}/health", timeout=5).json()["status"] == "ok"
