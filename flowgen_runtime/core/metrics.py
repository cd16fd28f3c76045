"""Prometheus metrics of a generated backend (prometheus-client).

Every metric is named ``flowgen_*``; the catalogue is the module-level objects below.
The server serves them at ``GET /metrics``; a worker serves them on ``METRICS_PORT``
when that is set.

Several processes: prometheus-client's *multiprocess mode*. Set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory (wiped at each start, e.g. a tmpfs)
shared by every server and worker process **of one machine**; each process writes its
values to files there and any one ``/metrics`` reads all of them, summed per metric.
A machine running only workers sets ``METRICS_PORT`` on one worker (or on each, with a
directory per worker) and is scraped there. Without the variable each process reports
only itself, which is right for one process per container::

    PROMETHEUS_MULTIPROC_DIR=/run/metrics gen serve --workers 4   # one scrape target
    METRICS_PORT=9101 gen worker                                  # worker machine

Gauges say how they combine across processes (``multiprocess_mode``): pool usage and
live workers are summed over live processes; queue depth and reachability are the
value most recently sampled (at scrape time) by any process.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "exposition",
    "mark_process_dead",
    "sample_pool",
    "serve_metrics",
]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900)

GRAPHQL_REQUESTS = Counter(
    "flowgen_graphql_requests_total",
    "GraphQL HTTP requests by operation and HTTP status.",
    ["operation", "status"],
)
GRAPHQL_LATENCY = Histogram(
    "flowgen_graphql_request_duration_seconds",
    "Time to answer a GraphQL request, by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "flowgen_graphql_errors_total",
    "Errors returned to GraphQL clients, by extensions.code.",
    ["code"],
)
CACHE_EVENTS = Counter(
    "flowgen_cache_events_total",
    "Cache-aside reads and writes: hit, miss, error (Redis unavailable), invalidation.",
    ["event"],
)
DB_POOL = Gauge(
    "flowgen_db_pool_connections",
    "Database pool connections by database (primary, replica) and state.",
    ["database", "state"],
    multiprocess_mode="livesum",
)
QUEUE_JOBS = Gauge(
    "flowgen_queue_jobs",
    "Jobs per queue and state, sampled when /metrics is scraped.",
    ["queue", "state"],
    multiprocess_mode="livemostrecent",
)
QUEUE_WORKERS = Gauge(
    "flowgen_queue_workers",
    "Worker processes of each queue on any machine (heartbeats in Redis), sampled at scrape.",
    ["queue"],
    multiprocess_mode="livemostrecent",
)
DEPENDENCY_UP = Gauge(
    "flowgen_dependency_up",
    "1 when the dependency (database, redis) answered the last check, else 0.",
    ["dependency"],
    multiprocess_mode="livemostrecent",
)
JOB_DURATION = Histogram(
    "flowgen_job_duration_seconds",
    "Time a job attempt ran, by queue and job name.",
    ["queue", "job_name"],
    buckets=_JOB_BUCKETS,
)
JOBS = Counter(
    "flowgen_jobs_total",
    "Finished job attempts by queue, job name and outcome (completed, retried, failed).",
    ["queue", "job_name", "outcome"],
)
JOBS_STALLED = Counter(
    "flowgen_jobs_stalled_total",
    "Jobs a worker found stalled (their worker died) and put back, by queue.",
    ["queue"],
)
WORKER_UP = Gauge(
    "flowgen_worker_up",
    "Worker processes running for each queue (this target).",
    ["queue"],
    multiprocess_mode="livesum",
)
WORKER_HEARTBEAT = Gauge(
    "flowgen_worker_heartbeat_timestamp_seconds",
    "Unix time of the last heartbeat of a worker process (every few seconds).",
    ["queue"],
    multiprocess_mode="livemax",
)

_OPERATION_LIMIT = 500  # distinct operation labels per process; more become "other"
_seen_operations: set[str] = set()
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FIRST_FIELD = re.compile(
    r"^\s*(?:(query|mutation|subscription)\b\s*([A-Za-z_]\w*)?[^{]*)?\{\s*(?:[A-Za-z_]\w*\s*:\s*)?([A-Za-z_]\w*)"
)


def operation_label(body: Any) -> str:
    """The ``operation`` label of a GraphQL request body: its ``operationName``, else the
    operation's own name, else ``"<type> <first root field>"`` (``"query users"``).

    Labels are bounded: invalid names are ``"invalid"`` and, past 500 distinct
    labels in a process, new ones are ``"other"``.
    """
    if isinstance(body, list):
        return "batch"
    if not isinstance(body, dict):
        return "invalid"
    name = body.get("operationName")
    if not (isinstance(name, str) and _NAME.match(name)):
        query = body.get("query")
        match = _FIRST_FIELD.match(query) if isinstance(query, str) else None
        if match is None:
            return "invalid"
        name = match.group(2) or f"{match.group(1) or 'query'} {match.group(3)}"
    if name not in _seen_operations:
        if len(_seen_operations) >= _OPERATION_LIMIT:
            return "other"
        _seen_operations.add(name)
    return name


def sample_pool(db: Any) -> None:
    """Record the connection pool usage of ``db`` (a :class:`~flowgen_runtime.core.db.Database`)."""
    if db is None:
        return
    engines = [("primary", db.engine)]
    if db.read_engine is not db.engine:
        engines.append(("replica", db.read_engine))
    for name, engine in engines:
        pool = engine.pool
        checked_out = getattr(pool, "checkedout", None)
        if checked_out is None:  # SQLite's NullPool / StaticPool keep no count
            continue
        DB_POOL.labels(name, "checked_out").set(checked_out())
        DB_POOL.labels(name, "idle").set(pool.checkedin())
        DB_POOL.labels(name, "size").set(pool.size())
        DB_POOL.labels(name, "overflow").set(max(pool.overflow(), 0))


class _Throttle:
    """True at most once per ``seconds`` (cheap per-request sampling)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True


pool_sample_due = _Throttle(1.0)


def multiprocess_dir() -> str | None:
    """The multiprocess directory when multiprocess mode is on, else None."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _registry() -> CollectorRegistry:
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition() -> bytes:
    """Every metric in the Prometheus text format (all processes in multiprocess mode)."""
    return generate_latest(_registry())


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Serve ``/metrics`` on ``port`` from a thread (for worker processes)."""
    start_http_server(port, addr=host, registry=_registry())


def mark_process_dead(pid: int | None = None) -> None:
    """Drop this process's live gauges in multiprocess mode (call at exit)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid or os.getpid())
