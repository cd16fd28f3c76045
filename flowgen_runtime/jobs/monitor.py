"""Queue overview and admin actions, for an admin API or a command line.

::

    >>> await queue_overview(queues, ["grading"])
    [{'name': 'grading', 'paused': False,
      'counts': {'waiting': 0, 'active': 1, 'completed': 40, 'failed': 2, 'delayed': 0,
                 'prioritized': 0, 'waiting-children': 0},
      'completedLastMinute': 12, 'failedLastMinute': 0,
      'recentFailures': [{'id': '41', 'name': 'grade_submission',
                          'failedReason': 'timed out after 5000 ms',
                          'finishedOn': '2025-01-02T03:04:05.678+00:00'}]}]
    >>> await retry_failed(queues, "grading")
    2

Everything goes through BullMQ's own scripts and key layout, so Node tooling
(Bull Board, Taskforce) sees the same queues.

Throughput: BullMQ's metrics (``metrics:completed`` keys) are written only when
a worker opts in, are kept per whole minute, and bullmq 3.4.4 for Python has no
``Queue.getMetrics``. So ``completedLastMinute`` / ``failedLastMinute`` count
instead the jobs in the completed / failed sets that finished in the last 60 s
(one ``ZCOUNT`` each on the set's finish-time score). Jobs already removed by
``remove_on_complete`` / ``remove_on_fail`` are not counted: with a retention of
``count=N`` the figure is at most N.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import bullmq
from flowgen_runtime.jobs.enqueue import JobQueues
from flowgen_runtime.jobs.status import iso_time

__all__ = ["CLEANABLE_STATES", "clean", "pause", "queue_overview", "resume", "retry_failed"]

RECENT_FAILURES = 10

# Our state names -> the set names BullMQ's clean script takes.
_CLEAN_SETS = {
    "waiting": "wait",
    "wait": "wait",
    "active": "active",
    "paused": "paused",
    "delayed": "delayed",
    "prioritized": "prioritized",
    "completed": "completed",
    "failed": "failed",
}
CLEANABLE_STATES = tuple(_CLEAN_SETS)
"""The states :func:`clean` takes."""


async def queue_overview(queues: JobQueues, names: Sequence[str]) -> list[dict[str, Any]]:
    """Counts by state, paused flag, finished in the last 60 s and the last 10 failures."""
    return list(await asyncio.gather(*(_overview(queues.queue(name)) for name in names)))


async def _overview(queue: bullmq.Queue) -> dict[str, Any]:
    since = int(time.time() * 1000) - 60_000
    counts = await queue.getJobCounts()
    failures = await queue.getFailed(0, RECENT_FAILURES - 1)
    return {
        "name": queue.name,
        "paused": await queue.isPaused(),
        "counts": counts,
        "completedLastMinute": await queue.client.zcount(queue.keys["completed"], since, "+inf"),
        "failedLastMinute": await queue.client.zcount(queue.keys["failed"], since, "+inf"),
        "recentFailures": [
            {
                "id": str(job.id),
                "name": job.name,
                "failedReason": job.failedReason,
                "finishedOn": iso_time(job.finishedOn),
            }
            for job in failures
        ],
    }


async def retry_failed(queues: JobQueues, name: str) -> int:
    """Move every failed job of queue ``name`` back to waiting; return how many there were."""
    queue = queues.queue(name)
    now = int(time.time() * 1000)
    count = int(await queue.client.zcount(queue.keys["failed"], "-inf", now))
    if count:
        await queue.retryJobs({"state": "failed", "timestamp": now})
    return count


async def clean(queues: JobQueues, name: str, state: str = "failed", grace_ms: int = 0) -> int:
    """Remove the jobs in ``state`` older than ``grace_ms``; return how many were removed."""
    if state not in _CLEAN_SETS:
        raise ValueError(f"cannot clean state {state!r}; use one of {', '.join(_CLEAN_SETS)}")
    removed = await queues.queue(name).clean(grace_ms, 0, _CLEAN_SETS[state])
    return len(removed)


async def pause(queues: JobQueues, name: str) -> None:
    """Pause queue ``name`` for every worker; active jobs finish, new ones wait."""
    await queues.queue(name).pause()


async def resume(queues: JobQueues, name: str) -> None:
    """Resume a paused queue."""
    await queues.queue(name).resume()
