"""Putting jobs on BullMQ queues: payload validation, metadata and options.

One :class:`JobQueues` per process holds one ``bullmq.Queue`` per queue name::

    queues = JobQueues("redis://127.0.0.1:6379/0")
    ref = await queues.enqueue(GRADING, "grade_submission", {"submission_id": 7},
                               job_id="grade-7", request_id="req-42")
    # {'id': 'grade-7', 'queue': 'grading', 'name': 'grade_submission', 'state': 'waiting'}
    await queues.close()

The payload is validated with the job's pydantic model first; a bad payload
raises :class:`PayloadError` listing every invalid field and nothing is queued.
The job data stored in Redis is the payload in JSON mode (by alias, only the
fields that were set; the worker fills defaults when it validates again, so a
``default_factory`` runs per attempt) plus one extra key, ``"_meta"``, holding
``{"request_id": ..., "owner": ..., "caller": ...}`` (``caller``: who enqueued it, the
record of ``Identity.record``, which the worker acts as). Pydantic fields cannot
start with an underscore, so ``_meta`` never clashes with a payload field.

``job_id`` makes enqueueing idempotent: BullMQ ignores a second add with an id
that already exists (its Lua script returns the existing id and leaves the job
untouched), and the returned :class:`JobRef` carries the *existing* job's state,
e.g. ``"completed"`` if it already ran.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import unquote, urlsplit

import bullmq
import pydantic
from flowgen_runtime.jobs.bullmq_compat import autopipeline, warn_if_unsupported
from flowgen_runtime.jobs.defs import JobDef, QueueDef

__all__ = [
    "META_KEY",
    "FieldError",
    "JobQueues",
    "JobRef",
    "PayloadError",
    "PreparedJob",
    "prepare",
]

META_KEY = "_meta"
_PRODUCER_TIMEOUT_S = 10.0
_ONE_BATCH = 1 << 30
"""Producers send their calls in one batch per loop iteration: no eager write, no split
(a server has no worker turn to overlap with; the extra round trips only cost CPU)."""

Payload = Mapping[str, Any] | pydantic.BaseModel


class JobRef(TypedDict):
    """What enqueueing returns: enough to look the job up later with ``job_status``."""

    id: str
    queue: str
    name: str
    state: str


class FieldError(TypedDict):
    """One invalid field: ``{"path": ["items", 0, "qty"], "message": "Input should be ..."}``."""

    path: list[str | int]
    message: str


class PayloadError(Exception):
    """A job payload failed validation; ``errors`` lists every invalid field at once.

    >>> str(err)
    "invalid payload for job 'grade_submission': submission_id: Field required"
    """

    def __init__(self, job: str, errors: list[FieldError]) -> None:
        self.job = job
        self.errors = errors
        details = "; ".join(f"{_dotted(e['path'])}: {e['message']}" for e in errors)
        super().__init__(f"invalid payload for job {job!r}: {details}")

    @classmethod
    def from_validation_error(
        cls, job: str, exc: pydantic.ValidationError, *, prefix: Sequence[str | int] = ()
    ) -> PayloadError:
        errors: list[FieldError] = [
            {"path": [*prefix, *err["loc"]], "message": err["msg"]} for err in exc.errors()
        ]
        return cls(job, errors)


def validate_payload(job: JobDef, payload: Payload) -> pydantic.BaseModel:
    """The payload as an instance of ``job.payload``; :class:`PayloadError` if it is invalid."""
    if isinstance(payload, job.payload):
        return payload
    if isinstance(payload, pydantic.BaseModel):
        payload = payload.model_dump(by_alias=True)
    try:
        return job.payload.model_validate(payload)
    except pydantic.ValidationError as exc:
        raise PayloadError.from_validation_error(job.name, exc) from None


def job_data(
    model: pydantic.BaseModel,
    *,
    request_id: str | None,
    owner: str | None = None,
    caller: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The BullMQ job data for a validated payload: JSON-mode fields plus ``_meta``.

    Only the fields the caller set are stored: the worker re-validates and fills defaults
    itself, and a field that defaults to ``None`` without being nullable (a partial update,
    a server-side default) must stay absent rather than become an explicit null.
    """
    data = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    meta: dict[str, Any] = {"request_id": request_id}
    if owner is not None:
        meta["owner"] = owner  # the user who enqueued it: job status is shown to them only
    if caller is not None:
        meta["caller"] = dict(caller)  # who the worker acts as (no record: anonymous)
    return {**data, META_KEY: meta}


@dataclass(frozen=True)
class PreparedJob:
    """A validated job, ready for ``Queue.add``: what :meth:`JobQueues.add` takes."""

    queue: str
    name: str
    data: dict[str, Any]
    opts: dict[str, Any]

    @property
    def job_id(self) -> str | None:
        return self.opts.get("jobId")


MAX_CLIENT_JOB_ID = 200
"""The longest job id (idempotency key) a client may choose."""
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")


def job_id_problem(job_id: str, *, digits_ok: bool = False) -> str | None:
    """Why ``job_id`` cannot be a BullMQ job id, or None. Node BullMQ refuses a custom id
    with ``:`` (its key separator) and one that is an integer, which would also meet the
    ids BullMQ numbers its jobs with (``digits_ok``: the id gets a prefix, so it cannot).

    >>> job_id_problem("order:7")
    "must not contain ':' (BullMQ's key separator)"
    """
    if not job_id:
        return "must not be empty"
    if ":" in job_id:
        return "must not contain ':' (BullMQ's key separator)"
    if not digits_ok and _INTEGER.fullmatch(job_id):
        return "must not be an integer (BullMQ numbers its own jobs so)"
    return None


def prepare(
    queue: QueueDef,
    job_name: str,
    payload: Payload,
    job_id: str | None = None,
    request_id: str | None = None,
    delay_ms: int | None = None,
    owner: str | None = None,
    caller: Mapping[str, Any] | None = None,
) -> PreparedJob:
    """Validate ``payload`` (:class:`PayloadError` if invalid) and build the job's data and
    opts; a ``job_id`` BullMQ cannot take is a ValueError (see :func:`job_id_problem`)."""
    if job_id is not None and (problem := job_id_problem(job_id)) is not None:
        raise ValueError(f"job id {job_id!r} {problem}")
    job = queue.job(job_name)
    data = job_data(
        validate_payload(job, payload), request_id=request_id, owner=owner, caller=caller
    )
    return PreparedJob(queue.name, job.name, data, _opts(job, job_id, delay_ms))


class JobQueues:
    """The producer side: one lazily created ``bullmq.Queue`` per queue name."""

    def __init__(self, redis_url: str, *, prefix: str = "bull") -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self._queues: dict[str, bullmq.Queue] = {}
        self._pipelines: list[Any] = []
        """Auto-pipelines of the queues (:func:`.bullmq_compat.autopipeline`)."""
        warn_if_unsupported()

    def queue(self, name: str) -> bullmq.Queue:
        """The ``bullmq.Queue`` called ``name`` (created on first use, then reused)."""
        if name not in self._queues:
            opts = {"connection": _connection(self.redis_url, False), "prefix": self.prefix}
            queue = self._queues[name] = bullmq.Queue(name, opts)
            # concurrent enqueues (one per request) share round trips instead of taking
            # turns on bullmq's single connection; see .bullmq_compat.pipeline
            pipeline = autopipeline(queue, eager=_ONE_BATCH, split_from=_ONE_BATCH)
            if pipeline is not None:
                self._pipelines.append(pipeline)
        return self._queues[name]

    async def enqueue(
        self,
        queue: QueueDef,
        job_name: str,
        payload: Payload,
        *,
        job_id: str | None = None,
        request_id: str | None = None,
        delay_ms: int | None = None,
    ) -> JobRef:
        """Validate ``payload`` and add one job; ``delay_ms`` overrides the job's default."""
        return await self.add(prepare(queue, job_name, payload, job_id, request_id, delay_ms))

    async def add(self, job: PreparedJob) -> JobRef:
        """Add a job validated earlier by :func:`prepare` (e.g. held until a commit)."""
        queue = self.queue(job.queue)
        if job.job_id is None:  # a new job: its state follows from its options, no read needed
            added = await queue.add(job.name, job.data, job.opts)
            return {"id": str(added.id), "queue": job.queue, "name": job.name,
                    "state": _initial_state(job.opts)}  # fmt: skip
        # A known id may be a duplicate: the state is the existing job's. The add and the
        # state read are issued together, so they share one round trip (.bullmq_compat.pipeline) and run
        # in that order; should the read have run first it finds no job, and is made again.
        added, state = await asyncio.gather(
            queue.add(job.name, job.data, job.opts), queue.getJobState(job.job_id)
        )
        if state not in STATES:
            state = await queue.getJobState(str(added.id))
        return {"id": str(added.id), "queue": job.queue, "name": job.name, "state": state}

    async def stored(self, queue: str, job_id: str) -> tuple[str, dict[str, Any]] | None:
        """The name and data of job ``job_id`` as Redis holds it, or None if it has none."""
        bull = self.queue(queue)
        name, data = await bull.client.hmget(bull.toKey(job_id), ["name", "data"])
        if name is None or data is None:
            return None
        return (name.decode() if isinstance(name, bytes) else name), json.loads(data)

    async def enqueue_bulk(
        self,
        queue: QueueDef,
        jobs: Sequence[tuple[str, Payload]],
        *,
        job_ids: Sequence[str | None] | None = None,
        request_id: str | None = None,
    ) -> list[JobRef]:
        """Validate every ``(job_name, payload)`` first, then add them all in one round trip.

        If any payload is invalid nothing is added; the :class:`PayloadError`
        paths start with the item's index: ``[2, "submission_id"]``.
        """
        ids = list(job_ids) if job_ids is not None else [None] * len(jobs)
        if len(ids) != len(jobs):
            raise ValueError("job_ids must have one entry per job")
        entries: list[dict[str, Any]] = []
        errors: list[FieldError] = []
        for index, ((name, payload), job_id) in enumerate(zip(jobs, ids, strict=True)):
            job = queue.job(name)
            try:
                model = validate_payload(job, payload)
            except PayloadError as exc:
                errors += [
                    FieldError(path=[index, *e["path"]], message=e["message"]) for e in exc.errors
                ]
                continue
            data = job_data(model, request_id=request_id)
            entries.append({"name": job.name, "data": data, "opts": _opts(job, job_id, None)})
        if errors:
            raise PayloadError(f"{queue.name} (bulk)", errors)
        added = await self.queue(queue.name).addBulk(entries)
        refs = [self._ref(queue.name, job.name, str(job.id)) for job in added]
        return list(await asyncio.gather(*refs))

    async def close(self) -> None:
        """Close every queue connection; the object can be used again afterwards."""
        queues, self._queues = list(self._queues.values()), {}
        pipelines, self._pipelines = self._pipelines, []
        await asyncio.gather(*(q.close() for q in queues), *(p.aclose() for p in pipelines))

    async def __aenter__(self) -> JobQueues:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _ref(self, queue: str, name: str, job_id: str) -> JobRef:
        # Read the state back: for a duplicate job_id it is the existing job's state.
        state = await self.queue(queue).getJobState(job_id)
        return {"id": job_id, "queue": queue, "name": name, "state": state}


STATES = frozenset(
    {"waiting", "delayed", "active", "completed", "failed", "prioritized", "waiting-children"}
)
"""The states BullMQ reports for an existing job (``getJobState`` says "unknown" otherwise)."""


def _initial_state(opts: Mapping[str, Any]) -> str:
    """The state ``getJobState`` reports for a job just added with ``opts`` (no job id)."""
    if opts.get("delay"):
        return "delayed"
    return "prioritized" if opts.get("priority") else "waiting"


def _opts(job: JobDef, job_id: str | None, delay_ms: int | None) -> dict[str, Any]:
    opts = job.options.to_bullmq()
    if job_id is not None:
        opts["jobId"] = job_id
    if delay_ms is not None:
        opts["delay"] = delay_ms
    return opts


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path) or "(payload)"


def _connection(url: str, for_worker: bool) -> dict[str, Any]:
    """redis.asyncio.Redis keyword arguments for ``url``, as BullMQ's ``connection``.

    Uses ``flowgen_runtime.core.redis.redis_connection_kwargs`` when present; the
    fallback understands ``redis://``, ``rediss://`` and ``unix://`` URLs.
    Workers always get ``socket_timeout=None`` (see the ``worker`` module docstring),
    producers a generous 10 s.
    """
    try:
        from flowgen_runtime.core.redis import redis_connection_kwargs
    except ImportError:
        kwargs = _parse_redis_url(url)
    else:
        kwargs = redis_connection_kwargs(url, for_worker=for_worker)
    # Workers block in BZPOPMIN; producers run admin scripts (clean, retry, obliterate)
    # that may outlast a cache-sized timeout, and bullmq would retry a timed-out script.
    kwargs["socket_timeout"] = None if for_worker else _PRODUCER_TIMEOUT_S
    return kwargs


def _parse_redis_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    kwargs: dict[str, Any]
    if parts.scheme == "unix":
        kwargs = {"unix_socket_path": unquote(parts.path), "db": int(query.get("db", 0))}
    else:
        db = int(query.get("db") or parts.path.strip("/") or 0)
        kwargs = {"host": parts.hostname or "localhost", "port": parts.port or 6379, "db": db}
        if parts.scheme == "rediss":
            kwargs["ssl"] = True
    if parts.username:
        kwargs["username"] = unquote(parts.username)
    if parts.password:
        kwargs["password"] = unquote(parts.password)
    return kwargs
