"""After-commit enqueue on real PostgreSQL and Redis: a rolled-back transaction leaves no job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flowgen_runtime.core.db import Database
from flowgen_runtime.core.errors import ConflictError, UserInputError
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.jobs import JobQueues, QueueDef
from flowgen_runtime.jobs.api import enqueue_job
from flowgen_runtime.jobs.outbox import OutboxFlushError, current_session, transaction


class Boom(Exception):
    pass


@pytest.fixture
async def ctx(postgres_url: str, queues: JobQueues) -> AsyncIterator[Any]:
    db = Database(Settings(database_url=postgres_url).async_database_url())
    table = sa.Table(
        f"outbox_probe_{uuid.uuid4().hex[:8]}",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("note", sa.String(50)),
    )
    async with db.engine.begin() as conn:
        await conn.run_sync(table.create)
    yield SimpleNamespace(
        db=db, jobs=queues, request_id="req-outbox", table=table, system=True, identity=None
    )
    async with db.engine.begin() as conn:
        await conn.run_sync(table.drop)
    await db.dispose()


async def _rows(ctx: Any) -> list[str]:
    async with ctx.db.session() as s:
        return list((await s.scalars(sa.select(ctx.table.c.note).order_by("id"))).all())


async def test_jobs_wait_for_the_commit(ctx: Any, qdef: QueueDef) -> None:
    raw = ctx.jobs.queue(qdef.name)
    async with transaction(ctx) as session:
        assert current_session() is session
        await session.execute(sa.insert(ctx.table).values(note="kept"))
        ref = await enqueue_job(ctx, qdef, "greet", {"text": "hi"})
        keyed = await enqueue_job(ctx, qdef, "greet", {"text": "hi"}, job_id="key-1")
        assert ref["state"] == "pending" and keyed == {**keyed, "id": "key-1"}
        assert await raw.getJob(ref["id"]) is None  # nothing in Redis before the commit
    assert await _rows(ctx) == ["kept"]
    assert ref["state"] == keyed["state"] == "waiting"  # the handed-out refs were updated
    job = await raw.getJob(ref["id"])
    # a system context enqueued it: the job runs as the system too
    meta = {"request_id": "req-outbox", "caller": {"system": True}}
    assert job.data == {"text": "hi", "_meta": meta}
    assert current_session() is None


async def test_rolled_back_transaction_leaves_no_job(ctx: Any, qdef: QueueDef) -> None:
    raw = ctx.jobs.queue(qdef.name)
    with pytest.raises(Boom):
        async with transaction(ctx) as session:
            await session.execute(sa.insert(ctx.table).values(note="gone"))
            ref = await enqueue_job(ctx, qdef, "greet", {"text": "hi"}, job_id="never")
            raise Boom
    assert await _rows(ctx) == []  # a real rollback
    assert await raw.getJob(ref["id"]) is None
    assert sum((await raw.getJobCounts()).values()) == 0

    # a statement failing inside the block (duplicate key) drops the jobs too
    with pytest.raises(sa.exc.IntegrityError):
        async with transaction(ctx) as session:
            await session.execute(sa.insert(ctx.table).values(id=1, note="a"))
            await session.execute(sa.insert(ctx.table).values(id=1, note="b"))
            await enqueue_job(ctx, qdef, "greet", {"text": "x"})
    assert sum((await raw.getJobCounts()).values()) == 0


async def test_savepoint_jobs_join_the_outer_transaction(ctx: Any, qdef: QueueDef) -> None:
    raw = ctx.jobs.queue(qdef.name)
    async with transaction(ctx) as session:
        outer = await enqueue_job(ctx, qdef, "greet", {"text": "outer"})
        with pytest.raises(Boom):
            async with transaction(ctx) as inner:
                assert inner is session
                await inner.execute(sa.insert(ctx.table).values(note="undone"))
                dropped = await enqueue_job(ctx, qdef, "greet", {"text": "dropped"})
                raise Boom
        async with transaction(ctx) as inner:
            await inner.execute(sa.insert(ctx.table).values(note="released"))
            released = await enqueue_job(ctx, qdef, "greet", {"text": "released"})
        assert released["state"] == "pending"  # still waiting for the outer commit
    assert await _rows(ctx) == ["released"]
    assert await raw.getJob(dropped["id"]) is None
    assert outer["state"] == released["state"] == "waiting"


async def test_bad_payload_fails_inside_the_transaction(ctx: Any, qdef: QueueDef) -> None:
    with pytest.raises(UserInputError):
        async with transaction(ctx):
            await enqueue_job(ctx, qdef, "greet", {"text": ""})


async def test_other_tasks_are_not_part_of_the_transaction(ctx: Any, qdef: QueueDef) -> None:
    raw = ctx.jobs.queue(qdef.name)
    outside: dict[str, Any] = {}

    async def sibling() -> None:
        outside.update(await enqueue_job(ctx, qdef, "greet", {"text": "now"}))

    task = asyncio.ensure_future(sibling())  # created before the transaction opened
    with pytest.raises(Boom):
        async with transaction(ctx):
            await task
            raise Boom
    assert outside["state"] == "waiting" and await raw.getJob(outside["id"]) is not None


async def test_jobs_lost_after_commit_are_reported(ctx: Any, qdef: QueueDef) -> None:
    class Down:
        async def add(self, job: Any) -> Any:
            raise ConnectionError("redis is down")

        async def stored(self, queue: str, job_id: str) -> Any:
            raise ConnectionError("redis is down")

    broken = SimpleNamespace(db=ctx.db, jobs=Down(), request_id=None, system=True, identity=None)
    with pytest.raises(OutboxFlushError, match="not enqueued after commit"):
        async with transaction(broken) as session:
            await session.execute(sa.insert(ctx.table).values(note="committed"))
            await enqueue_job(broken, qdef, "greet", {"text": "lost"}, job_id="lost-1")
    assert await _rows(ctx) == ["committed"]


async def test_a_client_job_id_bullmq_refuses_is_bad_user_input(ctx: Any, qdef: QueueDef) -> None:
    """Named by its argument (``jobId`` of a job, ``idempotencyKey`` of a queued mutation);
    an integer is refused only unprefixed: a signed-in caller's key becomes ``u<id>-<key>``."""
    cases = [
        ("greet", "a:b", ["jobId"], "must not contain ':' (BullMQ's key separator)"),
        ("greet", "", ["jobId"], "must not be empty"),
        ("Note.create", "k" * 201, ["idempotencyKey"], "must be at most 200 characters"),
        ("greet", "17", ["jobId"], "must not be an integer (BullMQ numbers its own jobs so)"),
    ]
    for name, key, path, message in cases:
        with pytest.raises(UserInputError) as info:
            await enqueue_job(ctx, qdef, name, {"text": "x"}, job_id=key)
        assert info.value.errors == [{"path": path, "message": message}], key
    signed_in = SimpleNamespace(**{**vars(ctx), "identity": SimpleNamespace(id="5")})
    ref = await enqueue_job(signed_in, qdef, "greet", {"text": "x"}, job_id="17")
    assert ref["id"] == "u5-17"


async def test_a_key_used_again_for_another_input_is_a_conflict(ctx: Any, qdef: QueueDef) -> None:
    """An idempotency key names one request: its retry (same job, same input) gets the
    same job back; another input, or another job, under the key is refused (CONFLICT)
    instead of silently handing back the first job. Checked after the add, and before a
    commit for a job held by a transaction."""
    first = await enqueue_job(ctx, qdef, "greet", {"text": "one"}, job_id="k-1")
    again = await enqueue_job(ctx, qdef, "greet", {"text": "one"}, job_id="k-1")
    assert again["id"] == first["id"] == "k-1"
    with pytest.raises(ConflictError) as info:
        await enqueue_job(ctx, qdef, "greet", {"text": "two"}, job_id="k-1")
    assert info.value.message == (
        "jobId 'k-1' was already used for a different input; use a new key for a new request"
    )
    with pytest.raises(ConflictError, match=r"for a different job \(greet\)"):
        await enqueue_job(ctx, qdef, "flaky", {"succeed_on": 1}, job_id="k-1")
    with pytest.raises(ConflictError):  # held by a transaction: refused before the commit
        async with transaction(ctx) as session:
            await session.execute(sa.insert(ctx.table).values(note="refused"))
            await enqueue_job(ctx, qdef, "greet", {"text": "three"}, job_id="k-1")
    assert await _rows(ctx) == []  # the request's transaction rolled back
    job = await ctx.jobs.queue(qdef.name).getJob("k-1")
    assert job.data["text"] == "one"  # the first job, untouched
