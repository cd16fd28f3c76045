"""The durable outbox on real PostgreSQL (and SQLite) and Redis: a committed transaction's
jobs reach Redis even when the process dies, or Redis is away, between commit and add."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flowgen_runtime.core.db import Database
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.jobs import JobQueues, QueueDef
from flowgen_runtime.jobs.api import enqueue_job
from flowgen_runtime.jobs.outbox import transaction
from flowgen_runtime.jobs.outbox_store import Relay, failure_text, outbox_table, relay

from ..e2e.harness import fresh_database
from . import sample_handlers
from .test_signals import _pythonpath


class Down:
    """Job queues whose Redis is unreachable."""

    async def add(self, job: Any) -> Any:
        raise ConnectionError("redis is down")

    async def stored(self, queue: str, job_id: str) -> Any:
        raise ConnectionError("redis is down")


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_url"), "flowgen_outbox") as url:
        yield Settings(database_url=url).async_database_url()


@pytest.fixture
async def ctx(database_url: str, queues: JobQueues) -> AsyncIterator[Any]:
    metadata = sa.MetaData()
    outbox = outbox_table(metadata)
    notes = sa.Table(
        "notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text)
    )
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield SimpleNamespace(
        db=db, jobs=queues, request_id="req-durable", system=True, identity=None,
        registry=SimpleNamespace(metadata=metadata), outbox=outbox, notes=notes, url=database_url,
    )  # fmt: skip
    await db.dispose()


async def _held(ctx: Any) -> list[tuple[str, str]]:
    async with ctx.db.session() as s:
        rows = await s.execute(sa.select(ctx.outbox.c.queue, ctx.outbox.c.job_id))
        return sorted((r.queue, r.job_id) for r in rows)


async def _notes(ctx: Any) -> list[str]:
    async with ctx.db.session() as s:
        return list((await s.scalars(sa.select(ctx.notes.c.note))).all())


async def test_jobs_are_stored_with_the_commit_and_deleted_once_added(
    ctx: Any, qdef: QueueDef
) -> None:
    seen_while_adding: list[list[tuple[str, str]]] = []
    add = ctx.jobs.add

    async def spying(job: Any) -> Any:
        seen_while_adding.append(await _held(ctx))  # from another session: committed rows
        return await add(job)

    ctx.jobs.add = spying
    async with transaction(ctx) as session:
        await session.execute(sa.insert(ctx.notes).values(note="with jobs"))
        a = await enqueue_job(ctx, qdef, "greet", {"text": "a"})
        b = await enqueue_job(ctx, qdef, "greet", {"text": "b"}, job_id="key-b")
        assert await _held(ctx) == []  # nothing before the commit
    both = sorted([(qdef.name, a["id"]), (qdef.name, "key-b")])
    assert seen_while_adding == [both, both]  # durable before either add
    assert await _held(ctx) == []  # and gone once Redis has them
    assert a["state"] == b["state"] == "waiting"

    with pytest.raises(RuntimeError):
        async with transaction(ctx):
            await enqueue_job(ctx, qdef, "greet", {"text": "rolled back"})
            raise RuntimeError
    assert await _held(ctx) == [] and seen_while_adding == [both, both]


async def test_jobs_redis_did_not_take_are_relayed(ctx: Any, qdef: QueueDef) -> None:
    """Redis is away at the flush: the request is not failed (its write committed, its
    jobs are safe), the rows stay, and the relay adds them once Redis is back."""
    away = SimpleNamespace(**{**vars(ctx), "jobs": Down()})
    async with transaction(away) as session:
        await session.execute(sa.insert(ctx.notes).values(note="committed"))
        ref = await enqueue_job(away, qdef, "greet", {"text": "later"}, job_id="later-1")
    assert ref["state"] == "pending"
    assert await _notes(ctx) == ["committed"]
    assert await _held(ctx) == [(qdef.name, "later-1")]

    assert await relay(ctx.db, ctx.jobs, ctx.outbox, older_than_s=60) == 0  # too recent
    with pytest.raises(ConnectionError):  # still away: the relay keeps the row (rolled back)
        await relay(ctx.db, Down(), ctx.outbox, older_than_s=0)  # type: ignore[arg-type]
    assert await _held(ctx) == [(qdef.name, "later-1")]
    assert await relay(ctx.db, ctx.jobs, ctx.outbox, older_than_s=0) == 1
    job = await ctx.jobs.queue(qdef.name).getJob("later-1")
    assert job is not None and job.name == "greet"
    meta = {"request_id": "req-durable", "caller": {"system": True}}  # a system context's job
    assert job.data == {"text": "later", "_meta": meta}
    assert await _held(ctx) == []
    assert await relay(ctx.db, ctx.jobs, ctx.outbox, older_than_s=0) == 0


async def test_relaying_a_job_redis_already_has_enqueues_nothing(ctx: Any, qdef: QueueDef) -> None:
    """The process died after the add but before deleting the row: the relay adds the job
    again, and BullMQ keeps the one it has (same id)."""
    async with transaction(ctx):
        ref = await enqueue_job(ctx, qdef, "greet", {"text": "once"})
    raw = ctx.jobs.queue(qdef.name)
    job = await raw.getJob(ref["id"])
    async with ctx.db.session() as s:  # the row the dead process did not delete
        await s.execute(
            sa.insert(ctx.outbox).values(
                queue=qdef.name, job_id=ref["id"], name="greet", held_at_ms=0,
                data='{"text": "once"}', opts=f'{{"jobId": "{ref["id"]}"}}',
            )
        )  # fmt: skip
        await s.commit()
    assert await relay(ctx.db, ctx.jobs, ctx.outbox, older_than_s=0) == 1
    assert (await raw.getJobCounts("waiting"))["waiting"] == 1
    assert (await raw.getJob(ref["id"])).timestamp == job.timestamp  # the first one


CRASH_SCRIPT = """
import asyncio, os, sys
from types import SimpleNamespace
import sqlalchemy as sa
from flowgen_runtime.core.db import Database
from flowgen_runtime.jobs import JobQueues
from flowgen_runtime.jobs.api import enqueue_job
from flowgen_runtime.jobs.outbox import Outbox, transaction
from flowgen_runtime.jobs.outbox_store import outbox_table
from {module} import queue_def

async def die(self, jobs):
    os._exit(3)  # after the commit, before any add: as if the process were killed

Outbox.flush = die

async def main():
    metadata = sa.MetaData()
    outbox_table(metadata)
    notes = sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("note", sa.Text))
    ctx = SimpleNamespace(
        db=Database({url!r}), jobs=JobQueues({redis!r}, prefix={prefix!r}), request_id="req-dead",
        system=True, identity=None, registry=SimpleNamespace(metadata=metadata),
    )
    async with transaction(ctx) as session:
        await session.execute(sa.insert(notes).values(note="written by the dead"))
        await enqueue_job(ctx, queue_def({queue!r}), "greet", {{"text": "survivor"}}, job_id="dead-1")

asyncio.run(main())
"""


async def test_a_process_killed_between_commit_and_add_loses_no_job(
    ctx: Any, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    code = CRASH_SCRIPT.format(
        module=sample_handlers.HERE, url=ctx.url, redis=redis_url, prefix=prefix, queue=qdef.name
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env={**os.environ, "PYTHONPATH": _pythonpath()},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 3, stderr.decode()
    assert await _notes(ctx) == ["written by the dead"]
    raw = ctx.jobs.queue(qdef.name)
    assert await raw.getJob("dead-1") is None  # Redis never got it...
    assert await _held(ctx) == [(qdef.name, "dead-1")]  # ...the table did

    survivor = Relay(ctx.db, ctx.jobs, ctx.outbox, interval_s=0.05, after_s=0)
    survivor.start()
    try:
        for _ in range(200):
            if await raw.getJob("dead-1") is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        await survivor.stop()
    job = await raw.getJob("dead-1")
    meta = {"request_id": "req-dead", "caller": {"system": True}}  # a system context's job
    assert job is not None and job.data["_meta"] == meta
    assert await _held(ctx) == []


async def test_relays_of_several_processes_share_the_rows(ctx: Any, qdef: QueueDef) -> None:
    """Each row goes to one relay (SKIP LOCKED on PostgreSQL, claimed by deleting it first
    on SQLite): with the rows read by both, the adds would be 80 for 60 rows."""
    async with ctx.db.session() as s:
        await s.execute(
            sa.insert(ctx.outbox),
            [
                {"queue": qdef.name, "job_id": f"j{i}", "name": "greet", "held_at_ms": i,
                 "data": '{"text": "x"}', "opts": f'{{"jobId": "j{i}"}}'}
                for i in range(60)
            ],
        )  # fmt: skip
        await s.commit()
    other = Database(ctx.url)
    try:
        counts = await asyncio.gather(
            relay(ctx.db, ctx.jobs, ctx.outbox, older_than_s=0, limit=40),
            relay(other, ctx.jobs, ctx.outbox, older_than_s=0, limit=40),
        )
    finally:
        await other.dispose()
    assert sum(counts) == 60 and await _held(ctx) == []  # every row once
    assert (await ctx.jobs.queue(qdef.name).getJobCounts("waiting"))["waiting"] == 60


async def test_the_outbox_keeps_any_payload_redis_would_take(ctx: Any, qdef: QueueDef) -> None:
    """An integer beyond 64 bits is a valid ``int`` payload field and bullmq stores it; so
    does the outbox, and the relay hands it back as that integer."""
    away = SimpleNamespace(**{**vars(ctx), "jobs": Down()})
    async with transaction(away):
        await enqueue_job(away, qdef, "greet", {"text": "big", "times": 2**70}, job_id="big-1")
    assert await relay(ctx.db, ctx.jobs, ctx.outbox, older_than_s=0) == 1
    job = await ctx.jobs.queue(qdef.name).getJob("big-1")
    assert job is not None and job.data["times"] == 2**70


async def test_a_relay_on_a_database_not_migrated_says_to_migrate(
    database_url: str, queues: JobQueues
) -> None:
    """Servers and workers started before ``gen migrate upgrade`` log why, and what to do."""
    table = outbox_table(sa.MetaData())  # declared, never created
    db = Database(database_url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as info:
            await relay(db, queues, table, older_than_s=0)
    finally:
        await db.dispose()
    assert failure_text(info.value, table) == (
        "table flowgen_outbox does not exist: run `gen migrate upgrade` (its revision creates "
        "it); until then a job whose add fails after commit cannot be kept"
    )
    assert failure_text(ConnectionError("redis is down"), table) == (
        "ConnectionError: redis is down"
    )
