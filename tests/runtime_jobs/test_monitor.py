"""Queue overview and admin actions against a real Redis."""

from __future__ import annotations

import asyncio

from flowgen_runtime.jobs import (
    JobQueues,
    QueueDef,
    RateLimit,
    WorkerGroup,
    clean,
    pause,
    queue_overview,
    resume,
    retry_failed,
)

from .sample_handlers import queue_def
from .support import running, wait_for_state


async def test_overview_retry_and_clean(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        bad = [await queues.enqueue(qdef, "flaky", {"succeed_on": 2}) for _ in range(2)]
        good = await queues.enqueue(qdef, "greet", {"text": "x"})
        for ref in bad:
            await wait_for_state(queues, qdef.name, ref["id"], {"failed"})
        await wait_for_state(queues, qdef.name, good["id"], {"completed"})

        [overview] = await queue_overview(queues, [qdef.name])
        assert overview["name"] == qdef.name and overview["paused"] is False
        assert overview["counts"]["failed"] == 2 and overview["counts"]["completed"] == 1
        assert overview["completedLastMinute"] == 1 and overview["failedLastMinute"] == 2
        failures = overview["recentFailures"]
        assert {f["id"] for f in failures} == {r["id"] for r in bad}
        assert failures[0]["failedReason"] == "boom on attempt 1"
        assert failures[0]["name"] == "flaky" and failures[0]["finishedOn"].endswith("+00:00")

        # A retried job runs again: attempt 2 succeeds.
        assert await retry_failed(queues, qdef.name) == 2
        for ref in bad:
            await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
        assert await retry_failed(queues, qdef.name) == 0

    assert await clean(queues, qdef.name, "completed", grace_ms=60_000) == 0
    assert await clean(queues, qdef.name, "completed") == 3
    [overview] = await queue_overview(queues, [qdef.name])
    assert sum(overview["counts"].values()) == 0 and overview["recentFailures"] == []


async def test_pause_and_resume(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    await pause(queues, qdef.name)
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        ref = await queues.enqueue(qdef, "greet", {"text": "x"})
        [overview] = await queue_overview(queues, [qdef.name])
        assert overview["paused"] is True
        await asyncio.sleep(0.3)
        assert (await wait_for_state(queues, qdef.name, ref["id"], {"waiting"}))[
            "state"
        ] == "waiting"
        await resume(queues, qdef.name)
        await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
    assert (await queue_overview(queues, [qdef.name]))[0]["paused"] is False


async def test_rate_limit_spaces_jobs_out(queues: JobQueues, redis_url: str, prefix: str) -> None:
    qdef = queue_def("limited")
    qdef = QueueDef(
        qdef.name, qdef.jobs, concurrency=5, rate_limit=RateLimit(max=2, duration_ms=600)
    )
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        refs = [await queues.enqueue(qdef, "greet", {"text": str(i)}) for i in range(3)]
        done = [await wait_for_state(queues, qdef.name, r["id"], {"completed"}) for r in refs]
    started = sorted(s["processedAt"] for s in done)
    from datetime import datetime

    gap = datetime.fromisoformat(started[2]) - datetime.fromisoformat(started[0])
    # bullmq alone waits drainDelay (5 s) after the limit: see the worker module docstring.
    assert 0.55 <= gap.total_seconds() < 2, started
