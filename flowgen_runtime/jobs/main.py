"""Worker process entry: ``gen worker [--queues a,b] [--concurrency N] [--processes N]``.

``--processes N`` (``0``: one per CPU core) starts N worker processes under this one, which
only supervises them: SIGTERM/SIGINT are passed on to each (a second one too, to cancel the
active jobs), and if one of them dies the others are stopped and its exit code returned.
Python runs one core per process, so this is how one machine's cores all work on jobs.
The children run in a session of their own (a Ctrl-C reaches them once, through the
supervisor) and, on Linux, get SIGTERM should the supervisor die without passing one on.
Only the first child serves ``METRICS_PORT``; prometheus multiprocess mode makes that one
endpoint report every process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, cast

from flowgen_runtime.core import metrics
from flowgen_runtime.core.logging import configure_logging
from flowgen_runtime.core.processes import spawn_child
from flowgen_runtime.core.settings import get_settings
from flowgen_runtime.data.context import Context, job_caller
from flowgen_runtime.data.state import AppState
from flowgen_runtime.jobs import JobContext, WorkerGroup, resolve_handler
from flowgen_runtime.jobs.logstream import CoalescingStream

log = logging.getLogger("flowgen.worker")
_HEARTBEAT_S = 5.0
_CHILD = "FLOWGEN_WORKER_CHILD"  # set in the processes a --processes supervisor starts


def app_context(job: JobContext) -> Context:
    """A service context inside a job handler that acts as the caller who enqueued the
    job (its rules, hidden fields, presets): ``app = app_context(job)``. A scheduled job
    has no caller (anonymous). To act as the system, say so: ``app.as_system("why")``
    (logged). A job a system context enqueued runs as the system (also logged)."""
    return job_app_context(job.extra["state"], job)


def job_app_context(state: AppState, job: JobContext) -> Context:
    identity, system = job_caller(job.caller)
    if system:
        log.info("job %s/%s#%s runs as the system (a system context enqueued it)",
                 job.queue, job.name, job.job_id)  # fmt: skip
    return state.context(request_id=job.request_id, identity=identity, system=system)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gen worker", description="Run job workers.")
    p.add_argument("--queues", default="", help="Comma-separated queue names (default: all).")
    p.add_argument(
        "--concurrency", type=_at_least(1), default=None,
        help="Jobs at once per queue (default: the queue's spec).",
    )  # fmt: skip
    p.add_argument(
        "--processes", type=_at_least(0), default=1,
        help="Worker processes to run (0: one per CPU core); default 1.",
    )  # fmt: skip
    return p


def _at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low`` (else a usage error naming the value)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        return value

    return parse


async def run_workers(registry: Any, queues: list[str], concurrency: int | None) -> None:
    _ = registry.loaded  # the app's hooks run in queued writes too; a bad path fails here
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
        if settings.metrics_port is not None and os.environ.get(_CHILD, "0") == "0":
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
    from flowgen_runtime.jobs.heartbeat import worker_heartbeat

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
    # a line per job: the lines of one loop iteration go out in one write (see logstream)
    stream = CoalescingStream(sys.stderr)
    configure_logging(settings.log_level, settings.log_format, stream=cast(TextIO, stream))
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
    processes = args.processes if args.processes > 0 else (os.cpu_count() or 1)
    if processes > 1 and _CHILD not in os.environ:
        return supervise(processes)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run_workers(registry, names, args.concurrency))
    finally:
        stream.close()  # whatever the last iteration logged
    return 0


def supervise(count: int, argv: list[str] | None = None) -> int:
    """Run ``count`` copies of this command line as workers; see the module docstring."""
    command = argv or [sys.executable, *sys.orig_argv[1:]]
    children = [
        spawn_child(command, env={**os.environ, _CHILD: str(index)}, start_new_session=True)
        for index in range(count)
    ]
    log.info("supervising %d worker processes", count, extra={"pids": [c.pid for c in children]})
    received: list[int] = []

    def forward(signum: int, _frame: Any) -> None:
        received.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = 0
        while any(child.poll() is None for child in children):
            failed = [c for c in children if c.returncode not in (None, 0)]
            if failed and not received:
                code = failed[0].returncode
                log.error("worker process %d exited with %d; stopping the others",
                          failed[0].pid, code)  # fmt: skip
                forward(signal.SIGTERM, None)
            time.sleep(0.1)
        codes = [child.returncode for child in children]
        return code or next((c for c in codes if c != 0), 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when installed (it comes with uvicorn[standard]): a worker's
    per-job work is mostly event loop and socket calls, which it does in C."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - not on every platform
        return None
    return uvloop.new_event_loop
