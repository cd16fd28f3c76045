"""The set of live worker processes per queue, on a real Redis."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import redis.asyncio as aioredis
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.jobs.heartbeat import WORKER_TIMEOUT_S, live_workers, worker_heartbeat


async def test_heartbeats_count_live_workers_and_the_set_expires(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    state = SimpleNamespace(
        settings=Settings(queue_prefix=f"hb{uuid.uuid4().hex[:8]}"), redis=client
    )
    key = f"{state.settings.queue_key_prefix}:work:flowgen-workers"
    try:
        await worker_heartbeat(state, "work", "host-a:1")  # type: ignore[arg-type]
        await worker_heartbeat(state, "work", "host-b:2")  # type: ignore[arg-type]
        assert await live_workers(state, "work") == 2  # type: ignore[arg-type]
        ttl = await client.ttl(key)
        # gone a while after the last heartbeat, not kept forever once workers stop
        assert WORKER_TIMEOUT_S < ttl <= WORKER_TIMEOUT_S * 3
    finally:
        await client.delete(key)
        await client.aclose()
