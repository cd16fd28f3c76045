"""Automatic pipelining of BullMQ's Lua script calls: one round trip for many scripts.

python bullmq talks to Redis through a ``single_connection_client``: every script call
(add a job, move a job to active, to completed, extend locks ...) takes a lock on that
one connection, writes its command, waits for the answer and only then lets the next
call go. With 50 jobs in flight that is 50 round trips, 50 ``send`` and 50 ``recv``
system calls one after the other; measured with py-spy on a worker running trivial jobs,
a third of the process's time was the ``send`` calls alone.

:func:`autopipeline` points the scripts of a bullmq ``Queue`` or ``Worker`` at an
:class:`AutoPipeline` instead. The calls made in one loop iteration are sent together
as pipelines (one write, the answers read in order; no MULTI) on connections of its
own; calls made while every batch slot is taken wait for the next free one. Every script still runs on its own and atomically
in Redis, with the same keys and arguments, so the Redis layout and BullMQ's semantics
are unchanged (several batches may be on their way at once, on several connections:
calls made concurrently are not ordered, as with bullmq's own client where they queue for its lock); only the transport is batched (as ioredis' ``enableAutoPipelining`` does
for Node BullMQ). Redis errors come back to the caller that made the call, and
``NOSCRIPT`` still makes redis-py load the script and call again.

Redis and this process work at the same time rather than in turns:

* Eager batches: as soon as ``eager`` (8) calls wait and a batch slot with a connected,
  idle connection is free, they are written at once, in the middle of the loop iteration,
  so Redis runs them while this process goes on with the iteration (a worker handling
  the other jobs of the answers it just received). Sending only at the end of the
  iteration, Redis idled while the worker handled 50 jobs and the worker idled while
  Redis ran their 50 scripts: one worker process ran 17-20k trivial jobs/s; eager,
  25-26k (``bench/jobs_bench.py --only processing``, same CPU per job).
* What is left at the end of an iteration is split over the free batch slots, so that
  Redis runs the scripts of one part while this process handles the answers of another.

Only ``EVALSHA`` goes through here. Blocking commands (the worker's ``BZPOPMIN``) use
bullmq's separate blocking connection, and every other command its usual connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - hiredis is a dependency; redis-py packs otherwise
    _pack = None

__all__ = ["AutoPipeline", "PipelinedScript", "autopipeline"]

_MAX_BATCH = 512  # commands per round trip; a few hundred KB at most for BullMQ's scripts
_FRESH_S = 1.0  # an idle connection answered on this recently is used without a check


class AutoPipeline:
    """An ``evalsha``/``script_load`` stand-in that sends calls in batches, in order."""

    def __init__(
        self, client: Redis, *, in_flight: int = 4, split_from: int = 8, eager: int = 8
    ) -> None:
        self.client = client
        self.max_in_flight = in_flight
        """Batches on their way at once: Python reads one batch's answers while Redis runs the
        next one's scripts (with 1, the two take turns and each idles half of the time)."""
        self.split_from = split_from
        """Smallest batch a split makes: fewer than twice as many calls go in one batch."""
        self.eager = eager
        """Calls waiting that are written at once, before the loop iteration ends."""
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._scheduled = False
        self._in_flight = 0
        self._idle: list[tuple[Any, float]] = []
        """Connected connections between batches, kept out of the pool for eager writes,
        with the time each was last answered on."""
        self.round_trips = 0
        """Batches sent so far (each one write and one read of the answers)."""

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        return await self.call(("EVALSHA", sha, numkeys, *keys_and_args))

    async def call(self, command: tuple[Any, ...]) -> Any:
        """Send ``command`` (e.g. ``("EVALSHA", sha, 1, key, arg)``) with the next batch."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((command, future))
        if not (len(self._pending) >= self.eager and self._send_now()):
            self._schedule()
        return await future

    def _send_now(self) -> bool:
        """Write the waiting calls at once on an idle connection, if a slot and one are free
        (see the module docstring); False if they must wait for the iteration's end."""
        if self._in_flight >= self.max_in_flight or _pack is None or not self._idle:
            return False
        connection, since = self._idle[-1]
        writer = getattr(connection, "_writer", None)  # redis-py's stream; None: not connected
        if writer is None or time.monotonic() - since >= _FRESH_S:
            return False
        self._idle.pop()
        batch = self._take(_MAX_BATCH)
        writer.write(b"".join([_pack(command) for command, _ in batch]))
        self.round_trips += 1
        self._launch(batch, connection)
        return True

    def _take(self, size: int) -> list[tuple[tuple[Any, ...], asyncio.Future[Any]]]:
        """The next ``size`` waiting calls, less those whose caller gave up."""
        batch = [(cmd, fut) for cmd, fut in self._pending[:size] if not fut.done()]
        del self._pending[:size]
        return batch

    def _launch(
        self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]], written: Any = None
    ) -> None:
        self._in_flight += 1
        asyncio.ensure_future(self._send_batch(batch, written)).add_done_callback(self._sent)

    async def script_load(self, script: Any) -> Any:
        return await self.client.script_load(script)

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            # From the next loop iteration: the calls made in this one join the batch.
            asyncio.get_running_loop().call_soon(self._start)

    def _start(self) -> None:
        self._scheduled = False
        free = self.max_in_flight - self._in_flight
        if not self._pending or free <= 0:
            return  # a batch on its way schedules the next when it is answered
        size = len(self._pending)
        if size >= 2 * self.split_from:  # one batch per free slot, see the module docstring
            size = max(self.split_from, -(-size // free))
        size = min(size, _MAX_BATCH)
        while self._pending and self._in_flight < self.max_in_flight:
            self._launch(self._take(size))

    def _sent(self, _task: asyncio.Future[None]) -> None:
        self._in_flight -= 1
        if self._pending:
            self._schedule()

    async def _send_batch(
        self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]], written: Any = None
    ) -> None:
        """Send ``batch`` and hand out its answers; ``written``: the connection it was
        already written on (an eager batch)."""
        if not batch:  # every caller of this batch was cancelled
            if written is not None:
                self._idle.append((written, time.monotonic()))
            return
        if written is None:
            self.round_trips += 1
        try:
            await self._round_trip(batch, written)
        except Exception as exc:  # e.g. the connection was lost: each caller sees it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        except BaseException:  # this task was cancelled: so are the calls it carried
            for _, future in batch:
                future.cancel()
            raise

    async def _round_trip(
        self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]], written: Any = None
    ) -> None:
        """One write of every command (unless ``written``: already done), then each answer
        handed to its caller as it is read (errors as values).

        A lost connection is retried as redis-py retries a command on bullmq's own client
        (the connection's ``retry``: bullmq asks for 20 attempts with exponential backoff);
        only the commands not answered yet are sent again.
        """
        pool = self.client.connection_pool
        connection = written or await self._connection()
        answered = 0
        unsent = written is None

        async def exchange() -> None:
            nonlocal answered, unsent
            rest = batch[answered:]
            if unsent:
                commands = [command for command, _ in rest]
                if _pack is not None:  # hiredis packs in C; redis-py's is a third of a batch
                    packed: Any = b"".join([_pack(command) for command in commands])
                else:
                    packed = connection.pack_commands(commands)
                await connection.send_packed_command(packed, check_health=False)
            unsent = True  # a retry, after a lost connection, sends the rest again
            for _, future in rest:
                try:
                    result = await connection.read_response()
                except ResponseError as exc:  # that script's own error; the connection is fine
                    result = exc
                answered += 1
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

        async def lost(_error: Exception) -> None:
            await connection.disconnect()

        try:
            retry = getattr(connection, "retry", None)
            if retry is None:
                await exchange()
            else:
                await retry.call_with_retry(exchange, lost)
        except BaseException:
            await connection.disconnect(nowait=True)  # answers may be left unread on it
            await pool.release(connection)
            raise
        if connection.is_connected:
            self._idle.append((connection, time.monotonic()))  # for the next (eager) batch
        else:
            await pool.release(connection)

    async def _connection(self) -> Any:
        """A fresh idle connection, or one from the pool. Idle ones older than ``_FRESH_S``
        go back to the pool, which checks a connection before handing it out (Redis may
        have closed an idle one: its ``timeout`` setting, a restart) instead of finding out
        by a failed batch and the retry's backoff (bullmq's first wait is 2 s)."""
        if self._idle and time.monotonic() - self._idle[-1][1] < _FRESH_S:
            return self._idle.pop()[0]
        pool = self.client.connection_pool
        stale, self._idle = self._idle, []
        for connection, _ in stale:
            await pool.release(connection)
        return await pool.get_connection()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            await self.client.connection_pool.release(connection)
        await self.client.aclose()


def autopipeline(owner: Any, **options: Any) -> AutoPipeline | None:
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
    pipeline = AutoPipeline(Redis(connection_pool=own), **options)
    for name, script in list(commands.items()):
        script.registered_client = pipeline
        commands[name] = PipelinedScript(script, pipeline)
    return pipeline


class PipelinedScript:
    """A redis-py ``AsyncScript`` called through an :class:`AutoPipeline`, for less.

    ``AsyncScript.__call__`` copies the keys and arguments into new tuples twice, imports
    redis-py's ``Pipeline`` and asks whether the client is one (a ``typing.Protocol``
    check) on every call: a few µs per job in a worker. A call naming its own ``client``
    (bullmq passes a redis-py pipeline when adding jobs in bulk) goes to the script itself.
    """

    def __init__(self, script: Any, pipeline: AutoPipeline) -> None:
        self.script = script
        self.pipeline = pipeline

    async def __call__(self, keys: Any = None, args: Any = None, client: Any = None) -> Any:
        if client is not None:
            return await self.script(keys, args, client)
        keys, args = keys or (), args or ()
        try:
            return await self.pipeline.call(("EVALSHA", self.script.sha, len(keys), *keys, *args))
        except NoScriptError:  # e.g. Redis restarted since: load it, call again (as redis-py)
            self.script.sha = await self.pipeline.script_load(self.script.script)
            return await self.pipeline.call(("EVALSHA", self.script.sha, len(keys), *keys, *args))

    def __getattr__(self, name: str) -> Any:  # sha, script ...
        return getattr(self.script, name)
