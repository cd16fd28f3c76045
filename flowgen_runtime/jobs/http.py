"""HTTP routes for jobs: a live job status stream (SSE) and the queue monitor as JSON.

``GET /jobs/{queue}/{id}/events`` is a ``text/event-stream``::

    retry: 1000

    event: state
    data: {"id": "7", "queue": "exam", "state": "waiting", "progress": 0, ...}

    event: progress
    data: {"id": "7", "queue": "exam", "state": "active", "progress": 50, ...}

    event: state
    data: {"id": "7", "queue": "exam", "state": "completed", "result": {...}, ...}

Every event carries the whole status (the ``jobStatus`` fields, camelCase): ``state``
when the state changed (the first event is always one), ``progress`` when only progress
or attempts changed. The stream ends after a ``completed`` or ``failed`` state, with an
``event: gone`` if the job disappears (removed by its retention), and with an
``event: timeout`` after ``JOB_EVENTS_MAX_S`` (reconnect to go on). A ``: keep-alive``
comment is sent after ``JOB_EVENTS_HEARTBEAT_S`` of silence. The job is re-read every
``JOB_EVENTS_POLL_MS``: a few Redis reads per open stream, no extra connection.
Unknown queue or job: 404 JSON. A caller follows the jobs it enqueued (its JWT),
``ADMIN_ROLES`` follow every job; another user's job, or any job for a caller without a
token, answers 404 like a missing one; an invalid token answers 401.

The monitor (``gen monitor`` over HTTP), for an admin's JWT or the ``MONITOR_TOKEN``
bearer token (without that setting, non-admins get 403)::

    GET  /monitor/queues[?queue=exam]            -> [{"name": "exam", "counts": {...}, ...}]
    POST /monitor/queues/{queue}/retry           -> {"queue": "exam", "action": "retry", "result": 2}
    POST /monitor/queues/{queue}/clean[?state=failed&grace_ms=0]
    POST /monitor/queues/{queue}/pause | resume
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from flowgen_runtime.auth.tokens import authenticate
from flowgen_runtime.core.errors import UnauthenticatedError
from flowgen_runtime.data.state import AppState
from flowgen_runtime.jobs import clean, job_status, pause, queue_overview, resume, retry_failed
from flowgen_runtime.jobs.api import is_admin, may_see_job
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["JOB_ROUTES"]

FINAL_STATES = frozenset({"completed", "failed"})


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.flowgen
    return state


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


# -- job events ---------------------------------------------------------------------------


async def job_events(request: Request) -> Response:
    """``GET /jobs/{queue}/{id}/events``: the job's state and progress as server-sent events."""
    state = _state(request)
    queue, job_id = request.path_params["queue"], request.path_params["id"]
    if queue not in state.registry.queues:
        return _error(404, f"unknown queue {queue!r}")
    try:
        identity = authenticate(state.settings, request.headers.get("authorization"))
    except UnauthenticatedError as exc:
        return _error(401, exc.message, **{"www-authenticate": "Bearer"})
    first = await job_status(state.jobs, queue, job_id)
    if first is None or not may_see_job(state.settings, identity, first.get("owner")):
        return _error(404, f"no job {job_id!r} in queue {queue!r}")  # others' jobs look missing
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    stream = _follow(state, queue, job_id, first)
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def _follow(
    state: AppState, queue: str, job_id: str, status: dict[str, Any] | None
) -> AsyncIterator[str]:
    settings = state.settings
    poll_s = settings.job_events_poll_ms / 1000
    deadline = time.monotonic() + settings.job_events_max_s
    quiet_since = time.monotonic()
    last: tuple[Any, ...] | None = None
    yield "retry: 1000\n\n"
    while True:
        if status is None:
            yield _event("gone", {"id": job_id, "queue": queue})
            return
        key = (status["state"], json.dumps(status["progress"]), status["attemptsMade"])
        if key != last:
            kind = "state" if last is None or last[0] != key[0] else "progress"
            yield _event(kind, status)
            last, quiet_since = key, time.monotonic()
        if status["state"] in FINAL_STATES:
            return
        now = time.monotonic()
        if now >= deadline:
            yield _event("timeout", {"id": job_id, "queue": queue})
            return
        if now - quiet_since >= settings.job_events_heartbeat_s:
            yield ": keep-alive\n\n"
            quiet_since = now
        await asyncio.sleep(poll_s)
        status = await job_status(state.jobs, queue, job_id)


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


# -- monitor ------------------------------------------------------------------------------


def _denied(request: Request) -> JSONResponse | None:
    """None if the request carries the monitor token or an admin's JWT; else the refusal."""
    settings = _state(request).settings
    try:
        identity = authenticate(settings, request.headers.get("authorization"))
    except UnauthenticatedError:
        identity = None
    if is_admin(settings, identity):
        return None
    token = settings.monitor_token
    if not token:
        return _error(403, "the monitor API is disabled; set MONITOR_TOKEN to enable it")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return _error(401, "a valid monitor token is required", **{"www-authenticate": "Bearer"})
    return None


async def monitor_queues(request: Request) -> Response:
    """``GET /monitor/queues``: the same data as ``gen monitor --json``."""
    denied = _denied(request)
    if denied is not None:
        return denied
    state = _state(request)
    wanted = request.query_params.get("queue")
    if wanted is not None and wanted not in state.registry.queues:
        return _error(404, f"unknown queue {wanted!r}")
    names = [wanted] if wanted else sorted(state.registry.queues)
    return JSONResponse(await queue_overview(state.jobs, names))


async def monitor_action(request: Request) -> Response:
    """``POST /monitor/queues/{queue}/{action}``: retry, clean, pause or resume a queue."""
    denied = _denied(request)
    if denied is not None:
        return denied
    state = _state(request)
    queue, action = request.path_params["queue"], request.path_params["action"]
    if queue not in state.registry.queues:
        return _error(404, f"unknown queue {queue!r}")
    params = request.query_params
    try:
        if action == "retry":
            result: Any = await retry_failed(state.jobs, queue)
        elif action == "clean":
            grace_ms = int(params.get("grace_ms", "0"))
            result = await clean(state.jobs, queue, params.get("state", "failed"), grace_ms)
        elif action in ("pause", "resume"):
            await (pause if action == "pause" else resume)(state.jobs, queue)
            result = None
        else:
            return _error(404, f"unknown action {action!r}; use retry, clean, pause or resume")
    except ValueError as exc:
        return _error(400, str(exc))
    return JSONResponse({"queue": queue, "action": action, "result": result})


JOB_ROUTES = [
    Route("/jobs/{queue}/{id}/events", job_events, methods=["GET"]),
    Route("/monitor/queues", monitor_queues, methods=["GET"]),
    Route("/monitor/queues/{queue}/{action}", monitor_action, methods=["POST"]),
]
