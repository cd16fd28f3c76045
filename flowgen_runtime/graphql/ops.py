"""What an operator needs over HTTP: request ids, metrics, readiness.

:func:`install` adds to the app (``create_app`` calls it):

* :class:`RequestMiddleware` — every request gets an id: the incoming ``X-Request-ID``
  when it is a sane token (letters, digits, ``._:-``, at most 128), else a new one. The id
  is bound to the log context (every log line of the request carries ``request_id``), is
  what the GraphQL context and the jobs it enqueues carry (``_meta.request_id``), and is
  sent back as ``X-Request-ID``. An exception escaping a route is logged once, with its
  traceback, and answered with a plain 500 that shows only the request id. ``POST
  /graphql`` does all of this in the endpoint itself, which also counts and times GraphQL
  requests per operation (:meth:`.http_graphql.GraphQLEndpoint.post`, the hot path).
* ``GET /metrics`` — Prometheus text (see :mod:`.metrics`); queue depths, connected
  workers and dependency reachability are sampled at scrape time.
* ``GET /ready`` — 200 when the database and Redis answer and the database is at the
  migrations' head, else 503; the body says which check failed::

      {"status": "unavailable", "checks": {"database": "ok", "redis": "unreachable",
       "migrations": "ok"}}

``GET /health`` (liveness: the process serves HTTP) stays in :mod:`.app`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import uuid
from typing import Any

from flowgen_runtime.core import metrics
from flowgen_runtime.core.logging import request_id
from flowgen_runtime.data.state import AppState
from flowgen_runtime.jobs.heartbeat import live_workers
from redis.exceptions import OutOfMemoryError, ReadOnlyError, ResponseError
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["OPS_ROUTES", "RequestMiddleware", "install", "readiness"]

log = logging.getLogger("flowgen.http")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_CHECK_TIMEOUT_S = 2.0
_QUEUE_STATES = ("waiting", "active", "delayed", "prioritized", "waiting-children", "failed", "completed", "paused")  # fmt: skip


def install(app: Any) -> None:
    """Add the request middleware and the ``/metrics`` and ``/ready`` routes to ``app``."""
    app.router.routes.extend(OPS_ROUTES)
    app.add_middleware(RequestMiddleware)


def incoming_request_id(value: str | None) -> str:
    """``value`` if it is a usable request id, else a fresh one (32 hex digits)."""
    if value and _VALID_ID.match(value):
        return value
    return _new_request_id()


class _RequestIds:
    """Fresh request ids: 16 random hex digits per process, then a 16-digit counter.

    Unique like a uuid4 (the random half differs per process, re-drawn after a fork) at
    a fraction of the cost: no ``os.urandom`` system call per request. A request id
    labels log lines; it is not a secret, so it need not be unpredictable.
    """

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix = uuid.uuid4().hex[:16]
        self.counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_new_request_id = _RequestIds()


class RequestMiddleware:
    """Request id and last-resort error logging (pure ASGI: streams pass)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_graphql_post(scope):
            # GraphQL POSTs: the endpoint does all of this itself (http_graphql.post)
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        raw = headers.get(b"x-request-id")
        rid = incoming_request_id(raw.decode("latin-1") if raw else None)
        token = request_id.set(rid)
        # Whoever reads the header later sees this same id.
        scope = dict(scope)
        scope["headers"] = [
            *(item for item in scope.get("headers") or () if item[0] != b"x-request-id"),
            (b"x-request-id", rid.encode("latin-1")),
        ]
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
                MutableHeaders(scope=message).append("x-request-id", rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if not started_response:
                response = JSONResponse({"error": "Internal server error", "requestId": rid}, 500)
                await response(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


def _is_graphql_post(scope: Scope) -> bool:
    return bool(scope["path"] == "/graphql" and scope["method"] == "POST")


# --- /metrics and /ready ------------------------------------------------------------


async def metrics_endpoint(request: Request) -> Response:
    state: AppState = request.app.state.flowgen
    await asyncio.gather(_sample_queues(state), readiness(state))
    metrics.sample_pool(state.db)
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE_LATEST)


async def ready_endpoint(request: Request) -> JSONResponse:
    checks = await readiness(request.app.state.flowgen)
    ok = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ok else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


async def readiness(state: AppState) -> dict[str, str]:
    """``{"database": ..., "redis": ..., "migrations": ...}``, each ``"ok"`` or a reason.

    Redis must take a write, not only answer PING (out of memory it refuses writes: no
    invalidation, no enqueue). Migrations are checked only on a database that answers."""
    database, redis = await asyncio.gather(state.db.ping(_CHECK_TIMEOUT_S), _redis_check(state))
    migrations = await _migrations(state) if database else "unknown (database unreachable)"
    metrics.DEPENDENCY_UP.labels("database").set(int(database))
    metrics.DEPENDENCY_UP.labels("redis").set(int(redis == "ok"))
    return {
        "database": "ok" if database else "unreachable",
        "redis": redis,
        "migrations": migrations,
    }


async def _redis_check(state: AppState) -> str:
    if state.redis is None:
        return "unreachable"
    key = f"{state.settings.cache_prefix}:ready-probe"
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_S):
            await state.redis.set(key, "1", px=10_000)
    except OutOfMemoryError:
        return "refuses writes (out of memory)"
    except ReadOnlyError:
        return "refuses writes (read-only replica)"
    except ResponseError as exc:  # it answers, but refuses
        return f"refuses writes ({exc})"
    except Exception:
        return "unreachable"
    return "ok"


async def _migrations(state: AppState) -> str:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    heads = _script_heads(state.registry.migrations_dir)
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_S), state.db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            current = {row[0] for row in rows}
    except DBAPIError as exc:
        if exc.connection_invalidated:
            return "unknown (database unreachable)"
        return "unknown (database has no alembic_version: run gen migrate upgrade)"
    except Exception:  # a timeout, a connection refused while checking...
        return "unknown (database unreachable)"
    if current == heads:
        return "ok"
    return f"not at head (database {sorted(current)}, head {sorted(heads)})"


_heads: dict[str, set[str]] = {}


def _script_heads(directory: Any) -> set[str]:
    key = str(directory)
    if key not in _heads:
        from alembic.script import ScriptDirectory

        _heads[key] = set(ScriptDirectory(key).get_heads())
    return _heads[key]


async def _sample_queues(state: AppState) -> None:
    """Queue depth per state and connected workers per queue, from Redis."""
    if state.jobs is None:
        return

    async def one(name: str) -> None:
        queue = state.jobs.queue(name)
        counts = await queue.getJobCounts(*_QUEUE_STATES)
        for job_state in _QUEUE_STATES:
            metrics.QUEUE_JOBS.labels(name, job_state).set(counts.get(job_state, 0))
        metrics.QUEUE_WORKERS.labels(name).set(await live_workers(state, name))

    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_S):
            await asyncio.gather(*(one(name) for name in sorted(state.registry.queues)))
    except Exception as exc:  # Redis down: /metrics still answers, dependency_up says why
        log.debug("queue sampling failed: %s", exc)


OPS_ROUTES = [
    Route("/metrics", metrics_endpoint),
    Route("/ready", ready_endpoint),
]
