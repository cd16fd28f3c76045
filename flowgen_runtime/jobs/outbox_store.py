"""The durable outbox: a table of jobs whose transaction committed, until Redis has them.

:func:`~flowgen_runtime.jobs.outbox.transaction` writes its held jobs into ``flowgen_outbox``
in the same database transaction as the rows they go with, so the commit makes both
durable at once. After the commit the jobs are added to Redis and their rows deleted.
Should the process die (or Redis be unreachable) in between, the rows stay, and
:func:`relay` - run every few seconds by each server and worker process
(:class:`Relay`) - adds them later. A job keeps its id, and BullMQ ignores an ``add``
whose id it already holds, so adding twice enqueues once: delivery is at least once,
never lost, never doubled while the first job is still kept in Redis.

The table is part of an app's models (``models/base.py`` declares it with
:func:`outbox_table` when the specs have queues), so its migrations create it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:  # not imported at run time: an app's models import this module
    from flowgen_runtime.jobs import JobQueues, PreparedJob

__all__ = ["OUTBOX_TABLE", "Relay", "forget", "outbox_table", "relay", "table_of", "write"]

OUTBOX_TABLE = "flowgen_outbox"
_BATCH = 500  # rows one relay round adds at most
log = logging.getLogger("flowgen.jobs")


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Declare ``flowgen_outbox`` on ``metadata`` (an app's ``Base.metadata``)."""
    return sa.Table(
        OUTBOX_TABLE,
        metadata,
        sa.Column("queue", sa.String(255), primary_key=True),
        sa.Column("job_id", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("data", sa.Text, nullable=False, comment="the job's data, JSON"),
        sa.Column("opts", sa.Text, nullable=False, comment="its BullMQ options, JSON"),
        sa.Column("held_at_ms", sa.BigInteger, nullable=False, comment="commit time, epoch ms"),
        sa.Index("ix_flowgen_outbox_held_at_ms", "held_at_ms"),
        comment="Jobs of committed transactions not yet confirmed in Redis (flowgen_runtime)",
    )


def table_of(ctx: Any) -> sa.Table | None:
    """The app's outbox table, or None (an app without queues, a bare test context)."""
    metadata = getattr(getattr(ctx, "registry", None), "metadata", None)
    return None if metadata is None else metadata.tables.get(OUTBOX_TABLE)


async def write(session: Any, table: sa.Table, jobs: Sequence[PreparedJob]) -> None:
    """Insert ``jobs`` in the session's transaction (raises if one cannot be stored).

    Data and options are JSON from the standard library, as bullmq writes them to Redis
    (orjson refuses integers beyond 64 bits and reads them back as floats)."""
    now = int(time.time() * 1000)
    rows = [
        {
            "queue": j.queue, "job_id": str(j.job_id), "name": j.name,
            "data": json.dumps(j.data), "opts": json.dumps(j.opts),
            "held_at_ms": now,
        }
        for j in jobs
    ]  # fmt: skip
    await session.execute(sa.insert(table), rows)


async def forget(db: Any, table: sa.Table, jobs: Iterable[PreparedJob]) -> None:
    """Delete the rows of jobs Redis now has."""
    jobs = list(jobs)
    if jobs:
        async with db.session() as session:
            await _delete(session, table, jobs)
            await session.commit()


async def _delete(session: Any, table: sa.Table, jobs: Iterable[PreparedJob]) -> None:
    by_queue: dict[str, list[str]] = {}
    for j in jobs:
        by_queue.setdefault(j.queue, []).append(str(j.job_id))
    for queue, ids in by_queue.items():
        where = sa.and_(table.c.queue == queue, table.c.job_id.in_(ids))
        await session.execute(sa.delete(table).where(where))


async def relay(
    db: Any, jobs: JobQueues, table: sa.Table, *, older_than_s: float, limit: int = _BATCH
) -> int:
    """Add the jobs held longer than ``older_than_s`` (their flush did not happen) and
    delete their rows; returns how many. Relays of several processes share the work, each
    row going to one of them: the rows are claimed by deleting them first (PostgreSQL
    skips rows another relay has locked; on SQLite, which has no row locks, the write lock
    makes a second relay wait and find them gone). A failure rolls the deletion back,
    leaving the rows for later."""
    from flowgen_runtime.jobs import PreparedJob

    cutoff = int((time.time() - older_than_s) * 1000)
    due = table.c.held_at_ms <= cutoff
    if db.is_sqlite:  # take the database's write lock only when there is something to claim
        async with db.read() as reader:
            if await reader.scalar(sa.select(table.c.job_id).where(due).limit(1)) is None:
                return 0
    oldest = sa.select(table.c.queue, table.c.job_id).where(due).order_by(table.c.held_at_ms)
    oldest = oldest.limit(limit).with_for_update(skip_locked=True)  # SQLite: no FOR UPDATE
    claim = sa.delete(table).where(sa.tuple_(table.c.queue, table.c.job_id).in_(oldest))
    returned = (table.c.queue, table.c.name, table.c.data, table.c.opts, table.c.held_at_ms)
    async with db.session() as session:
        rows = sorted((await session.execute(claim.returning(*returned))).all(), key=_held_at)
        held = [PreparedJob(r.queue, r.name, json.loads(r.data), json.loads(r.opts)) for r in rows]
        for job in held:  # in commit order; a failure leaves every row for the next round
            await jobs.add(job)
        await session.commit()
    if held:
        log.warning(
            "outbox relay added %d job(s) whose transaction committed without them reaching "
            "Redis: %s", len(held), [f"{j.queue}/{j.job_id}" for j in held],
        )  # fmt: skip
    return len(held)


def _held_at(row: Any) -> int:
    """A claimed row's commit time: RETURNING follows no order."""
    return int(row.held_at_ms)


class Relay:
    """:func:`relay` every ``interval_s`` in the background of a server or worker."""

    def __init__(
        self, db: Any, jobs: JobQueues, table: sa.Table, *, interval_s: float, after_s: float
    ) -> None:
        self.db, self.jobs, self.table = db, jobs, table
        self.interval_s, self.after_s = interval_s, after_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="flowgen-outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        failing = False
        while True:
            try:
                full = True
                while full:  # a full batch may have more behind it
                    added = await relay(self.db, self.jobs, self.table, older_than_s=self.after_s)
                    full = added == _BATCH
                failing = False
            except Exception as exc:  # noqa: BLE001 - Redis or the database away: next round
                # once per outage, not every round
                level = logging.DEBUG if failing else logging.WARNING
                log.log(level, "outbox relay failed (%s); retrying every %g s",
                        failure_text(exc, self.table), self.interval_s)  # fmt: skip
                failing = True
            await asyncio.sleep(self.interval_s)


def failure_text(exc: Exception, table: sa.Table) -> str:
    """What went wrong, in a line; a database not migrated yet says what to run."""
    orig = getattr(exc, "orig", None)
    code = getattr(getattr(orig, "__cause__", None), "sqlstate", None)  # asyncpg's
    if code == "42P01" or "no such table" in str(orig):  # PostgreSQL's / SQLite's
        return (
            f"table {table.name} does not exist: run `gen migrate upgrade` (its revision "
            "creates it); until then a job whose add fails after commit cannot be kept"
        )
    return f"{type(exc).__name__}: {exc}"
