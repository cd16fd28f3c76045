"""Cache-aside reads on Redis with cheap, correct invalidation.

Keys fold in a per-entity version counter: ``<ns>:q:<Entity>:<version>:<digest>``. A write
to an entity increments its counter (one ``INCR``), which makes every cached get, list and
count of that entity unreachable at once - no key scans. Old keys expire by their TTL.

If Redis is down or slow, reads go straight to the database; one warning is logged per
outage (not per request) and caching resumes by itself when Redis answers again.
"""

from __future__ import annotations

import decimal
import hashlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("flowgen.cache")

_MISSING_VERSION = b"0"


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"cannot cache {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    invalidations: int = 0


class Cache:
    """Entity-scoped read-through cache. ``redis=None`` disables caching entirely."""

    def __init__(self, redis: Redis | None, *, namespace: str, enabled: bool = True) -> None:
        self.redis = redis if enabled else None
        self.ns = namespace
        self.stats = CacheStats()
        self._down = False

    def _version_key(self, entity: str) -> str:
        return f"{self.ns}:v:{entity}"

    async def get_or_load(
        self,
        entity: str,
        ttl: int | None,
        key: tuple[Hashable, ...],
        load: Callable[[], Awaitable[Any]],
    ) -> Any:
        """Return the cached value for ``key`` or ``await load()`` and cache it for ``ttl`` s."""
        if self.redis is None or ttl is None:
            return await load()
        digest = hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()
        try:
            version = await self.redis.get(self._version_key(entity)) or _MISSING_VERSION
            full = f"{self.ns}:q:{entity}:{version.decode()}:{digest}"
            raw = await self.redis.get(full)
            self._recovered()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await load()
        if raw is not None:
            self.stats.hits += 1
            return orjson.loads(raw)
        self.stats.misses += 1
        value = await load()
        try:
            await self.redis.set(full, dumps(value), ex=ttl)
        except (RedisError, OSError) as exc:
            self._failed(exc)
        return value

    async def invalidate(self, *entities: str) -> None:
        """Make every cached read of these entities stale (called after each write)."""
        if self.redis is None or not entities:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for entity in sorted(set(entities)):
                    pipe.incr(self._version_key(entity))
                await pipe.execute()
            self.stats.invalidations += len(set(entities))
            self._recovered()
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
