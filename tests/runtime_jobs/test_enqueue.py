"""Enqueueing: validation, stored data and options, idempotent job ids, bulk adds."""

from __future__ import annotations

import pytest
from flowgen_runtime.jobs import JobOptions, JobQueues, PayloadError, QueueDef

from .sample_handlers import Greeting, queue_def


async def test_enqueue_stores_json_payload_meta_and_options(
    queues: JobQueues, qdef: QueueDef
) -> None:
    qdef = queue_def(qdef.name, greet=JobOptions(attempts=4, priority=7))
    ref = await queues.enqueue(qdef, "greet", Greeting(text="hi"), request_id="req-1")
    assert ref == {"id": ref["id"], "queue": qdef.name, "name": "greet", "state": "prioritized"}

    job = await queues.queue(qdef.name).getJob(ref["id"])
    # Unset fields stay out (the worker fills defaults); see enqueue.job_data.
    assert job.data == {"text": "hi", "_meta": {"request_id": "req-1"}}
    assert job.opts["attempts"] == 4 and job.priority == 7


async def test_invalid_payload_lists_every_bad_field_and_queues_nothing(
    queues: JobQueues, qdef: QueueDef
) -> None:
    with pytest.raises(PayloadError) as info:
        await queues.enqueue(qdef, "greet", {"text": "", "times": "many"})
    assert info.value.errors == [
        {"path": ["text"], "message": "String should have at least 1 character"},
        {
            "path": ["times"],
            "message": "Input should be a valid integer, unable to parse string as an integer",
        },
    ]
    assert "text: String should have at least 1 character; times:" in str(info.value)
    counts = await queues.queue(qdef.name).getJobCounts()
    assert sum(counts.values()) == 0


async def test_unknown_job_name_is_a_key_error(queues: JobQueues, qdef: QueueDef) -> None:
    with pytest.raises(KeyError, match="has no job 'nope'"):
        await queues.enqueue(qdef, "nope", {})


async def test_same_job_id_returns_the_existing_job(queues: JobQueues, qdef: QueueDef) -> None:
    first = await queues.enqueue(qdef, "greet", {"text": "one"}, job_id="greet-1")
    second = await queues.enqueue(qdef, "greet", {"text": "two"}, job_id="greet-1")
    assert (
        first
        == second
        == {"id": "greet-1", "queue": qdef.name, "name": "greet", "state": "waiting"}
    )
    queue = queues.queue(qdef.name)
    assert (await queue.getJobCounts())["waiting"] == 1
    assert (await queue.getJob("greet-1")).data["text"] == "one"  # untouched by the second add


@pytest.mark.parametrize(
    ("job_id", "problem"),
    [
        ("", "must not be empty"),
        ("order:7", "must not contain ':'"),
        ("42", "must not be an integer"),
        ("-3", "must not be an integer"),
    ],
)
async def test_a_job_id_bullmq_refuses_is_a_value_error(
    queues: JobQueues, qdef: QueueDef, job_id: str, problem: str
) -> None:
    """Node BullMQ refuses such ids (and an integer one would meet BullMQ's own numbering:
    the next numbered job would find it and be taken for a duplicate)."""
    with pytest.raises(ValueError, match=problem):
        await queues.enqueue(qdef, "greet", {"text": "x"}, job_id=job_id)
    assert sum((await queues.queue(qdef.name).getJobCounts()).values()) == 0
    ok = await queues.enqueue(qdef, "greet", {"text": "x"}, job_id="0042")  # not an integer
    assert ok["id"] == "0042"


async def test_delay_override_makes_a_delayed_job(queues: JobQueues, qdef: QueueDef) -> None:
    ref = await queues.enqueue(qdef, "greet", {"text": "later"}, delay_ms=60_000)
    assert ref["state"] == "delayed"


async def test_enqueue_bulk(queues: JobQueues, qdef: QueueDef) -> None:
    refs = await queues.enqueue_bulk(
        qdef,
        [("greet", {"text": "a"}), ("flaky", {"succeed_on": 1}), ("greet", Greeting(text="c"))],
        job_ids=["a", None, "a"],
        request_id="req-b",
    )
    assert [(r["id"], r["name"], r["state"]) for r in refs][0] == ("a", "greet", "waiting")
    assert refs[2]["id"] == "a"  # a duplicate id inside the batch is the same job
    assert (await queues.queue(qdef.name).getJobCounts())["waiting"] == 2

    with pytest.raises(PayloadError) as info:
        await queues.enqueue_bulk(qdef, [("greet", {"text": "ok"}), ("flaky", {})])
    assert info.value.errors == [{"path": [1, "succeed_on"], "message": "Field required"}]
