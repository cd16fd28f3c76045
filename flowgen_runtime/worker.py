"""Worker process entry: ``gen worker [--queues a,b] [--concurrency N]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from . import metrics
from .context import Context
from .jobs import JobContext, WorkerGroup, resolve_handler
from .logging import configure_logging
from .settings import get_settings
from .state import AppState

log = logging.getLogger("flowgen.worker")
_HEARTBEAT_S = 5.0


def app_context(job: JobContext) -> Context:
    """A service context inside a job handler: ``ctx = app_context(job)``."""
    state: AppState = job.extra["state"]
    return state.context(request_id=job.request_id, system=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gen worker", description="Run job workers.")
    p.add_argument("--queues", default="", help="Comma-separated queue names (default: all).")
    p.add_argument("--concurrency", type=int, default=None, help="Jobs at once per queue.")
    return p


async def run_workers(registry: Any, queues: list[str], concurrency: int | None) -> None:
    state = AppState(registry)
    await state.start()
    try:
        defs = [registry.queues[name] for name in queues]
        handlers = {
            key: resolve_handler(h, where=f"queue {key[0]}, job {key[1]}")
            if isinstance(h, str)
            else h
            for key, h in registry.handlers.items()
            if key[0] in queues
        }
        settings = state.settings
        group = WorkerGroup(
            defs, state.redis_url, prefix=settings.queue_key_prefix, concurrency=concurrency,
            handlers=handlers, context_extra={"state": state},
            worker_options={
                "stalledInterval": settings.worker_stalled_interval_ms,
                "lockDuration": settings.worker_lock_duration_ms,
            },
        )  # fmt: skip
        if settings.metrics_port is not None:
            metrics.serve_metrics(settings.metrics_port)
        log.info("worker started", extra={"queues": queues})
        heartbeat = asyncio.ensure_future(_heartbeat(state, queues))
        try:
            await group.run()
        finally:
            heartbeat.cancel()
            for name in queues:
                metrics.WORKER_UP.labels(name).set(0)
    finally:
        await state.stop()
        metrics.mark_process_dead()


async def _heartbeat(state: AppState, queues: list[str]) -> None:
    """Liveness and pool usage of this worker process, every few seconds."""
    from .http_ops import worker_heartbeat

    member = f"{socket.gethostname()}:{os.getpid()}"
    while True:
        now = time.time()
        for name in queues:
            metrics.WORKER_UP.labels(name).set(1)
            metrics.WORKER_HEARTBEAT.labels(name).set(now)
            try:  # seen by every server's flowgen_queue_workers, across machines
                await worker_heartbeat(state, name, member)
            except Exception as exc:  # Redis down: the workers notice it themselves
                log.debug("heartbeat not recorded: %s", exc)
        metrics.sample_pool(state.db)
        await asyncio.sleep(_HEARTBEAT_S)


def worker_main(registry: Any, argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    names = [q for q in args.queues.split(",") if q] or sorted(registry.queues)
    unknown = [q for q in names if q not in registry.queues]
    if unknown:
        log.error(
            "unknown queue(s): %s (known: %s)",
            ", ".join(unknown),
            ", ".join(sorted(registry.queues)),
        )
        return 2
    if not names:
        log.error("this app defines no queues")
        return 2
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run_workers(registry, names, args.concurrency))
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when installed (it comes with uvicorn[standard]): a worker's
    per-job work is mostly event loop and socket calls, which it does in C."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - not on every platform
        return None
    return uvloop.new_event_loop
