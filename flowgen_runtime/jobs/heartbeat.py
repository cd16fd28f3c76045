"""Which worker processes serve a queue: a heartbeat per process in a Redis sorted set.

Workers call :func:`worker_heartbeat` every few seconds; ``/metrics`` and the monitor
count :func:`live_workers`. ``state`` is the process's
:class:`~flowgen_runtime.data.state.AppState` (its ``redis`` and ``settings``).
"""

from __future__ import annotations

import time
from typing import Any

WORKER_TIMEOUT_S = 20.0
"""A worker without a heartbeat for this long no longer counts as live."""


def _workers_key(state: Any, queue: str) -> str:
    return f"{state.settings.queue_key_prefix}:{queue}:flowgen-workers"


async def worker_heartbeat(state: Any, queue: str, member: str) -> None:
    """Record that worker process ``member`` (host:pid) serves ``queue`` (every few s).
    The set expires a while after the last heartbeat of any worker: once every worker of
    a queue is gone (or the queue obliterated), it does not stay in Redis."""
    key = _workers_key(state, queue)
    async with state.redis.pipeline(transaction=False) as pipe:
        pipe.zadd(key, {member: time.time()})
        pipe.expire(key, int(WORKER_TIMEOUT_S * 3))
        await pipe.execute()


async def live_workers(state: Any, queue: str) -> int:
    """Worker processes of ``queue``, on any machine, that sent a heartbeat lately."""
    key = _workers_key(state, queue)
    await state.redis.zremrangebyscore(key, 0, time.time() - WORKER_TIMEOUT_S)
    return int(await state.redis.zcard(key))
