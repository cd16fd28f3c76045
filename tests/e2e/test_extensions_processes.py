"""The extension seam through real processes: hooks in queued writes (the worker), and a
rebuild after spec edits that leaves the user's code untouched and working."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from .harness import GEN, App, build_example, child_env, drop_keys, run


def _user(app: App, name: str, role: str) -> str:
    return str(
        app.data(
            "mutation($e: String!, $n: String!, $r: UserRole!) { createUser(input: {email: $e, name: $n, role: $r}) { id } }",
            {"e": f"{name}-{uuid.uuid4().hex[:8]}@x.io", "n": name, "r": role},
        )["createUser"]["id"]
    )


def _exam(app: App, author: str, status: str) -> str:
    exam = app.data(
        "mutation($i: CreateExamInput!) { createExam(input: $i) { id } }",
        {"i": {"slug": f"h-{uuid.uuid4().hex[:8]}", "title": "Hooked", "authorId": author,
               "status": status, "questions": {"create": [{"position": 1, "prompt": "2+2?", "answerKey": "4"}]}}},
    )["createExam"]  # fmt: skip
    return str(exam["id"])


def test_a_queued_create_runs_its_hooks_in_the_worker(pg_app: App) -> None:
    """createSubmission is queued: the worker's create runs the example's hooks, whose
    grading job is added after the commit and grades the submission with no other call;
    a submission to an archived exam is refused by the before_create hook."""
    teacher, student = _user(pg_app, "Tea", "TEACHER"), _user(pg_app, "Stu", "STUDENT")
    exam = _exam(pg_app, teacher, "PUBLISHED")
    ref = pg_app.data(
        "mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }",
        {"i": {"examId": exam, "studentId": student, "answers": {"q1": "4"}}},
    )["createSubmission"]
    created = pg_app.wait_job("exam", ref["id"])
    assert created["state"] == "completed", created
    deadline, nodes = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        nodes = pg_app.data(
            "query($id: ID!) { exam(id: $id) { submissions { nodes { status score } } } }",
            {"id": exam},
        )["exam"]["submissions"]["nodes"]
        if nodes and nodes[0]["status"] == "GRADED":
            break
        time.sleep(0.2)
    assert nodes == [{"status": "GRADED", "score": 100.0}], pg_app.log_text()

    closed = _exam(pg_app, teacher, "ARCHIVED")
    ref = pg_app.data(
        "mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id } }",
        {"i": {"examId": closed, "studentId": student, "answers": {}}},
    )["createSubmission"]
    refused = pg_app.wait_job("exam", ref["id"])
    assert refused["state"] == "failed" and refused["attemptsMade"] == 1, refused
    assert "archived" in refused["failedReason"] and "examId" in refused["failedReason"]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


BADGE = """entity: Badge
fields:
  label: {type: string, max_length: 40}
relations:
  holder: {belongs_to: User, on_delete: cascade}
"""


def test_a_rebuild_after_spec_edits_keeps_the_user_code_working(
    tmp_path: Path, redis_url: str
) -> None:
    build_example(tmp_path)
    before = {p: _digests(tmp_path / p) for p in ("extensions", "handlers")}
    user = tmp_path / "specs" / "entities" / "user.yaml"
    user.write_text(user.read_text().replace("fields:\n", "fields:\n  nickname: {type: string, nullable: true}\n", 1))  # fmt: skip
    (tmp_path / "specs" / "entities" / "badge.yaml").write_text(BADGE)
    out = run([*GEN, "build", "specs", "--out", "generated"], cwd=tmp_path, env=child_env({}))
    assert "badge" in out.lower()
    assert {p: _digests(tmp_path / p) for p in ("extensions", "handlers")} == before
    assert (tmp_path / "generated" / "schema" / "_ext_exam.graphql").exists()

    prefix = f"rb{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "REDIS_URL": redis_url,
           "CACHE_PREFIX": prefix, "QUEUE_PREFIX": prefix}  # fmt: skip
    app = App(tmp_path, child_env(env))
    app.migrate("upgrade")
    app.start(worker=False)
    try:
        teacher = _user(app, "Reb", "TEACHER")
        exam = _exam(app, teacher, "DRAFT")
        published = app.data(
            "mutation($id: ID!) { publishExam(id: $id) { status averageScore } }", {"id": exam}
        )
        assert published == {"publishExam": {"status": "PUBLISHED", "averageScore": None}}
        badge: dict[str, Any] = app.data(
            'mutation($h: ID!) { createBadge(input: {label: "first", holderId: $h}) { label holder { name nickname } } }',
            {"h": teacher},
        )
        assert badge == {
            "createBadge": {"label": "first", "holder": {"name": "Reb", "nickname": None}}
        }
    finally:
        app.stop()
        drop_keys(redis_url, prefix)


@pytest.mark.parametrize(
    ("sdl", "message"),
    [
        ("extend type Query { ghost: Phantom }", "Unknown type 'Phantom'."),
        ("type Exam { id: ID }", "There can be only one type named 'Exam'."),
        ("extend type Exam { title: String }", "Field 'Exam.title' can only be defined once."),
    ],
)
def test_a_bad_custom_schema_is_a_spec_error_at_its_line(
    tmp_path: Path, sdl: str, message: str
) -> None:
    build_example(tmp_path)
    before = _digests(tmp_path / "generated")
    (tmp_path / "extensions" / "schema" / "bad.graphql").write_text("\n" + sdl + "\n")
    import subprocess

    proc = subprocess.run(
        [*GEN, "build", "specs", "--out", "generated"], cwd=tmp_path, env=child_env({}),
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "extensions/schema/bad.graphql:2:" in proc.stderr and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _digests(tmp_path / "generated") == before


def test_the_breaking_change_report_covers_the_custom_schema(tmp_path: Path) -> None:
    """Removing a custom mutation is a breaking API change like removing a generated one."""
    import subprocess

    build_example(tmp_path)
    (tmp_path / "extensions" / "schema" / "exam.graphql").write_text("")
    proc = subprocess.run(
        [*GEN, "build", "specs", "--out", "generated", "--check-breaking"], cwd=tmp_path,
        env=child_env({}), capture_output=True, text=True,
    )  # fmt: skip
    report = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "publishExam" in report, report
    assert (tmp_path / "generated" / "schema" / "_ext_exam.graphql").read_text().count(
        "publishExam"
    ) == 1
