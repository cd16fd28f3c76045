"""Process-wide resources of a running app: database, cache, job queues."""

from __future__ import annotations

import logging
from typing import Any

from flowgen_runtime.core.db import Database, database_from_settings
from flowgen_runtime.core.redis import connect_redis, resolve_redis_url
from flowgen_runtime.core.settings import Settings, get_settings
from flowgen_runtime.data.cache import Cache, MeteredCacheStats
from flowgen_runtime.data.context import Context
from flowgen_runtime.jobs import JobQueues
from flowgen_runtime.jobs.outbox_store import Relay
from flowgen_runtime.jobs.outbox_store import table_of as outbox_table_of

log = logging.getLogger("flowgen.app")


class AppState:
    """Created once per process (server or worker); ``start`` before use, ``stop`` at exit."""

    def __init__(self, registry: Any, settings: Settings | None = None) -> None:
        self.registry = registry
        self.settings = settings or get_settings()
        self.db: Database = None  # type: ignore[assignment]
        self.cache: Cache = Cache(None, namespace="")
        self.jobs: JobQueues = None  # type: ignore[assignment]
        self.redis: Any = None
        self.redis_url = ""
        self.relay: Relay | None = None

    async def start(self) -> None:
        self.db = database_from_settings(self.settings)
        self.redis_url = resolve_redis_url(self.settings)
        self.redis = await connect_redis(self.settings)
        self.cache = Cache(
            self.redis,
            namespace=f"{self.settings.cache_prefix}:{self.registry.name}",
            enabled=self.settings.cache_enabled,
        )
        self.cache.stats = MeteredCacheStats()  # hits/misses also go to /metrics
        self.jobs = JobQueues(self.redis_url, prefix=self.settings.queue_key_prefix)
        table = outbox_table_of(self)
        if table is not None and self.settings.outbox_relay_interval_s > 0:
            self.relay = Relay(
                self.db, self.jobs, table, interval_s=self.settings.outbox_relay_interval_s,
                after_s=self.settings.outbox_relay_after_s,
            )  # fmt: skip
            self.relay.start()

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self.jobs is not None:
            await self.jobs.close()
        if self.redis is not None:
            await self.cache.close()
            await self.redis.aclose()
        if self.db is not None:
            await self.db.dispose()

    def context(
        self, *, request: Any = None, request_id: str | None = None, identity: Any = None,
        system: bool = False, request_factory: Any = None,
    ) -> Context:  # fmt: skip
        return Context(
            self, request=request, request_id=request_id, identity=identity, system=system,
            request_factory=request_factory,
        )  # fmt: skip
