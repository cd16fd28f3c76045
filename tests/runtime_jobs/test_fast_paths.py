"""The worker's and producers' fast paths on a real Redis: pipelined script calls, and the
next job fetched by ``moveToFinished`` (see ``flowgen_runtime.jobs.bullmq_compat.worker``)."""

from __future__ import annotations

import asyncio
from typing import Any

import bullmq
import pytest
from flowgen_runtime.jobs import JobQueues, QueueDef, WorkerGroup, job_status
from flowgen_runtime.jobs.bullmq_compat.pipeline import AutoPipeline, autopipeline
from flowgen_runtime.jobs.enqueue import _connection
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from ..redis_proxy import cutting_proxy
from .support import running, wait_for_state


async def test_autopipeline_sends_concurrent_calls_in_few_round_trips(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    pipeline = AutoPipeline(client)
    try:
        sha = await client.script_load("return {KEYS[1], ARGV[1]}")
        results = await asyncio.gather(
            *(pipeline.evalsha(sha, 1, f"k{i}", str(i)) for i in range(200))
        )
        assert results == [[f"k{i}", str(i)] for i in range(200)]  # each caller gets its own
        assert pipeline.round_trips <= pipeline.max_in_flight  # one batch per slot at most
    finally:
        await pipeline.aclose()


async def test_autopipeline_splits_many_calls_over_both_batch_slots(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    pipeline = AutoPipeline(client, in_flight=2, split_from=8, eager=10**6)  # no eager batch
    try:
        sha = await client.script_load("return ARGV[1]")
        few = await asyncio.gather(*(pipeline.evalsha(sha, 0, str(i)) for i in range(15)))
        assert few == [str(i) for i in range(15)] and pipeline.round_trips == 1  # not split
        many = await asyncio.gather(*(pipeline.evalsha(sha, 0, str(i)) for i in range(40)))
        assert many == [str(i) for i in range(40)]
        assert pipeline.round_trips == 1 + 2  # Redis runs one half while the other is read
    finally:
        await pipeline.aclose()


async def test_autopipeline_writes_eager_batches_before_the_iteration_ends(
    redis_url: str,
) -> None:
    """With a connection idle, the 8th waiting call sends the 8 at once: Redis runs them
    while this loop iteration goes on (here: 8 more calls, then 4 left for its end)."""
    client = Redis.from_url(redis_url, decode_responses=True)
    pipeline = AutoPipeline(client, eager=8)
    seen: list[int] = []

    async def observe() -> None:
        seen.append(pipeline.round_trips)  # runs in the same iteration as the calls

    try:
        sha = await client.script_load("return ARGV[1]")
        assert await pipeline.evalsha(sha, 0, "warm") == "warm"  # leaves a connection idle
        calls = [pipeline.evalsha(sha, 0, str(i)) for i in range(20)]
        results = await asyncio.gather(*calls[:8], observe(), *calls[8:])
        assert results[:8] + results[9:] == [str(i) for i in range(20)]
        assert seen == [2]  # the warm-up and the first eager batch, before the iteration ended
        assert pipeline.round_trips == 1 + 1 + 1  # the 12 others: no idle connection left
    finally:
        await pipeline.aclose()


async def test_autopipeline_hands_a_long_idle_connection_back_to_the_pool(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis may close an idle connection (its ``timeout`` setting): one not used for
    ``_FRESH_S`` goes back to the pool, which checks it, instead of failing a batch."""
    from flowgen_runtime.jobs.bullmq_compat import pipeline as _pipeline

    name = f"fgtest-idle-{id(object())}"
    client = Redis.from_url(redis_url, decode_responses=True, client_name=name)
    admin = Redis.from_url(redis_url, decode_responses=True)
    pipeline = AutoPipeline(client)
    try:
        sha = await client.script_load("return ARGV[1]")
        assert await pipeline.evalsha(sha, 0, "before") == "before"
        for c in await admin.client_list():
            if c["name"] == name:
                await admin.client_kill_filter(_id=c["id"])
        monkeypatch.setattr(_pipeline, "_FRESH_S", 0.0)  # as if a while had passed
        assert await pipeline.evalsha(sha, 0, "after") == "after"  # no retry on this client
    finally:
        await pipeline.aclose()
        await admin.aclose()


async def test_autopipeline_errors_reach_only_their_caller(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    pipeline = AutoPipeline(client)
    try:
        ok = await client.script_load("return ARGV[1]")
        bad = await client.script_load("return redis.call('INCR', KEYS[1])")
        key = "fgtest-autopipeline-not-a-number"
        await client.set(key, "x")
        outcomes = await asyncio.gather(
            pipeline.evalsha(ok, 0, "a"),
            pipeline.evalsha("0" * 40, 0),  # unknown script
            pipeline.evalsha(bad, 1, key),  # a script raising a Redis error
            pipeline.evalsha(ok, 0, "b"),
            return_exceptions=True,
        )
        assert outcomes[0] == "a" and outcomes[3] == "b"
        assert isinstance(outcomes[1], NoScriptError)
        assert isinstance(outcomes[2], ResponseError)
        assert pipeline.round_trips == 1
        await client.delete(key)
    finally:
        await pipeline.aclose()


async def test_a_connection_lost_mid_batch_sends_again_only_unanswered_calls(
    redis_url: str, prefix: str
) -> None:
    """A call whose answer was read is done: it is not run again when the connection is
    lost while the batch's later answers are on their way (those calls are sent again,
    as redis-py retries a command whose answer it lost: at least once)."""
    server, port = await cutting_proxy(redis_url, passed=1)
    pipeline = AutoPipeline(Redis(host="127.0.0.1", port=port, decode_responses=True))
    keys = [f"{prefix}:a", f"{prefix}:b", f"{prefix}:c"]
    try:
        results = await asyncio.gather(*(pipeline.call(("INCR", k)) for k in keys))
        direct = Redis.from_url(redis_url, decode_responses=True)
        counts = [await direct.get(k) for k in keys]
        await direct.aclose()
    finally:
        await pipeline.aclose()
        server.close()
    assert counts[0] == "1" and results[0] == 1  # answered once, never sent again
    assert results[1:] == [2, 2] and counts[1:] == ["2", "2"]  # their answers were lost
    assert pipeline.round_trips == 1


async def test_pipelined_script_loads_a_script_redis_does_not_know(redis_url: str) -> None:
    from flowgen_runtime.jobs.bullmq_compat.pipeline import PipelinedScript

    client = Redis.from_url(redis_url, decode_responses=True)
    pipeline = AutoPipeline(client)
    unique = f"fgtest {id(pipeline)} {asyncio.get_running_loop().time()}"
    script = PipelinedScript(client.register_script(f"return {{ARGV[1], '{unique}'}}"), pipeline)
    try:
        assert not (await client.script_exists(script.sha))[0]
        assert await script(keys=[], args=["a"]) == ["a", unique]  # NOSCRIPT, loaded, again
        assert await script(args=["b"]) == ["b", unique]
        assert await script([], ["c"], client) == ["c", unique]  # its own client: directly
        assert pipeline.round_trips == 3
    finally:
        await pipeline.aclose()


async def test_bullmq_queue_through_autopipeline_keeps_the_standard_layout(
    redis_url: str, prefix: str
) -> None:
    queue = bullmq.Queue(
        "pipelined", {"connection": _connection(redis_url, False), "prefix": prefix}
    )
    pipeline = autopipeline(queue)
    assert pipeline is not None
    try:
        jobs = await asyncio.gather(*(queue.add("noop", {"n": i}) for i in range(50)))
        assert pipeline.round_trips <= pipeline.max_in_flight
        assert await queue.getJobCounts("waiting") == {"waiting": 50}
        first = await queue.getJob(jobs[0].id)
        assert first is not None and first.data == {"n": 0} and first.name == "noop"
    finally:
        await queue.obliterate(force=True)
        await queue.close()
        await pipeline.aclose()


async def test_worker_takes_the_next_job_from_move_to_finished(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    refs = [await queues.enqueue(qdef, "greet", {"text": str(i)}) for i in range(30)]
    group = WorkerGroup([qdef], redis_url, prefix=prefix, concurrency=1)
    async with running(group):
        for i, ref in enumerate(refs):
            status = await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
            assert status["result"]["text"] == str(i)  # in order, each with its own result
            assert status["attemptsMade"] == 1
        worker = group._workers[0]
        # one moveToActive for the first job; the others came with the previous completion
        assert worker.fetched_next >= len(refs) - 2


async def test_stopping_worker_fetches_no_next_job(
    queues: JobQueues, qdef: QueueDef, redis_url: str, prefix: str
) -> None:
    refs = [await queues.enqueue(qdef, "sleep", {"seconds": 0.3}) for _ in range(4)]
    group = WorkerGroup([qdef], redis_url, prefix=prefix, concurrency=1)
    async with running(group) as task:
        await wait_for_state(queues, qdef.name, refs[0]["id"], {"active"})
        group.stop()
        await asyncio.wait_for(task, 5)
    states = [(await job_status(queues, qdef.name, ref["id"]) or {}).get("state") for ref in refs]
    assert states == ["completed", "waiting", "waiting", "waiting"]


@pytest.mark.parametrize("attempts", [1, 2])
async def test_failed_attempts_still_fetch_afterwards(
    queues: JobQueues, redis_url: str, prefix: str, attempts: int
) -> None:
    from flowgen_runtime.jobs import JobOptions

    from .sample_handlers import queue_def

    qdef = queue_def(f"fail{attempts}{prefix[-6:]}", flaky=JobOptions(attempts=attempts))
    bad = await queues.enqueue(qdef, "flaky", {"succeed_on": 2})
    good = [await queues.enqueue(qdef, "greet", {"text": "x"}) for _ in range(5)]
    async with running(WorkerGroup([qdef], redis_url, prefix=prefix, concurrency=1)):
        final = "failed" if attempts == 1 else "completed"
        await wait_for_state(queues, qdef.name, bad["id"], {final})
        for ref in good:
            await wait_for_state(queues, qdef.name, ref["id"], {"completed"})


async def test_enqueue_with_job_id_adds_and_reads_state_in_one_round_trip(
    queues: JobQueues, qdef: QueueDef
) -> None:
    first = await queues.enqueue(qdef, "greet", {"text": "a"}, job_id="same")
    assert first["state"] == "waiting"
    pipeline = queues._pipelines[0]
    before = pipeline.round_trips
    again = await queues.enqueue(qdef, "greet", {"text": "other"}, job_id="same")
    assert pipeline.round_trips == before + 1  # add + getState together
    assert again == {"id": "same", "queue": qdef.name, "name": "greet", "state": "waiting"}
    job = await queues.queue(qdef.name).getJob("same")
    assert job is not None and job.data["text"] == "a"  # the duplicate changed nothing
    assert await queues.queue(qdef.name).getJobCounts("waiting") == {"waiting": 1}


async def test_concurrent_enqueues_share_round_trips(queues: JobQueues, qdef: QueueDef) -> None:
    await queues.enqueue(qdef, "greet", {"text": "warm"})
    pipeline = queues._pipelines[0]
    before = pipeline.round_trips
    refs = await asyncio.gather(*(queues.enqueue(qdef, "greet", {"text": "x"}) for _ in range(40)))
    assert len({ref["id"] for ref in refs}) == 40
    assert pipeline.round_trips - before <= pipeline.max_in_flight


async def test_autopipeline_survives_a_killed_connection(redis_url: str) -> None:
    # the connection killed between two calls is found out by the next batch, which the
    # connection's retry (redis.asyncio's Retry, as bullmq's) sends again on a new one
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError

    name = f"fgtest-ap-{id(object())}"
    client = Redis.from_url(
        redis_url, decode_responses=True, client_name=name,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.01), 3), retry_on_error=[ConnectionError],
    )  # fmt: skip
    admin = Redis.from_url(redis_url, decode_responses=True)
    pipeline = AutoPipeline(client)
    try:
        sha = await client.script_load("return ARGV[1]")
        assert await pipeline.evalsha(sha, 0, "before") == "before"
        killed = [c["id"] for c in await admin.client_list() if c["name"] == name]
        assert killed
        for client_id in killed:
            await admin.client_kill_filter(_id=client_id)
        assert await pipeline.evalsha(sha, 0, "after") == "after"  # on a new connection
    finally:
        await pipeline.aclose()
        await admin.aclose()


@pytest.mark.parametrize(
    "remove", [None, True, False, 0, 5, {"count": 3, "age": 60}], ids=lambda r: repr(r)
)
@pytest.mark.parametrize("fetch_next", [True, False])
async def test_completed_args_equal_bullmqs_own(
    redis_url: str, prefix: str, remove: Any, fetch_next: bool
) -> None:
    import msgpack
    from flowgen_runtime.jobs.bullmq_compat.worker import Worker

    async def process(job: bullmq.Job, token: str) -> None:
        return None

    opts = {"connection": _connection(redis_url, True), "prefix": prefix, "autorun": False,
            "limiter": {"max": 5, "duration": 1000}, "metrics": {"maxDataPoints": 10},
            "lockDuration": 7000}  # fmt: skip
    worker = Worker("argsq", process, opts)
    try:
        job_opts = (
            {"attempts": 3} if remove is None else {"attempts": 3, "removeOnComplete": remove}
        )
        job = bullmq.Job(worker, "greet", {"text": "x"}, job_opts, job_id="42")
        job.attemptsMade = 1
        result = {"text": "xx", "n": [1, 2.5, None]}
        ours_keys, ours = worker.completed_args(job, result, "tok:1", fetch_next)
        theirs_keys, theirs = worker.scripts.moveToCompletedArgs(
            job, result, job.opts.get("removeOnComplete", False), "tok:1", fetch_next
        )
        assert ours_keys == theirs_keys
        assert abs(ours[1] - theirs[1]) < 1000  # the timestamp: now, in ms
        assert ours[:1] + ours[2:] == theirs[:1] + theirs[2:]
        assert msgpack.unpackb(ours[-1]) == msgpack.unpackb(theirs[-1])
    finally:
        await worker.close()


@pytest.mark.parametrize(
    "add_opts",
    [
        {},
        {"attempts": 3, "backoff": {"type": "exponential", "delay": 100}},
        {"attempts": 2, "backoff": 500, "removeOnComplete": {"count": 10}, "removeOnFail": True},
        {"priority": 4, "lifo": True, "jobId": "custom-id"},
        {"delay": 50},
        {"deduplication": {"id": "d1"}},  # fromJSON's own way
    ],
    ids=lambda o: ",".join(o) or "plain",
)
@pytest.mark.parametrize(
    "state",
    [
        {"processedOn": "1700000000000", "ats": "1"},
        {"processedOn": "1700000000000", "ats": "2", "atm": "1", "stc": "1"},
        {"processedOn": "1", "ats": "2", "atm": "1", "stacktrace": '["Error: x"]',
         "failedReason": "x", "progress": "50"},  # fromJSON's own way
        {"rjk": "sched-1"},  # fromJSON's own way
    ],
    ids=["active", "retry", "failed-once", "scheduled"],
)  # fmt: skip
async def test_job_from_raw_equals_bullmqs_from_json(
    redis_url: str,
    prefix: str,
    add_opts: dict[str, Any],
    state: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flowgen_runtime.jobs.bullmq_compat.fastjob import job_from_raw

    from_json = bullmq.Job.fromJSON
    slow: list[str] = []

    def counting(*args: Any) -> bullmq.Job:
        slow.append("fromJSON")
        return from_json(*args)

    queue = bullmq.Queue("rawq", {"connection": _connection(redis_url, True), "prefix": prefix})
    try:
        added = await queue.add("greet", {"text": "x", "n": [1, 2.5, None]}, add_opts)
        raw = await queue.client.hgetall(f"{prefix}:rawq:{added.id}")
        raw.update(state)
        monkeypatch.setattr(bullmq.Job, "fromJSON", staticmethod(counting))
        ours = job_from_raw(queue, dict(raw), str(added.id))
        monkeypatch.undo()
        theirs = bullmq.Job.fromJSON(queue, dict(raw), str(added.id))
        assert vars(ours) == vars(theirs)
        assert type(ours) is bullmq.Job
    finally:
        await queue.obliterate(force=True)
        await queue.close()
    unusual = "stacktrace" in state or "rjk" in state or "deduplication" in add_opts
    assert slow == (["fromJSON"] if unusual else [])
