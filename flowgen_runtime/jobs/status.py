"""Looking up one job, for a ``jobStatus`` query or a polling client.

::

    >>> await job_status(queues, "grading", "grade-7")
    {'id': 'grade-7', 'queue': 'grading', 'name': 'grade_submission', 'state': 'completed',
     'progress': 100, 'attemptsMade': 1, 'result': {'score': 9}, 'failedReason': None,
     'createdAt': '2025-01-02T03:04:05.678+00:00', 'processedAt': '...', 'finishedAt': '...',
     'requestId': 'req-42'}

``None`` means there is no such job (never added, or already removed by its
retention settings). Jobs of a paused queue show as ``"waiting"``, as in BullMQ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flowgen_runtime.jobs.enqueue import META_KEY, STATES, JobQueues

__all__ = ["STATES", "iso_time", "job_status"]


async def job_status(queues: JobQueues, queue: str, job_id: str) -> dict[str, Any] | None:
    """The job's state, progress, attempts, result or failure, and timestamps; ``None`` if gone."""
    bull_queue = queues.queue(queue)
    # The job hash and its state are two reads; re-read until the state did not
    # change around the hash read, so a "completed" job never lacks its result.
    state = await bull_queue.getJobState(job_id)
    for _ in range(5):
        job = await bull_queue.getJob(job_id)
        if job is None:
            return None
        state, before = await bull_queue.getJobState(job_id), state
        if state == before:
            break
    meta = job.data.get(META_KEY) if isinstance(job.data, dict) else None
    return {
        "id": str(job.id),
        "queue": queue,
        "name": job.name,
        "state": state if state in STATES else "unknown",
        "progress": job.progress,
        "attemptsMade": job.attemptsMade,
        "result": job.returnvalue,
        "failedReason": job.failedReason,
        "createdAt": iso_time(job.timestamp),
        "processedAt": iso_time(job.processedOn),
        "finishedAt": iso_time(job.finishedOn),
        "requestId": meta.get("request_id") if isinstance(meta, dict) else None,
        "owner": meta.get("owner") if isinstance(meta, dict) else None,
    }


def iso_time(epoch_ms: int | None) -> str | None:
    """BullMQ's epoch milliseconds as ISO-8601 UTC; ``None`` for 0 or missing.

    >>> iso_time(1735787045678)
    '2025-01-02T03:04:05.678+00:00'
    """
    if not epoch_ms:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
