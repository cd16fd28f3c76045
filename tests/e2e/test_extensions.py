"""The extension seam of the example app (``extensions/``), in-process, on PostgreSQL and
SQLite: write hooks on every write path, refusals, jobs enqueued by hooks (after commit
only), the custom ``publishExam`` mutation, the computed ``Exam.averageScore`` (cache on and
off, compared with SQL), and a hook's size limit on videos."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flowgen_runtime import Context, UserInputError, WriteEvent
from flowgen_runtime.auth.access import Identity
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.data.state import AppState
from flowgen_runtime.graphql.app import create_app
from starlette.testclient import TestClient

from generated.registry import REGISTRY
from generated.services import exams, questions, submissions, users

from .harness import ADMIN, JWT_SECRET, drop_keys, token

ADMIN_ID = Identity("1", frozenset({"admin"}))


@pytest.fixture(scope="module")
def database(example_database: str) -> str:
    return example_database


def _settings(database: str, redis_url: str, prefix: str, cache: bool = False) -> Settings:
    return Settings(jwt_secret=JWT_SECRET, database_url=database, redis_url=redis_url,
                    cache_prefix=prefix, queue_prefix=prefix, cache_enabled=cache)  # fmt: skip


@pytest.fixture
async def state(database: str, redis_url: str) -> AsyncIterator[AppState]:
    prefix = f"x{uuid.uuid4().hex[:8]}"
    s = AppState(REGISTRY, _settings(database, redis_url, prefix))
    await s.start()
    yield s
    await s.stop()
    drop_keys(redis_url, prefix)


class Recorder:
    """Records every hook call of one entity (added for one test, then removed)."""

    def __init__(self, service: Any) -> None:
        self.hooks = service.hooks
        self.saved = {k: list(v) for k, v in self.hooks.found.items()}
        self.calls: list[tuple[str, str, Any]] = []
        for name in ("before_create", "after_create", "before_update", "after_update",
                     "before_delete", "after_delete"):  # fmt: skip
            self.hooks.add(name, self._recording(name))

    def _recording(self, name: str) -> Any:
        async def hook(event: WriteEvent) -> None:
            assert event.session is not None and event.entity == "Question"
            if name.startswith("after_"):
                assert event.row is not None and event.row["id"] == event.id
            self.calls.append((name, event.via, event.id))

        return hook

    def names(self) -> list[tuple[str, str]]:
        return [(name, via) for name, via, _ in self.calls]

    def restore(self) -> None:
        self.hooks.found = self.saved


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder(questions)
    yield found
    found.restore()


async def _exam(ctx: Context, **extra: Any) -> Any:
    tag = uuid.uuid4().hex[:8]
    user = await users.create(ctx, {"email": f"t-{tag}@x.io", "name": "Tess", "role": "teacher"})
    data = {"slug": f"x-{tag}", "title": "Hooked exam", "author_id": user["id"], **extra}
    return await exams.create(ctx, data)


async def test_hooks_run_on_every_write_path(state: AppState, recorder: Recorder) -> None:
    ctx = state.context(identity=ADMIN_ID)
    exam = await _exam(ctx, questions={"create": [{"position": 1, "prompt": "a"}]})
    assert recorder.names() == [("before_create", "nested"), ("after_create", "nested")]
    q = await questions.create(ctx, {"exam_id": exam["id"], "position": 2, "prompt": "b"})
    many = await questions.create_many(
        ctx, [{"exam_id": exam["id"], "position": p, "prompt": "c"} for p in (3, 4)]
    )
    await questions.update(ctx, q["id"], {"prompt": "b2"})
    where = {"exam_id": {"eq": exam["id"]}, "position": {"in": [3, 4]}}
    assert await questions.update_many(ctx, where, {"points": 5}) == {"count": 2}
    await questions.upsert(ctx, ["exam_id", "position"], {"exam_id": exam["id"], "position": 2, "prompt": "up"})  # fmt: skip
    await questions.upsert(ctx, ["exam_id", "position"], {"exam_id": exam["id"], "position": 9, "prompt": "new"})  # fmt: skip
    other = await _exam(ctx)
    await exams.update(ctx, other["id"], {"questions": {"connect": [str(many[0]["id"])]}})
    await questions.delete(ctx, q["id"])
    assert await questions.delete_many(ctx, {"exam_id": {"eq": exam["id"]}}) == {"count": 3}
    assert recorder.names()[2:] == [
        ("before_create", "mutation"), ("after_create", "mutation"),
        ("before_create", "bulk"), ("before_create", "bulk"),
        ("after_create", "bulk"), ("after_create", "bulk"),
        ("before_update", "mutation"), ("after_update", "mutation"),
        ("before_update", "bulk"), ("after_update", "bulk"),
        ("before_update", "bulk"), ("after_update", "bulk"),
        ("before_update", "upsert"), ("after_update", "upsert"),
        ("before_create", "upsert"), ("after_create", "upsert"),
        ("before_update", "nested"), ("after_update", "nested"),
        ("before_delete", "mutation"), ("after_delete", "mutation"),
        ("before_delete", "bulk"), ("before_delete", "bulk"), ("before_delete", "bulk"),
        ("after_delete", "bulk"), ("after_delete", "bulk"), ("after_delete", "bulk"),
    ]  # fmt: skip


async def test_a_refusing_hook_writes_nothing_and_names_the_field(
    state: AppState, recorder: Recorder
) -> None:
    ctx = state.context(identity=ADMIN_ID)
    exam = await _exam(ctx)

    def no_long_prompts(event: WriteEvent) -> None:
        if len((event.data or {}).get("prompt", "")) > 10:
            event.refuse("at most 10 characters here", field="prompt")

    questions.hooks.add("before_create", no_long_prompts)
    items = [{"exam_id": exam["id"], "position": p, "prompt": t} for p, t in ((1, "ok"), (2, "far too long"))]  # fmt: skip
    with pytest.raises(UserInputError) as refused:
        await questions.create_many(ctx, items)
    assert refused.value.errors == [
        {"path": ["inputs", 1, "prompt"], "message": "at most 10 characters here"}
    ]
    async with state.db.read() as reader:
        table = questions.meta.table
        found = await reader.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.exam_id == exam["id"])
        )
    assert found == 0  # the first item was rolled back with the second


async def test_jobs_a_hook_enqueues_wait_for_the_commit(
    state: AppState, recorder: Recorder
) -> None:
    ctx = state.context(identity=ADMIN_ID)
    exam = await _exam(ctx)
    queue = state.jobs.queue("exam")

    async def grade_later(event: WriteEvent) -> None:
        await event.enqueue("exam", "grade_submission", {"submission_id": event.row["id"]})
        if event.row["prompt"] == "roll back":
            event.forbid("changed my mind")

    questions.hooks.add("after_create", grade_later)
    before = await queue.getJobCounts("waiting", "delayed", "prioritized")
    with pytest.raises(Exception, match="changed my mind"):
        await questions.create(ctx, {"exam_id": exam["id"], "position": 1, "prompt": "roll back"})
    assert await queue.getJobCounts("waiting", "delayed", "prioritized") == before
    await questions.create(ctx, {"exam_id": exam["id"], "position": 1, "prompt": "keep"})
    after = await queue.getJobCounts("waiting", "delayed", "prioritized")
    assert sum(after.values()) == sum(before.values()) + 1


@pytest.fixture(params=[False, True], ids=["cache-off", "cache-on"])
def client(request: pytest.FixtureRequest, database: str, redis_url: str) -> Iterator[TestClient]:
    prefix = f"x{uuid.uuid4().hex[:8]}"
    app = create_app(REGISTRY, _settings(database, redis_url, prefix, cache=request.param))
    with TestClient(app) as found:
        yield found
    drop_keys(redis_url, prefix)


def _gql(client: TestClient, query: str, variables: Any = None, as_: str = ADMIN) -> Any:
    r = client.post(
        "/graphql", json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {as_}"},
    )  # fmt: skip
    return r.json()


def test_publish_exam_checks_first_then_updates_as_the_caller(client: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    author = _gql(client, 'mutation($e: String!) { createUser(input: {email: $e, name: "Ana", role: TEACHER}) { id } }', {"e": f"a-{tag}@x.io"})["data"]["createUser"]["id"]  # fmt: skip
    exam = _gql(client, 'mutation($s: String!) { createExam(input: {slug: $s, title: "To publish"}) { id } }', {"s": f"p-{tag}"}, token(author, "teacher"))["data"]["createExam"]["id"]  # fmt: skip
    publish = "mutation($id: ID!) { publishExam(id: $id) { id status } }"
    empty = _gql(client, publish, {"id": exam}, token(author, "teacher"))["errors"][0]
    assert empty["extensions"]["code"] == "BAD_USER_INPUT" and empty["path"] == ["publishExam"]
    assert empty["extensions"]["errors"] == [{"path": ["id"], "message": "an exam needs a question to publish"}]  # fmt: skip
    _gql(client, 'mutation($e: ID!) { createQuestion(input: {examId: $e, position: 1, prompt: "q"}) { id } }', {"e": exam})  # fmt: skip
    stranger = _gql(client, publish, {"id": exam}, token("999999", "teacher"))["errors"][0]
    assert stranger["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    done = _gql(client, publish, {"id": exam}, token(author, "teacher"))
    assert done == {"data": {"publishExam": {"id": exam, "status": "PUBLISHED"}}}


async def test_average_score_is_the_mean_of_graded_submissions(
    client: TestClient, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = state.context(system=True)
    tag = uuid.uuid4().hex[:8]
    made = []
    for n, scores in enumerate([[50.0, 100.0, None], [70.0], []]):
        exam = await _exam(ctx, slug=f"avg{n}-{tag}")
        for i, score in enumerate(scores):
            student = await users.create(ctx, {"email": f"s{n}{i}-{tag}@x.io", "name": "S", "role": "student"})  # fmt: skip
            status = "pending" if score is None else "graded"
            await submissions.create(ctx, {"exam_id": exam["id"], "student_id": student["id"], "answers": {}, "status": status, "score": score})  # fmt: skip
        made.append(str(exam["id"]))
    calls: list[Any] = []
    real = submissions.aggregate

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(submissions, "aggregate", counting)
    query = "query($t: String!) { exams(first: 10, orderBy: [{field: ID}], where: {slug: {endsWith: $t}}) { nodes { id averageScore } } }"  # fmt: skip
    for _ in range(2):  # the second may come from the cache: the same answer
        body = _gql(client, query, {"t": tag})
        assert body == {"data": {"exams": {"nodes": [
            {"id": made[0], "averageScore": 75.0},
            {"id": made[1], "averageScore": 70.0},
            {"id": made[2], "averageScore": None},
        ]}}}, body  # fmt: skip
    assert 1 <= len(calls) <= 2  # one batched aggregate per request that was computed
    async with state.db.read() as reader:  # the oracle: SQL on the database itself
        t = submissions.meta.table
        stmt = sa.select(sa.func.avg(t.c.score)).where(t.c.exam_id == int(made[0]), t.c.status == "graded")  # fmt: skip
        assert float(await reader.scalar(stmt)) == 75.0


def test_a_hook_refuses_videos_over_two_gigabytes(client: TestClient, tmp_path: Path) -> None:
    big = _gql(client, 'mutation { createVideo(input: {title: "big", sourceUrl: "https://v", sizeBytes: 2000000001}) { id } }')  # fmt: skip
    error = big["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["errors"][0]["path"] == ["input", "sizeBytes"]
    ok = _gql(client, 'mutation { createVideo(input: {title: "ok", sourceUrl: "https://v", sizeBytes: 2000000000}) { id } }')  # fmt: skip
    assert "errors" not in ok, ok


async def test_an_update_hook_changes_what_an_upsert_updates(
    state: AppState, recorder: Recorder
) -> None:
    """An upsert that finds its row runs the update hooks on the values it updates with:
    what a before_update hook sets is written (it used to change the insert's values)."""
    ctx = state.context(identity=ADMIN_ID)
    exam = await _exam(ctx)
    await questions.create(ctx, {"exam_id": exam["id"], "position": 1, "prompt": "a"})

    def shout(event: WriteEvent) -> None:
        assert event.data is not None
        event.data["prompt"] = event.data["prompt"].upper()

    questions.hooks.add("before_update", shout)
    row = await questions.upsert(
        ctx, ["exam_id", "position"], {"exam_id": exam["id"], "position": 1, "prompt": "quiet"}
    )
    assert row["prompt"] == "QUIET"
