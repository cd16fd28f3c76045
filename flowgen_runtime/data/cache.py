"""Cache-aside reads on Redis with cheap, correct invalidation.

**Entity reads** (``get_or_load``) fold version counters into their keys:
``<ns>:q:<digest of (key, versions)>``. A write to an entity increments its counter (one
``INCR``), which makes every cached get, list, count and aggregate of that entity
unreachable at once - no key scans; old keys expire by their TTL. A read whose filter
reaches other entities (``where: {author: {...}}``) folds their versions in too.

**Whole responses** (``response_get``/``response_set``) are stored with the app-wide
version they were computed at; every write increments it, so a cached response is served
only while nothing at all has been written since.

The response cache's ``MGET`` is the hot path of a cached read. It goes over connections
of its own (:class:`_Direct`): redis-py's pool adds a lock, a socket poll and telemetry
hooks to every command, which cost more than the command. Any error there falls back to
the regular client (with its retry), so the outage handling below is the same.

**Single flight**: on a miss, one loader runs per key - concurrent readers in the same
process await it, and other processes wait briefly on a Redis lock (``SET NX PX``) for the
value instead of querying the database too.

**Types**: values are stored as JSON (a UUID, the driver's own UUID type included, and a
``Decimal`` as strings, dates as ISO-8601); ``revive`` turns a stored value back into what
``load()`` returns, so a hit and a miss hand the caller the same types.

**Outage**: if Redis is down or slow, reads go straight to the database; one warning is
logged per outage (not per request) and caching resumes by itself when Redis answers.
"""

from __future__ import annotations

import asyncio
import decimal
import functools
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from flowgen_runtime.core import metrics
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("flowgen.cache")

ALL = "*"
"""The app-wide version: incremented by every write, used by the response cache."""
LOCK_MS = 2000
POLL_S = 0.01


def _default(value: Any) -> Any:
    # orjson knows uuid.UUID itself, not its subclasses (asyncpg's pgproto.UUID)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot cache {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


def _loads(raw: bytes, revive: Callable[[Any], Any] | None) -> Any:
    value = orjson.loads(raw)
    return value if revive is None else revive(value)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    invalidations: int = 0


class _Direct:
    """Redis connections used one command at a time, outside redis-py's pool.

    A connection goes back to the idle list only after a complete reply; on any error or
    cancellation it is closed, so a connection in the list never holds unread data. The
    read keeps the client's timeout; the write has none (redis-py wraps it in
    ``asyncio.wait_for``, a task per command), as a command of a few bytes never waits.
    """

    def __init__(self, redis: Redis, keep: int = 64) -> None:
        pool = redis.connection_pool
        options = dict(pool.connection_kwargs)
        self.timeout: float | None = options.get("socket_timeout")
        options["socket_connect_timeout"] = options.get("socket_connect_timeout") or self.timeout
        options["socket_timeout"] = None
        self.make = functools.partial(pool.connection_class, **options)
        self.keep = keep
        self.idle: list[Any] = []

    async def command(self, *args: Any) -> Any:
        conn = self.idle.pop() if self.idle else self.make()
        try:
            if not conn.is_connected:
                await conn.connect()
            await conn.send_packed_command(conn.pack_command(*args), check_health=False)
            reply = await conn.read_response(timeout=self.timeout)
            if reply is None:  # read_response's own timeout: the reply is still due
                raise RedisTimeoutError("Redis did not answer in time")
        except BaseException:
            await conn.disconnect(nowait=True)
            raise
        if len(self.idle) < self.keep:
            self.idle.append(conn)
        else:
            await conn.disconnect()
        return reply

    async def close(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            await conn.disconnect()


class Cache:
    """Read-through cache. ``redis=None`` (or ``enabled=False``) disables caching."""

    def __init__(self, redis: Redis | None, *, namespace: str, enabled: bool = True) -> None:
        self.redis = redis if enabled else None
        self.ns = namespace
        self.stats = CacheStats()
        self._down = False
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._direct = _Direct(self.redis) if self.redis is not None else None

    async def close(self) -> None:
        """Close the hot path's own connections (the client is closed by its owner)."""
        if self._direct is not None:
            await self._direct.close()

    def _version_key(self, entity: str) -> str:
        return f"{self.ns}:v:{entity}"

    async def get_or_load(
        self,
        entities: str | Sequence[str],
        ttl: int | None,
        key: tuple[Hashable, ...],
        load: Callable[[], Awaitable[Any]],
        revive: Callable[[Any], Any] | None = None,
    ) -> Any:
        """The cached value for ``key`` (valid while ``entities`` are unchanged), or
        ``await load()`` cached for ``ttl`` seconds. A value read back from Redis is
        passed through ``revive`` (JSON -> the types ``load()`` returns)."""
        if self.redis is None or ttl is None:
            return await load()
        names = [entities] if isinstance(entities, str) else sorted(set(entities))
        try:
            versions = await self.redis.mget([self._version_key(n) for n in names])
            material = repr((key, names, [v or b"0" for v in versions])).encode()
            full = f"{self.ns}:q:{hashlib.blake2b(material, digest_size=16).hexdigest()}"
            raw = await self.redis.get(full)
            self._recovered()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await load()
        if raw is not None:
            self.stats.hits += 1
            return _loads(raw, revive)
        return await self._single_flight(full, ttl, load, revive)

    async def _single_flight(
        self, full: str, ttl: int, load: Callable[[], Awaitable[Any]], revive: Any
    ) -> Any:
        pending = self._inflight.get(full)
        if pending is not None:
            self.stats.hits += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[full] = future
        try:
            value = await self._fill(full, ttl, load, revive)
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the waiters re-raise it themselves
            raise
        finally:
            del self._inflight[full]

    async def _fill(
        self, full: str, ttl: int, load: Callable[[], Awaitable[Any]], revive: Any
    ) -> Any:
        assert self.redis is not None
        lock = f"{full}:lock"
        try:
            owner = await self.redis.set(lock, b"1", nx=True, px=LOCK_MS)
            if owner:  # the previous owner may have stored it (and unlocked) since our GET
                raw = await self.redis.get(full)
                if raw is not None:
                    await self.redis.delete(lock)
            else:  # another process is computing it: wait for its value
                raw = await self._wait_for(full)
            if raw is not None:
                self.stats.hits += 1
                return _loads(raw, revive)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await load()
        self.stats.misses += 1
        try:
            value = await load()
            stored = dumps(value)
        except BaseException:
            # waiters in other processes would poll the lock until it expires: release it,
            # so they load (and fail, or succeed) themselves at once
            await self._unlock(lock)
            raise
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(full, stored, ex=ttl)
                pipe.delete(lock)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
        return value

    async def _unlock(self, lock: str) -> None:
        assert self.redis is not None
        try:
            await self.redis.delete(lock)
        except (RedisError, OSError) as exc:  # it expires after LOCK_MS anyway
            self._failed(exc)

    async def _wait_for(self, full: str) -> bytes | None:
        assert self.redis is not None
        for _ in range(int(LOCK_MS / 1000 / POLL_S)):
            await asyncio.sleep(POLL_S)
            raw: bytes | None = await self.redis.get(full)
            if raw is not None:
                return raw
            if not await self.redis.exists(f"{full}:lock"):
                # the owner may have stored the value and released the lock since the GET
                late: bytes | None = await self.redis.get(full)
                return late
        return None

    async def invalidate(self, *entities: str) -> None:
        """Make every cached read of these entities stale (called after each write)."""
        if self.redis is None or not entities:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for entity in sorted({*entities, ALL}):
                    pipe.incr(self._version_key(entity))
                await pipe.execute()
            self.stats.invalidations += len(set(entities))
            self._recovered()
        except (RedisError, OSError) as exc:
            self._failed(exc)

    # -- whole responses ---------------------------------------------------------------

    async def response_get(self, key: str) -> tuple[bytes | None, bytes]:
        """``(body or None, current app-wide version)`` in one round trip."""
        if self.redis is None:
            return None, b""
        keys = (self._version_key(ALL), f"{self.ns}:r:{key}")
        try:
            assert self._direct is not None
            version, raw = await self._direct.command("MGET", *keys)
        except (RedisError, OSError):
            try:  # the regular client: reconnects, retries once, or says Redis is down
                version, raw = await self.redis.mget(keys)
                self._recovered()
            except (RedisError, OSError) as exc:
                self._failed(exc)
                return None, b""
        else:
            self._recovered()
        version = version or b"0"
        if raw is not None:
            stored, _, body = raw.partition(b"\n")
            if stored == version:
                self.stats.hits += 1
                return body, version
        self.stats.misses += 1
        return None, version

    async def response_set(self, key: str, version: bytes, body: bytes, ttl: int) -> None:
        if self.redis is None or not version:
            return
        try:
            await self.redis.set(f"{self.ns}:r:{key}", version + b"\n" + body, ex=ttl)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self.stats.errors += 1
        if not self._down:
            self._down = True
            log.warning("redis unavailable, serving reads from the database: %s", exc)

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            log.warning("redis is back, caching resumed")


class MeteredCacheStats(CacheStats):
    """:class:`~flowgen_runtime.data.cache.CacheStats` that also counts into Prometheus.

    The cache increments plain integer fields (``stats.hits += 1``); each increase is
    mirrored into ``flowgen_cache_events_total``, so the cache needs no metrics code.
    """

    _EVENTS = {"hits": "hit", "misses": "miss", "errors": "error", "invalidations": "invalidation"}
    _counters: ClassVar[dict[str, Any]] = {}  # labelled children, looked up once (labels() locks)

    def __setattr__(self, name: str, value: Any) -> None:
        event = self._EVENTS.get(name)
        if event is not None:
            delta = value - getattr(self, name, 0)
            if delta > 0:
                counter = self._counters.get(event)
                if counter is None:
                    counter = self._counters[event] = metrics.CACHE_EVENTS.labels(event)
                counter.inc(delta)
        super().__setattr__(name, value)
