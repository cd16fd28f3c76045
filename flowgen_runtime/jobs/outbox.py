"""Enqueue after commit: jobs asked for inside a database transaction wait for its commit.

::

    async with transaction(ctx) as session:
        await session.execute(sa.update(submissions).values(status="submitted"))
        ref = await enqueue_job(ctx, EXAM_QUEUE, "grade_submission", {"submission_id": 7})
        # ref == {"id": "<uuid>", "queue": "exam", "name": "grade_submission", "state": "pending"}
    # committed: the job is in Redis now and ``ref["state"]`` is its real state ("waiting")

If the block raises, the transaction is rolled back and its jobs are dropped: a
rolled-back request never leaves a job behind. Outside a transaction
:func:`~flowgen_runtime.jobs.api.enqueue_job` adds the job at once, as before.

How it works: :func:`transaction` opens a session and puts an :class:`Outbox` in a
context variable; ``enqueue_job`` validates the payload at once (a bad payload is still
a ``BAD_USER_INPUT`` error in the request), gives the job an id (the idempotency key, or
a random one, so the reference is final) and holds it in the outbox. After ``commit()``
the outbox adds the held jobs and updates the references it handed out. A nested
``transaction`` is a SAVEPOINT of the same session; its jobs join the outer outbox only
if the savepoint is released.

The context variable is per asyncio task, so GraphQL fields resolved concurrently never
see each other's transactions.

The services' writes (``EntityService.create/update/delete``...) made inside the block
join it: each runs in a SAVEPOINT of the block's session instead of a transaction of its
own, so the rows and the jobs commit, or roll back, together; the written entities'
cached reads are invalidated after the commit.

Guarantee: no job without a commit, and no commit without its jobs. When the app has
queues its models declare the ``flowgen_outbox`` table (:mod:`.outbox_store`): the held
jobs are written to it in the same transaction, deleted once Redis has them, and a relay
in every server and worker process adds any whose process died (or lost Redis) between
the commit and the ``add``. Delivery is then at least once; a job keeps its id, so a
second ``add`` of a job Redis still holds enqueues nothing. Without that table (a bare
context in a script or test) the jobs are added after the commit only, and
:class:`OutboxFlushError` names the ones Redis did not take.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from flowgen_runtime.jobs import JobQueues, JobRef, PreparedJob
from flowgen_runtime.jobs.outbox_store import forget, table_of, write

__all__ = ["Outbox", "OutboxFlushError", "current_outbox", "current_session", "transaction"]

log = logging.getLogger("flowgen.jobs")


class OutboxFlushError(RuntimeError):
    """The transaction committed but some of its jobs could not be added to Redis."""


@dataclass
class Outbox:
    """Jobs held until the surrounding transaction commits, with the references handed out."""

    session: Any
    pending: list[tuple[PreparedJob, JobRef]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    """Entities written through the services inside the transaction: their cached reads
    are invalidated after the commit (not before: a reader could cache the old rows)."""

    def hold(self, job: PreparedJob) -> JobRef:
        """Keep ``job`` for later; its reference says ``"pending"`` until the flush."""
        if job.job_id is None:
            job = PreparedJob(job.queue, job.name, job.data, {**job.opts, "jobId": new_job_id()})
        ref: JobRef = {
            "id": str(job.job_id),
            "queue": job.queue,
            "name": job.name,
            "state": "pending",
        }
        self.pending.append((job, ref))
        return ref

    @property
    def held(self) -> list[PreparedJob]:
        """The jobs waiting for the flush, in the order they were held."""
        return [job for job, _ in self.pending]

    async def flush(self, jobs: JobQueues) -> list[JobRef]:
        """Add every held job (in order); each handed-out reference gets the real state."""
        pending, self.pending = self.pending, []
        done: list[JobRef] = []
        for index, (job, ref) in enumerate(pending):
            try:
                added = await jobs.add(job)
            except Exception as exc:
                missing = [j.job_id for j, _ in pending[index:]]
                raise OutboxFlushError(f"jobs not enqueued after commit: {missing}") from exc
            ref.update(added)
            done.append(ref)
        return done


_current: ContextVar[Outbox | None] = ContextVar("flowgen_outbox", default=None)


def current_outbox() -> Outbox | None:
    """The outbox of the innermost open :func:`transaction` of this task, if any."""
    return _current.get()


def current_session() -> Any:
    """The session of the open :func:`transaction` (``None`` outside one): write through it
    to make your writes part of the transaction the jobs wait for."""
    outbox = _current.get()
    return outbox.session if outbox is not None else None


@contextlib.asynccontextmanager
async def transaction(ctx: Any) -> AsyncIterator[Any]:
    """A write transaction on ``ctx.db`` whose jobs are enqueued only if it commits."""
    outer = _current.get()
    if outer is not None:
        async with _savepoint(outer) as session:
            yield session
        return
    async with ctx.db.session() as session:
        outbox = Outbox(session)
        token = _current.set(outbox)
        table = None
        try:
            yield session
            if outbox.pending and (table := table_of(ctx)) is not None:
                await write(session, table, outbox.held)
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            _current.reset(token)
        if outbox.touched:
            await ctx.cache.invalidate(*sorted(outbox.touched))
        await _flush(ctx, outbox, table)


async def _flush(ctx: Any, outbox: Outbox, table: Any) -> None:
    jobs = outbox.held  # flush empties pending
    try:
        await outbox.flush(ctx.jobs)
    except OutboxFlushError as exc:
        if table is None:
            log.error("committed, but job(s) were lost: %s", exc)
            raise
        log.warning("%s; they stay in the outbox table and are relayed later", exc)
        return
    if table is not None:
        try:
            await forget(ctx.db, table, jobs)
        except Exception:  # noqa: BLE001 - the relay adds them again: ids make that a no-op
            log.warning("could not delete %d relayed outbox row(s)", len(jobs), exc_info=True)


@contextlib.asynccontextmanager
async def _savepoint(outer: Outbox) -> AsyncIterator[Any]:
    inner = Outbox(outer.session)
    token = _current.set(inner)
    try:
        async with outer.session.begin_nested():
            yield outer.session
    finally:
        _current.reset(token)
    outer.pending += inner.pending  # released: its jobs wait for the outer commit
    outer.touched |= inner.touched


def new_job_id() -> str:
    """A job id for a held job (BullMQ's own ids are only known once added)."""
    return uuid.uuid4().hex
