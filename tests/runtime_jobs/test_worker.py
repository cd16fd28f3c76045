"""Workers end to end on a real Redis: handlers, failures, retries, delays, timeouts, stop."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

import bullmq
import pytest
from flowgen_runtime.core.logging import configure_logging, log_json_line
from flowgen_runtime.jobs import (
    Backoff,
    JobOptions,
    JobQueues,
    QueueDef,
    Schedule,
    WorkerGroup,
    job_status,
)
from flowgen_runtime.jobs import runner as worker_module

from ..redis_server import RedisServer
from . import sample_handlers
from .sample_handlers import RETRYING, queue_def
from .support import running, wait_for_state


async def test_enqueue_and_process_end_to_end(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="flowgen.jobs")
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        ref = await queues.enqueue(qdef, "greet", {"text": "ab", "times": 2}, request_id="req-7")
        status = await wait_for_state(queues, qdef.name, ref["id"], {"completed"})

    assert status["result"] == {"text": "abab", "request_id": "req-7", "attempt": 1}
    assert status["attemptsMade"] == 1 and status["failedReason"] is None
    assert status["requestId"] == "req-7" and status["name"] == "greet"
    assert status["createdAt"] <= status["processedAt"] <= status["finishedAt"]
    assert status["finishedAt"].endswith("+00:00")

    handler_line = next(r for r in caplog.records if r.getMessage() == "greeting")
    fields = ("job_id", "queue", "job_name", "attempt", "request_id")
    assert {f: getattr(handler_line, f) for f in fields} == {
        "job_id": ref["id"],
        "queue": qdef.name,
        "job_name": "greet",
        "attempt": 1,
        "request_id": "req-7",
    }
    job_lines = [r for r in caplog.records if hasattr(r, "job_id")]
    assert len(job_lines) == 3  # started, the handler's line, completed
    assert [r.levelno for r in job_lines] == [logging.DEBUG, logging.INFO, logging.INFO]
    assert all(getattr(r, "request_id") == "req-7" for r in job_lines)  # noqa: B009


async def test_job_lines_written_without_log_records_carry_the_job_fields(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []

    def counting(logger: logging.Logger, level: int, msg: object, *rest: Any) -> bool:
        done = log_json_line(logger, level, msg, *rest)
        if done:
            written.append(str(msg))
        return done

    monkeypatch.setattr(worker_module, "log_json_line", counting)
    stream = io.StringIO()
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    configure_logging("INFO", "json", stream=stream)
    root.handlers = [h for h in root.handlers if h not in saved]  # ours alone, as in a worker
    try:
        async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
            ref = await queues.enqueue(qdef, "greet", {"text": "ab"}, request_id="req-8")
            await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
    finally:
        root.handlers, root.level = saved, level
    assert written == ["greeting", "job %s completed in %.0f ms"]  # no LogRecord for either
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    job_lines = [e for e in entries if "job_id" in e]
    assert [e["msg"] for e in job_lines][0] == "greeting"
    assert job_lines[1]["msg"].startswith(f"job {qdef.name}/greet#{ref['id']} completed in ")
    for entry in job_lines:
        assert {k: entry[k] for k in ("job_id", "queue", "job_name", "attempt", "request_id")} == {
            "job_id": ref["id"], "queue": qdef.name, "job_name": "greet", "attempt": 1,
            "request_id": "req-8",
        }  # fmt: skip
        assert entry["logger"] == "flowgen.jobs" and entry["level"] == "INFO"


async def test_explicit_handlers_context_extra_and_pydantic_results(
    queues: JobQueues, redis_url: str, prefix: str
) -> None:
    qdef = queue_def("explicit")

    async def sleep(payload, ctx):
        return sample_handlers.Result(slept=ctx.extra["factor"] * payload.seconds)

    async def extra() -> dict:
        return {"factor": 2}

    handlers = {("explicit", "sleep"): sleep}
    group = WorkerGroup([qdef], redis_url, prefix=prefix, handlers=handlers, context_extra=extra)
    async with running(group):
        ref = await queues.enqueue(qdef, "sleep", {"seconds": 5})
        status = await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
    assert status["result"] == {"slept": 10.0}


async def test_invalid_payload_in_worker_fails_at_once_without_retry(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    raw = queues.queue(qdef.name)
    job = await raw.add("greet", {"text": "", "times": "x"}, {"attempts": 3})
    unknown = await raw.add("no_such_job", {}, {"attempts": 3})
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        status = await wait_for_state(queues, qdef.name, job.id, {"failed"})
        other = await wait_for_state(queues, qdef.name, unknown.id, {"failed"})
    assert status["attemptsMade"] == 1
    assert status["failedReason"] == (
        "invalid payload for job 'greet': text: String should have at least 1 character; "
        "times: Input should be a valid integer, unable to parse string as an integer"
    )
    assert other["attemptsMade"] == 1
    assert other["failedReason"] == f"queue '{qdef.name}' has no job 'no_such_job'"


async def test_retries_with_backoff_until_success(
    queues: JobQueues, redis_url: str, prefix: str
) -> None:
    qdef = queue_def(f"retrying-{prefix}", flaky=RETRYING)  # attempts=3, fixed backoff 200 ms
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        ref = await queues.enqueue(qdef, "flaky", {"succeed_on": 3})
        status = await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
    assert status["result"] == "ok on attempt 3" and status["attemptsMade"] == 3
    calls = sample_handlers.CALLS.pop(f"{qdef.name}/{ref['id']}")
    gaps = [later - earlier for earlier, later in zip(calls, calls[1:], strict=False)]
    assert len(calls) == 3 and all(0.19 <= gap < 0.9 for gap in gaps), gaps


async def test_custom_backoff_waits_the_listed_delays(
    queues: JobQueues, redis_url: str, prefix: str
) -> None:
    custom = JobOptions(attempts=4, backoff=Backoff("custom", delays_ms=(100, 700)))
    qdef = queue_def(f"custom-{prefix}", flaky=custom)
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        ref = await queues.enqueue(qdef, "flaky", {"succeed_on": 4})
        status = await wait_for_state(queues, qdef.name, ref["id"], {"completed"}, timeout=10)
        stored = (await queues.queue(qdef.name).getJob(ref["id"])).opts["backoff"]
    assert status["attemptsMade"] == 4 and stored == {"type": "custom"}  # Node-readable
    calls = sample_handlers.CALLS.pop(f"{qdef.name}/{ref['id']}")
    gaps = [later - earlier for earlier, later in zip(calls, calls[1:], strict=False)]
    # 100 ms after the 1st failure, 700 ms after the 2nd, the last delay repeats after the 3rd
    assert 0.09 <= gaps[0] < 0.5 and 0.69 <= gaps[1] < 1.3 and 0.69 <= gaps[2] < 1.3, gaps


async def test_exhausted_attempts_fail_with_the_last_error(
    queues: JobQueues, redis_url: str, prefix: str
) -> None:
    qdef = queue_def("exhausted", flaky=JobOptions(attempts=2, backoff=Backoff("fixed", 50)))
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        ref = await queues.enqueue(qdef, "flaky", {"succeed_on": 5})
        status = await wait_for_state(queues, qdef.name, ref["id"], {"failed"})
    assert status["attemptsMade"] == 2 and status["failedReason"] == "boom on attempt 2"


async def test_a_refusal_of_the_service_layer_fails_the_job_at_once(
    queues: JobQueues, redis_url: str, prefix: str
) -> None:
    """Bad input, a missing row, a permission or a conflict is refused again on every
    attempt: the job fails on the first, with the refusal as its reason."""
    qdef = queue_def("refusals", refuse=RETRYING)
    kinds = ["UserInputError", "NotFoundError", "ForbiddenError", "ConflictError"]
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        refs = [await queues.enqueue(qdef, "refuse", {"error": kind}) for kind in kinds]
        done = [await wait_for_state(queues, qdef.name, r["id"], {"failed"}) for r in refs]
        await asyncio.sleep(0.5)  # a retry (200 ms backoff) would have run by now
    reasons = [d["failedReason"] for d in done]
    assert reasons == [
        "Invalid input: input.examId: no Exam with id 9",
        "refused by NotFoundError",
        "refused by ForbiddenError",
        "refused by ConflictError",
    ]
    assert [d["attemptsMade"] for d in done] == [1, 1, 1, 1]
    assert [len(sample_handlers.CALLS.pop(f"{qdef.name}/{r['id']}")) for r in refs] == [1] * 4


async def test_delayed_jobs_run_on_time(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    # bullmq alone would round both delays up to whole seconds (2.0 s and 1.0 s):
    # see the worker module docstring.
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        start = time.time()
        slow = await queues.enqueue(qdef, "greet", {"text": "slow"}, delay_ms=1500)
        fast = await queues.enqueue(qdef, "greet", {"text": "fast"}, delay_ms=300)
        assert slow["state"] == fast["state"] == "delayed"
        fast_status = await wait_for_state(queues, qdef.name, fast["id"], {"completed"})
        slow_status = await wait_for_state(queues, qdef.name, slow["id"], {"completed"})

    def ran_after(status: dict) -> float:
        processed = status["processedAt"]
        from datetime import datetime

        return datetime.fromisoformat(processed).timestamp() - start

    assert 0.28 <= ran_after(fast_status) < 0.9
    assert 1.45 <= ran_after(slow_status) < 3.5


async def test_timeout_fails_the_attempt(queues: JobQueues, redis_url: str, prefix: str) -> None:
    qdef = queue_def("timeouts", sleep=JobOptions(timeout_ms=200))
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        started = time.monotonic()
        ref = await queues.enqueue(qdef, "sleep", {"seconds": 5})
        status = await wait_for_state(queues, qdef.name, ref["id"], {"failed"})
    assert time.monotonic() - started < 2
    assert status["failedReason"] == "timed out after 200 ms" and status["attemptsMade"] == 1


async def test_progress_and_status_while_active(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    assert await job_status(queues, qdef.name, "missing") is None
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        ref = await queues.enqueue(qdef, "sleep", {"seconds": 0.6, "progress": 40})
        active = await wait_for_state(queues, qdef.name, ref["id"], {"active"})
        while active["progress"] != 40:
            active = await wait_for_state(queues, qdef.name, ref["id"], {"active"})
        done = await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
    assert active["processedAt"] is not None and active["finishedAt"] is None
    assert active["result"] is None and active["attemptsMade"] == 0
    assert set(active) == {
        "id", "queue", "name", "state", "progress", "attemptsMade", "result",
        "failedReason", "createdAt", "processedAt", "finishedAt", "requestId", "owner",
    }  # fmt: skip
    assert done["progress"] == 40 and done["result"] == {"slept": 0.6}


async def test_stop_lets_the_active_job_finish(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    group = WorkerGroup([qdef], redis_url, prefix=prefix)
    async with running(group) as task:
        ref = await queues.enqueue(qdef, "sleep", {"seconds": 1})
        await wait_for_state(queues, qdef.name, ref["id"], {"active"})
        waiting = await queues.enqueue(qdef, "sleep", {"seconds": 0}, delay_ms=200)
        group.stop()
        await asyncio.wait_for(task, 5)
        status = await job_status(queues, qdef.name, ref["id"])
    assert status is not None and status["state"] == "completed"
    # Stopped workers fetch nothing more, so the delayed job stays queued.
    await asyncio.sleep(0.4)
    await wait_for_state(queues, qdef.name, waiting["id"], {"delayed", "waiting"}, timeout=0)


async def test_force_stop_cancels_the_active_job(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    group = WorkerGroup([qdef], redis_url, prefix=prefix)
    async with running(group) as task:
        ref = await queues.enqueue(qdef, "sleep", {"seconds": 30})
        await wait_for_state(queues, qdef.name, ref["id"], {"active"})
        started = time.monotonic()
        group.stop(force=True)
        await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 2
    # Left active (locked) until BullMQ's stalled check gives it to another worker.
    await wait_for_state(queues, qdef.name, ref["id"], {"active"}, timeout=0)


async def test_schedule_every_ms_fires_repeatedly(
    queues: JobQueues, redis_url: str, prefix: str
) -> None:
    qdef = queue_def("scheduled", tick=Schedule(every_ms=400))
    raw = queues.queue(qdef.name)
    # A scheduler no longer in the spec is removed with its next (delayed) job.
    await raw.upsertJobScheduler("tick-old", {"pattern": "0 0 1 1 *"}, "tick", {})
    assert [job.id for job in await raw.getDelayed()] == [await _next_job_id(raw, "tick-old")]
    sample_handlers.TICKS.clear()
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix)):
        deadline = time.monotonic() + 3
        while len(sample_handlers.TICKS) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        schedulers = await raw.getJobSchedulers()
        delayed = [job.id for job in await raw.getDelayed()]
    assert delayed == [await _next_job_id(raw, "tick")]
    ticks = sample_handlers.TICKS[:3]
    assert len(ticks) == 3, ticks
    # Scheduler job ids are "repeat:<scheduler id>:<slot ms>", one slot every 400 ms.
    slots = [int(job_id.rsplit(":", 1)[1]) for job_id in ticks]
    assert [b - a for a, b in zip(slots, slots[1:], strict=False)] == [400, 400], ticks
    assert [(s["key"], s["every"]) for s in schedulers] == [("tick", 400)]


async def _next_job_id(raw: bullmq.Queue, scheduler_id: str) -> str:
    record = await raw.getJobScheduler(scheduler_id)
    return f"repeat:{scheduler_id}:{record['next']}"


async def test_a_worker_goes_on_after_redis_restarts(tmp_path: Path, qdef: QueueDef) -> None:
    """Redis restarted (a deploy, a failover) under a running worker: once it is back the
    worker takes new jobs again, without a restart of its own."""
    server = RedisServer(tmp_path)
    server.start()
    producer = JobQueues(server.url, prefix="restart")
    try:
        async with running(WorkerGroup([qdef], server.url, prefix="restart")):
            before = await producer.enqueue(qdef, "greet", {"text": "before"})
            await wait_for_state(producer, qdef.name, before["id"], {"completed"})
            server.stop()
            await asyncio.sleep(1)  # the worker's connections fail meanwhile
            server.start()
            after = await producer.enqueue(qdef, "greet", {"text": "after"})
            done = await wait_for_state(producer, qdef.name, after["id"], {"completed"}, 20)
        assert done["result"]["text"] == "after"
    finally:
        await producer.close()
        server.close()
