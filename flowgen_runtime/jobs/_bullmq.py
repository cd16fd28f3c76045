"""bullmq's ``Worker`` with three fixes, kept apart so they are easy to drop later.

All measured with bullmq 3.4.4 (Python) on Redis 7.0; see ``tests/runtime_jobs``.

* Sub-second delays: ``Worker.waitForJob`` rounds its ``BZPOPMIN`` timeout up to
  whole seconds unless the blocking connection's ``capabilities`` say Redis takes
  fractional timeouts (Redis >= 6), and only ``RedisConnection.getRedisVersion()``
  fills those in, which the worker never calls for that connection. A delay of
  1500 ms ran after 2.0 s, 300 ms after 1.1 s. :meth:`Worker.prepare` calls it;
  then they ran after ~1.55 s and ~0.35 s.
* Shutdown race: ``Worker.close()`` cancels the blocking wait only if one is under
  way at that moment. A fetch that is between Redis calls then starts a fresh
  ``BZPOPMIN`` after close() began, so stopping took 5 s more (drainDelay), or it
  takes a job while closing (a delayed job due during the shutdown ran). Each was
  seen once in about 20 runs of the tests. This Worker starts no blocking wait and
  takes no job once closing.
* Rate limit: when the ``limiter`` is full, the move-to-active script returns how
  many ms the limit lasts and bullmq stores it (``limitUntil``) but never waits on
  it: it blocks for drainDelay instead. With ``RateLimit(max=2, duration_ms=600)``
  the third job started 5.0 s after the first; with this Worker, 0.6 s.
"""

from __future__ import annotations

import asyncio

import bullmq


class Worker(bullmq.Worker):
    """A ``bullmq.Worker``; call :meth:`prepare` before ``run()``."""

    async def prepare(self) -> None:
        """Learn the Redis version, so that delays are not rounded up to whole seconds."""
        await self.blockingRedisConnection.getRedisVersion()

    async def waitForJob(self) -> int:
        if self.closing:
            # Raise what close() would have raised into a wait it could see.
            raise asyncio.CancelledError
        return int(await super().waitForJob())

    async def moveToActive(self, token: str) -> bullmq.Job | None:
        # A wait that timed out just as close() ran would otherwise take a due job.
        return None if self.closing else await super().moveToActive(token)

    def getBlockTimeout(self, block_until: int) -> float:
        timeout = float(super().getBlockTimeout(block_until))
        if self.limitUntil > 0:  # rate limited: wait for the limit to end, not drainDelay
            timeout = max(min(timeout, self.limitUntil / 1000), self.minimumBlockTimeout)
        return timeout
