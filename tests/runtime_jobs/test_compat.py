"""bullmq/redis-py internals are used only on tested versions; otherwise the public API.

The first test fails on an installed version the compat module was not written for (CI's
newest-versions run), the others prove the gate and that the plain path runs jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import bullmq
import pytest
from flowgen_runtime.jobs import JobQueues, QueueDef, WorkerGroup, bullmq_compat

from .support import running, wait_for_state


@pytest.fixture
def unknown_bullmq(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = bullmq_compat.version
    monkeypatch.setattr(
        bullmq_compat, "version", lambda name: "99.0.0" if name == "bullmq" else real(name)
    )
    bullmq_compat.check.cache_clear()
    yield
    bullmq_compat.check.cache_clear()


def test_the_installed_bullmq_and_redis_py_are_tested_versions() -> None:
    compat = bullmq_compat.check()
    assert compat.supported, "\n".join(compat.problems)
    assert bullmq_compat.worker_class() is not bullmq.Worker


def test_an_unknown_version_falls_back_to_the_public_api(
    unknown_bullmq: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    compat = bullmq_compat.check()
    assert not compat.supported and "bullmq 99.0.0" in compat.problems[0]
    assert bullmq_compat.worker_class() is bullmq.Worker
    assert bullmq_compat.autopipeline(object()) is None
    with caplog.at_level(logging.ERROR, logger="flowgen.jobs"):
        bullmq_compat.warn_if_unsupported()
    assert "using bullmq's public API only" in caplog.text
    monkeypatch.setenv("FLOWGEN_STRICT_COMPAT", "1")
    with pytest.raises(RuntimeError, match="bullmq 99.0.0"):
        bullmq_compat.warn_if_unsupported()


async def test_the_plain_path_enqueues_and_runs_jobs(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, prefix: str, qdef: QueueDef
) -> None:
    monkeypatch.setenv("FLOWGEN_BULLMQ_COMPAT", "0")
    assert bullmq_compat.worker_class() is bullmq.Worker
    queues = JobQueues(redis_url, prefix=prefix)
    try:
        group = WorkerGroup([qdef], redis_url, prefix=prefix)
        async with running(group):
            ref = await queues.enqueue(qdef, "greet", {"text": "ab", "times": 2})
            status = await wait_for_state(queues, qdef.name, ref["id"], {"completed"})
        assert queues._pipelines == []  # no auto-pipeline on the plain path
        assert status["result"]["text"] == "abab"
    finally:
        await queues.queue(qdef.name).obliterate(force=True)
        await queues.close()
