"""Automatic pipelining of BullMQ's Lua script calls: one round trip for many scripts.

python bullmq talks to Redis through a ``single_connection_client``: every script call
(add a job, move a job to active, to completed, extend locks ...) takes a lock on that
one connection, writes its command, waits for the answer and only then lets the next
call go. With 50 jobs in flight that is 50 round trips, 50 ``send`` and 50 ``recv``
system calls one after the other; measured with py-spy on a worker running trivial jobs,
a third of the process's time was the ``send`` calls alone.

:func:`autopipeline` points the scripts of a bullmq ``Queue`` or ``Worker`` at an
:class:`AutoPipeline` instead. A script call made while a batch is being sent waits for
the next batch; each batch is one non-transactional pipeline (one write, the answers read
in order) on a connection of its own. Every script still runs on its own and atomically
in Redis, with the same keys and arguments, so the Redis layout and BullMQ's semantics
are unchanged; only the transport is batched (as ioredis' ``enableAutoPipelining`` does
for Node BullMQ). Redis errors come back to the caller that made the call, and
``NOSCRIPT`` still makes redis-py load the script and call again.

Only ``EVALSHA`` goes through here. Blocking commands (the worker's ``BZPOPMIN``) use
bullmq's separate blocking connection, and every other command its usual connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

__all__ = ["AutoPipeline", "autopipeline"]

_MAX_BATCH = 512  # commands per round trip; a few hundred KB at most for BullMQ's scripts


class AutoPipeline:
    """An ``evalsha``/``script_load`` stand-in that sends calls in batches, in order."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._sending = False
        self.round_trips = 0
        """Batches sent so far (each one write and one read of the answers)."""

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((("EVALSHA", sha, numkeys, *keys_and_args), future))
        if not self._sending:
            self._sending = True
            # Sent from the next loop iteration: the calls made in this one join the batch.
            asyncio.get_running_loop().call_soon(self._start)
        return await future

    async def script_load(self, script: Any) -> Any:
        return await self.client.script_load(script)

    def _start(self) -> None:
        asyncio.ensure_future(self._send())

    async def _send(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:_MAX_BATCH]
                del self._pending[:_MAX_BATCH]
                await self._send_batch([(cmd, fut) for cmd, fut in batch if not fut.done()])
        finally:
            self._sending = False
            if self._pending:  # a cancelled send must not strand later callers
                self._sending = True
                asyncio.get_running_loop().call_soon(self._start)

    async def _send_batch(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        if not batch:  # every caller of this batch was cancelled
            return
        try:
            self.round_trips += 1
            pipe = self.client.pipeline(transaction=False)
            for command, _ in batch:
                pipe.execute_command(*command)
            results = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # e.g. the connection was lost: each caller sees it
            results = [exc] * len(batch)
        except BaseException:  # this task was cancelled: so are the calls it carried
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def aclose(self) -> None:
        await self.client.aclose()


def autopipeline(owner: Any) -> AutoPipeline | None:
    """Route the Lua scripts of a bullmq ``Queue`` or ``Worker`` through an :class:`AutoPipeline`.

    The pipeline gets a connection pool of its own, built like bullmq's connection (same
    server, ``decode_responses``), so it never waits behind the single-connection lock.
    Returns the pipeline (close it with the owner), or ``None`` if the owner's scripts are
    not where bullmq 3.4 keeps them (a newer bullmq: then nothing is changed).
    """
    commands = getattr(getattr(owner, "scripts", None), "commands", None)
    client = getattr(owner, "client", None)
    if not isinstance(commands, dict) or not isinstance(client, Redis):
        return None
    pool = client.connection_pool
    own = type(pool)(connection_class=pool.connection_class, **pool.connection_kwargs)
    pipeline = AutoPipeline(Redis(connection_pool=own))
    for script in commands.values():
        script.registered_client = pipeline
    return pipeline
