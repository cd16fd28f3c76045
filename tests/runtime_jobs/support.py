"""Helpers for the jobs runtime tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Collection
from typing import Any

from flowgen_runtime.jobs import JobQueues, WorkerGroup, job_status


@contextlib.asynccontextmanager
async def running(group: WorkerGroup) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``group`` in the background until the block ends, then stop it and wait."""
    task = asyncio.ensure_future(group.run())
    deadline = time.monotonic() + 5
    while not (group._workers and all(w.running for w in group._workers)):
        if task.done():
            task.result()
        assert time.monotonic() < deadline, "workers did not start"
        await asyncio.sleep(0.01)
    try:
        yield task
    finally:
        group.stop()
        await asyncio.wait_for(task, 10)


async def wait_for_state(
    queues: JobQueues, queue: str, job_id: str, states: Collection[str], timeout: float = 5
) -> dict[str, Any]:
    """Poll ``job_status`` until the job is in one of ``states``; return that status."""
    deadline = time.monotonic() + timeout
    while True:
        status = await job_status(queues, queue, job_id)
        if status is not None and status["state"] in states:
            return status
        assert time.monotonic() < deadline, f"job {job_id} never reached {states}: {status}"
        await asyncio.sleep(0.02)
