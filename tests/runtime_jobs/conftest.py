"""Fixtures for the jobs runtime tests: a real Redis, a unique prefix and queue per test.

Redis comes from ``TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``). When it
does not answer the tests are skipped, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from flowgen_runtime.jobs import JobQueues, QueueDef

from ..e2e.harness import drop_keys
from .sample_handlers import queue_def

# `redis_url` (real Redis, or skip / fail under CI=true) comes from tests/conftest.py


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A prefix of this test alone; whatever is left under it is deleted afterwards."""
    value = f"fgtest-{uuid.uuid4().hex[:10]}"
    yield value
    drop_keys(redis_url, value)


@pytest.fixture
async def queues(redis_url: str, prefix: str) -> AsyncIterator[JobQueues]:
    """The producer side; every queue it touched is obliterated afterwards."""
    producer = JobQueues(redis_url, prefix=prefix)
    yield producer
    for name in list(producer._queues):
        await producer.queue(name).obliterate(force=True)
    await producer.close()


@pytest.fixture
def qdef() -> QueueDef:
    return queue_def(f"q{uuid.uuid4().hex[:8]}")
