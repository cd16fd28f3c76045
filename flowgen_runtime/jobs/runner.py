"""Running jobs: one BullMQ worker per queue, calling handlers from user code.

::

    group = WorkerGroup([GRADING], "redis://127.0.0.1:6379/0", context_extra={"db": sessions})
    await group.run()  # until SIGTERM / SIGINT or group.stop()

A handler is an async function of the validated payload and a :class:`JobContext`;
what it returns (JSON-able, or a pydantic model) becomes the job's result::

    async def grade_submission(payload: GradeSubmission, ctx: JobContext) -> dict:
        ctx.logger.info("grading")          # carries job_id, queue, job_name, attempt, request_id
        await ctx.progress(50)
        return {"score": 9}

Failures: an exception fails the attempt and BullMQ retries it per ``JobOptions``
(``attempts``, ``backoff``). :class:`UnrecoverableJobError` fails the job at once,
without retries; so does a payload that does not validate (the reason names the
invalid fields), a job name the queue does not know, or a refusal of the service layer
(:data:`REFUSALS`: bad input, a missing row, a permission, a conflict). ``timeout_ms`` fails the
attempt with "timed out after N ms" (it is retried like any failure).

Stopping: on the first SIGTERM/SIGINT (or :meth:`WorkerGroup.stop`) the workers
fetch no more jobs and wait for the active ones; a second signal (or
``stop(force=True)``) cancels them, leaving them active in Redis until BullMQ's
stalled-job check hands them to another worker.

BullMQ 3.4.4 (Python) facts this module relies on, measured on Redis 7.0:

* Worker connections use ``socket_timeout=None``. The worker waits for jobs with
  ``BZPOPMIN`` for up to 5 s (10 s when a delayed job is due later); a shorter
  socket timeout turns that wait into a ``TimeoutError`` that bullmq treats as a
  lost connection and answers by sleeping ``runRetryDelay`` (15 s). With
  ``socket_timeout=1`` a job delayed by 3 s had not run after 20 s.
* Delays are rounded *up to whole seconds* unless the worker knows that Redis
  takes fractional timeouts: ``Worker.waitForJob`` applies ``math.ceil`` unless
  the blocking connection's ``capabilities["canDoubleTimeout"]`` is set, and only
  ``RedisConnection.getRedisVersion()`` sets it, which the worker never calls
  for that connection. Measured: delay 1500 ms ran after 2.0 s, 300 ms after 1.1 s.
  :meth:`WorkerGroup.run` therefore calls ``getRedisVersion()`` on each worker's
  blocking connection before starting it (``Worker.prepare``); then 1500 ms ran
  after ~1.55 s and 300 ms after ~0.35 s. On Redis < 6.0 the rounding remains.
* Two more bullmq worker bugs, a shutdown race and a rate limiter that waits
  5 s instead of the limit's remaining time, are fixed in :mod:`.bullmq_compat.worker`.
* ``Worker.close()`` waits for active jobs; ``bullmq.UnrecoverableError`` skips
  the remaining attempts; job schedulers exist (``upsertJobScheduler``) and are
  used for :class:`~flowgen_runtime.jobs.defs.Schedule`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import inspect
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import bullmq
import pydantic
from flowgen_runtime.core.errors import ConflictError, ForbiddenError, NotFoundError, UserInputError
from flowgen_runtime.core.logging import bind_log_context, log_json_line, reset_log_context
from flowgen_runtime.core.metrics import JOB_DURATION, JOBS, JOBS_STALLED
from flowgen_runtime.jobs.bullmq_compat import prepare_worker, worker_class
from flowgen_runtime.jobs.defs import JobDef, QueueDef
from flowgen_runtime.jobs.enqueue import META_KEY, PayloadError, _connection, job_data
from pydantic_core import to_jsonable_python

__all__ = [
    "HandlerImportError",
    "JobContext",
    "JobTimeoutError",
    "UnrecoverableJobError",
    "WorkerGroup",
    "resolve_handler",
]

logger = logging.getLogger("flowgen.jobs")

Handler = Callable[[Any, "JobContext"], Awaitable[Any]]
ContextExtra = Mapping[str, Any] | Callable[[], Awaitable[Mapping[str, Any]]]


class UnrecoverableJobError(bullmq.UnrecoverableError):
    """Raise from a handler to fail the job now, skipping any remaining attempts."""


REFUSALS = (UserInputError, NotFoundError, ForbiddenError, ConflictError)
"""What the service layer raises for a request it refuses (BAD_USER_INPUT, NOT_FOUND,
FORBIDDEN, CONFLICT): raised by a handler, it fails the job at once, like
:class:`UnrecoverableJobError`; a queued create naming a missing row is refused alike on
every attempt, so retrying only delays the answer."""


class JobTimeoutError(Exception):
    """The handler ran longer than the job's ``timeout_ms``."""


class HandlerImportError(ImportError):
    """A handler path from the spec cannot be imported or is not a function."""


class JobLogger(logging.LoggerAdapter[logging.Logger]):
    """A LoggerAdapter that merges its job fields into each call's own ``extra``.

    A plain call (no ``exc_info``, ``stack_info`` ...) going only to the JSON log handler is
    written by :func:`~flowgen_runtime.core.logging.log_json_line`, for half the cost.
    """

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if not self.logger.isEnabledFor(level):
            return
        if not kwargs or (len(kwargs) == 1 and "extra" in kwargs):
            fields = self.extra or {}
            if kwargs and kwargs["extra"]:
                fields = {**fields, **kwargs["extra"]}
            if log_json_line(self.logger, level, msg, args, fields):
                return
        # this frame is not logging's own: the caller is one further up
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        super().log(level, msg, *args, **kwargs)


@dataclass
class JobContext:
    """What a handler knows about the job it runs; ``extra`` holds app resources.

    ``caller`` is who enqueued the job, as its metadata recorded it (user id, roles and
    the claims the spec's rules read; ``{"system": true, ...}`` for a job a system
    context enqueued; ``None``: nobody, e.g. a scheduled job). ``app_context(job)`` acts
    as that caller.
    """

    job_id: str
    queue: str
    name: str
    attempt: int
    request_id: str | None
    logger: logging.LoggerAdapter[logging.Logger]
    progress: Callable[[int | dict[str, Any]], Awaitable[None]]
    extra: dict[str, Any] = field(default_factory=dict)
    caller: Mapping[str, Any] | None = None


def resolve_handler(dotted: str, *, where: str = "") -> Callable[..., Any]:
    """Import ``"pkg.module.function"``; :class:`HandlerImportError` names the path if it fails.

    >>> resolve_handler("handlers.exam.grade_submission")
    <function grade_submission at 0x...>
    """
    place = f" ({where})" if where else ""
    module_name, _, attr = dotted.rpartition(".")
    if not module_name or not attr:
        raise HandlerImportError(f"handler {dotted!r}{place} is not a dotted path 'module.func'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise HandlerImportError(
                f"handler {dotted!r}{place}: module {exc.name!r} not found"
            ) from exc
        raise HandlerImportError(f"handler {dotted!r}{place}: importing failed: {exc}") from exc
    except Exception as exc:
        raise HandlerImportError(
            f"handler {dotted!r}{place}: importing {module_name!r} raised {exc!r}"
        ) from exc
    handler = getattr(module, attr, None)
    if handler is None:
        raise HandlerImportError(f"handler {dotted!r}{place}: {module_name!r} has no {attr!r}")
    if not callable(handler):
        raise HandlerImportError(f"handler {dotted!r}{place} is not callable")
    return handler


class WorkerGroup:
    """Runs one BullMQ worker per queue until stopped; see the module docstring.

    ``worker_options`` are extra ``bullmq.Worker`` options, e.g. a short
    ``{"stalledInterval": 1000, "lockDuration": 2000}`` so that a job of a killed
    worker is handed to another one within seconds instead of 30 s.
    """

    def __init__(
        self,
        queues: Sequence[QueueDef],
        redis_url: str,
        *,
        prefix: str = "bull",
        concurrency: int | None = None,
        handlers: Mapping[tuple[str, str], Callable[..., Any]] | None = None,
        context_extra: ContextExtra | None = None,
        worker_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.queues = list(queues)
        self.worker_options = dict(worker_options or {})
        self.redis_url = redis_url
        self.prefix = prefix
        self.concurrency = concurrency
        self.context_extra = context_extra
        self.handlers = {
            (queue.name, job.name): _handler_for(queue, job, handlers or {})
            for queue in self.queues
            for job in queue.jobs.values()
        }
        self._workers: list[bullmq.Worker] = []
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Process jobs until :meth:`stop`, SIGTERM or SIGINT; return once all are closed."""
        if self._workers:
            raise RuntimeError("this WorkerGroup is already running")
        self._stopping.clear()
        extra = await self._load_extra()
        self._workers = [self._worker(queue, extra) for queue in self.queues]
        names = ", ".join(q.name for q in self.queues)
        try:
            with _signal_handlers(self._on_signal):
                for queue, worker in zip(self.queues, self._workers, strict=True):
                    await prepare_worker(worker)
                    await _sync_schedules(queue, worker)
                runs = [asyncio.ensure_future(worker.run()) for worker in self._workers]
                logger.info("worker started for queues %s", names)
                stopping = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait([stopping, *runs], return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                await asyncio.gather(*(worker.close() for worker in self._workers))
                outcomes = await asyncio.gather(*runs, return_exceptions=True)
        finally:
            await asyncio.gather(*(w.close(force=True) for w in self._workers if not w.closing))
            self._workers = []
        logger.info("worker stopped for queues %s", names)
        if not self._stopping.is_set():
            raise RuntimeError(f"a BullMQ worker stopped unexpectedly: {outcomes!r}")

    def stop(self, *, force: bool = False) -> None:
        """Stop fetching jobs; ``force=True`` also cancels the active ones."""
        self._stopping.set()
        if force:
            for worker in self._workers:
                worker.cancelProcessing()

    def _on_signal(self, signum: int) -> None:
        again = self._stopping.is_set()
        action = "cancelling active jobs" if again else "finishing active jobs (again to abort)"
        logger.warning("received %s, %s", signal.Signals(signum).name, action)
        self.stop(force=again)

    async def _load_extra(self) -> Mapping[str, Any]:
        if callable(self.context_extra):
            return await self.context_extra()
        return self.context_extra or {}

    def _worker(self, queue: QueueDef, extra: Mapping[str, Any]) -> bullmq.Worker:
        async def process(job: bullmq.Job, token: str) -> Any:
            return await self._process(queue, job, extra)

        opts: dict[str, Any] = {
            "connection": _connection(self.redis_url, True),
            "prefix": self.prefix,
            "concurrency": self.concurrency or queue.concurrency,
            "autorun": False,
        }
        if queue.rate_limit is not None:
            opts["limiter"] = queue.rate_limit.to_bullmq()
        # bullmq asks this for backoffs it does not know itself, i.e. type "custom"
        opts["settings"] = {
            "backoffStrategy": lambda n, _t, _e, job: queue.retry_delay(job.name, n)
        }
        opts.update(self.worker_options)
        worker = worker_class()(queue.name, process, opts)
        worker.on("stalled", lambda _job_id, *_: JOBS_STALLED.labels(queue.name).inc())
        return worker

    async def _process(self, queue: QueueDef, job: bullmq.Job, extra: Mapping[str, Any]) -> Any:
        data = dict(job.data or {})
        meta = data.pop(META_KEY, None) or {}
        ctx = JobContext(
            job_id=str(job.id),
            queue=queue.name,
            name=job.name,
            attempt=job.attemptsMade + 1,
            request_id=meta.get("request_id"),
            logger=_job_logger(queue.name, job, meta.get("request_id")),
            progress=job.updateProgress,
            extra=dict(extra),
            caller=meta.get("caller"),
        )
        started = time.monotonic()
        # Every log line of the job (services, libraries) carries its request and job id.
        token = bind_log_context(request_id=ctx.request_id, job_id=ctx.job_id)
        try:
            # DEBUG: one INFO line per job (the outcome) is already a quarter of a trivial job
            if logger.isEnabledFor(logging.DEBUG):
                ctx.logger.debug("job %s started (attempt %d)", _label(ctx), ctx.attempt)
            try:
                result = to_jsonable_python(await self._call(queue, job.name, data, ctx))
            except Exception as exc:
                # a refusal would be the same on every attempt: fail the job at once
                failure = UnrecoverableJobError(str(exc)) if isinstance(exc, REFUSALS) else exc
                final = _log_failure(ctx, failure, job.opts.get("attempts") or 1)
                _observe(ctx, time.monotonic() - started, "failed" if final else "retried")
                if failure is exc:
                    raise
                raise failure from exc
            elapsed = time.monotonic() - started
            _observe(ctx, elapsed, "completed")
            if logger.isEnabledFor(logging.INFO):
                ctx.logger.info("job %s completed in %.0f ms", _label(ctx), elapsed * 1000)
        finally:
            reset_log_context(token)
        return result

    async def _call(self, queue: QueueDef, name: str, data: dict[str, Any], ctx: JobContext) -> Any:
        jobdef = queue.jobs.get(name)
        if jobdef is None:
            raise UnrecoverableJobError(f"queue {queue.name!r} has no job {name!r}")
        try:
            payload = jobdef.payload.model_validate(data)
        except pydantic.ValidationError as exc:
            raise UnrecoverableJobError(
                str(PayloadError.from_validation_error(name, exc))
            ) from None
        outcome = self.handlers[(queue.name, name)](payload, ctx)
        if not inspect.isawaitable(outcome):
            return outcome
        timeout_ms = jobdef.options.timeout_ms
        if timeout_ms is None:
            return await outcome
        try:
            return await asyncio.wait_for(outcome, timeout_ms / 1000)
        except TimeoutError:
            raise JobTimeoutError(f"timed out after {timeout_ms} ms") from None


def _handler_for(
    queue: QueueDef, job: JobDef, explicit: Mapping[tuple[str, str], Callable[..., Any]]
) -> Callable[..., Any]:
    where = f"queue {queue.name!r}, job {job.name!r}"
    if (queue.name, job.name) in explicit:
        return explicit[(queue.name, job.name)]
    if not job.handler:
        raise HandlerImportError(f"{where} has no handler path and none was given")
    return resolve_handler(job.handler, where=where)


async def _sync_schedules(queue: QueueDef, worker: bullmq.Worker) -> None:
    """Upsert a job scheduler (id = job name) per scheduled job; remove stale ones."""
    scheduler = worker.jobScheduler
    wanted = {name: job for name, job in queue.jobs.items() if job.schedule is not None}
    for record in await scheduler.getJobSchedulers():
        if record["key"] not in wanted:
            await scheduler.removeJobScheduler(record["key"])
    for name, job in wanted.items():
        assert job.schedule is not None
        try:
            payload = job.payload()
        except pydantic.ValidationError as exc:
            raise PayloadError.from_validation_error(name, exc) from None
        data = job_data(payload, request_id=None)
        opts = job.options.to_bullmq()
        await scheduler.upsertJobScheduler(name, job.schedule.to_bullmq(), name, data, opts)


def _job_logger(queue: str, job: bullmq.Job, request_id: str | None) -> JobLogger:
    # LogRecord reserves "name" (the logger's), so the job name goes in "job_name".
    fields = {
        "job_id": str(job.id),
        "queue": queue,
        "job_name": job.name,
        "attempt": job.attemptsMade + 1,
        "request_id": request_id,
    }
    return JobLogger(logger, fields)


def _observe(ctx: JobContext, seconds: float, outcome: str) -> None:
    duration, count = _series(ctx.queue, ctx.name, outcome)
    duration.observe(seconds)
    count.inc()


@functools.lru_cache(maxsize=4096)
def _series(queue: str, job_name: str, outcome: str) -> tuple[Any, Any]:
    """The labelled metric children of one job kind and outcome, looked up once
    (``labels()`` takes a lock and builds a key on every call)."""
    return JOB_DURATION.labels(queue, job_name), JOBS.labels(queue, job_name, outcome)


def _log_failure(ctx: JobContext, exc: Exception, attempts: int) -> bool:
    """Log a failed attempt; True when it was the job's last."""
    final = isinstance(exc, bullmq.UnrecoverableError) or ctx.attempt >= attempts
    outcome = "failed" if final else "will be retried"
    expected = isinstance(exc, bullmq.UnrecoverableError | JobTimeoutError)
    ctx.logger.log(
        logging.ERROR if final else logging.WARNING,
        "job %s attempt %d/%d %s: %s",
        *(_label(ctx), ctx.attempt, attempts, outcome, exc),
        exc_info=None if expected else exc,
    )
    return final


def _label(ctx: JobContext) -> str:
    return f"{ctx.queue}/{ctx.name}#{ctx.job_id}"


@contextlib.contextmanager
def _signal_handlers(callback: Callable[[int], None]) -> Iterator[None]:
    """Route SIGTERM and SIGINT to ``callback`` (main thread only; a no-op elsewhere)."""
    loop = asyncio.get_running_loop()
    installed = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, callback, signum)
                installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
