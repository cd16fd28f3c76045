"""Plain, frozen definitions of queues and jobs, instantiated by generated code.

A generated ``queues.py`` describes every queue of the spec with these classes
and hands them to :class:`~flowgen_runtime.jobs.JobQueues` (producers) and
:class:`~flowgen_runtime.jobs.WorkerGroup` (workers)::

    class GradeSubmission(BaseModel):
        submission_id: int

    GRADING = QueueDef(
        name="grading",
        concurrency=4,
        jobs={
            "grade_submission": JobDef(
                name="grade_submission",
                payload=GradeSubmission,
                handler="handlers.exam.grade_submission",
                options=JobOptions(attempts=3, backoff=Backoff("exponential", 1000)),
            ),
        },
    )

The classes check their own values, so a bad definition fails at import time
rather than when the first job runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic

__all__ = ["Backoff", "JobDef", "JobOptions", "QueueDef", "RateLimit", "Retention", "Schedule"]

MAX_PRIORITY = 2_097_152  # BullMQ's lowest priority; 1 is the highest, 0 means "no priority".


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True)
class Backoff:
    """Wait between retries: ``delay_ms`` (fixed), ``delay_ms * 2**(n-1)`` (exponential), or
    ``delays_ms[n-1]`` (custom: one delay per retry, the last one repeating).

    >>> Backoff("exponential", 1000).to_bullmq()
    {'type': 'exponential', 'delay': 1000}
    >>> Backoff("custom", delays_ms=(1000, 5000)).delay_for(3)
    5000

    A custom backoff is stored in BullMQ as ``{"type": "custom"}`` (Node tooling shows it
    as a custom strategy); the worker computes the delay from this definition.
    """

    type: Literal["fixed", "exponential", "custom"]
    delay_ms: int = 0
    delays_ms: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in ("fixed", "exponential", "custom"):
            raise ValueError(
                f"backoff type must be 'fixed', 'exponential' or 'custom', not {self.type!r}"
            )
        _check(self.delay_ms >= 0, "backoff delay_ms must be >= 0")
        _check(
            (self.type == "custom") == bool(self.delays_ms),
            "backoff delays_ms is required with type 'custom' and allowed only there",
        )
        _check(all(d >= 0 for d in self.delays_ms), "backoff delays_ms must be >= 0")

    def to_bullmq(self) -> dict[str, Any]:
        if self.type == "custom":
            return {"type": "custom"}
        return {"type": self.type, "delay": self.delay_ms}

    def delay_for(self, attempts_made: int) -> int:
        """Milliseconds to wait after the ``attempts_made``-th failed attempt (1-based)."""
        if self.type == "custom":
            return self.delays_ms[min(max(attempts_made, 1), len(self.delays_ms)) - 1]
        if self.type == "fixed":
            return self.delay_ms
        return int(round(2 ** (attempts_made - 1) * self.delay_ms))


@dataclass(frozen=True)
class Retention:
    """How many finished jobs to keep: the last ``count`` and/or those younger than ``age_s``.

    ``Retention(count=0)`` removes a job as soon as it finishes (BullMQ ``true``);
    ``Retention()`` keeps every job (BullMQ ``false``).

    >>> Retention(count=100, age_s=3600).to_bullmq()
    {'count': 100, 'age': 3600}
    >>> Retention(count=0).to_bullmq()
    True
    """

    count: int | None = None
    age_s: int | None = None

    def __post_init__(self) -> None:
        _check(self.count is None or self.count >= 0, "retention count must be >= 0")
        _check(self.age_s is None or self.age_s > 0, "retention age_s must be > 0")

    def to_bullmq(self) -> bool | dict[str, int]:
        if self.count == 0:
            return True
        keep = {"count": self.count, "age": self.age_s}
        return {key: value for key, value in keep.items() if value is not None} or False


@dataclass(frozen=True)
class RateLimit:
    """At most ``max`` jobs of the queue start per ``duration_ms``, across all workers."""

    max: int
    duration_ms: int

    def __post_init__(self) -> None:
        _check(self.max > 0 and self.duration_ms > 0, "rate limit max and duration_ms must be > 0")

    def to_bullmq(self) -> dict[str, int]:
        return {"max": self.max, "duration": self.duration_ms}


@dataclass(frozen=True)
class Schedule:
    """A recurring job: a cron ``"0 3 * * *"`` (UTC; six fields = seconds first) or ``every_ms``.

    >>> Schedule(every_ms=60_000).to_bullmq()
    {'every': 60000}
    """

    cron: str | None = None
    every_ms: int | None = None

    def __post_init__(self) -> None:
        _check((self.cron is None) != (self.every_ms is None), "give exactly one of cron, every_ms")
        _check(self.every_ms is None or self.every_ms > 0, "schedule every_ms must be > 0")

    def to_bullmq(self) -> dict[str, Any]:
        return {"pattern": self.cron} if self.cron is not None else {"every": self.every_ms}


@dataclass(frozen=True)
class JobOptions:
    """How a job is run: attempts, retry backoff, delay, priority, timeout and retention.

    >>> JobOptions(attempts=3, backoff=Backoff("fixed", 500), priority=2).to_bullmq()
    {'attempts': 3, 'backoff': {'type': 'fixed', 'delay': 500}, 'priority': 2}

    ``timeout_ms`` is enforced by the worker, not stored in BullMQ.
    """

    attempts: int = 1
    backoff: Backoff | None = None
    delay_ms: int = 0
    priority: int = 0
    timeout_ms: int | None = None
    remove_on_complete: Retention | None = None
    remove_on_fail: Retention | None = None

    def __post_init__(self) -> None:
        _check(self.attempts >= 1, "attempts must be >= 1")
        _check(self.delay_ms >= 0, "delay_ms must be >= 0")
        _check(0 <= self.priority <= MAX_PRIORITY, f"priority must be in 0..{MAX_PRIORITY}")
        _check(self.timeout_ms is None or self.timeout_ms > 0, "timeout_ms must be > 0")

    def to_bullmq(self) -> dict[str, Any]:
        """BullMQ job options (``Queue.add`` opts); defaults are left out."""
        opts: dict[str, Any] = {"attempts": self.attempts}
        if self.backoff is not None:
            opts["backoff"] = self.backoff.to_bullmq()
        if self.delay_ms:
            opts["delay"] = self.delay_ms
        if self.priority:
            opts["priority"] = self.priority
        if self.remove_on_complete is not None:
            opts["removeOnComplete"] = self.remove_on_complete.to_bullmq()
        if self.remove_on_fail is not None:
            opts["removeOnFail"] = self.remove_on_fail.to_bullmq()
        return opts


@dataclass(frozen=True)
class JobDef:
    """One kind of job: its name, payload model, handler and options.

    ``handler`` is the dotted path of an async function ``(payload, ctx) -> result``
    in user code, or ``""`` when the worker is given the function directly.
    """

    name: str
    payload: type[pydantic.BaseModel]
    handler: str
    options: JobOptions = JobOptions()
    schedule: Schedule | None = None

    def __post_init__(self) -> None:
        _check(bool(self.name), "job name must not be empty")
        _check(
            isinstance(self.payload, type) and issubclass(self.payload, pydantic.BaseModel),
            f"job {self.name!r}: payload must be a pydantic model class",
        )


@dataclass(frozen=True)
class QueueDef:
    """A BullMQ queue and the jobs it carries, keyed by job name."""

    name: str
    jobs: Mapping[str, JobDef] = field(default_factory=dict)
    concurrency: int = 1
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        _check(bool(self.name) and ":" not in self.name, f"bad queue name {self.name!r}")
        _check(self.concurrency >= 1, f"queue {self.name!r}: concurrency must be >= 1")
        for key, job in self.jobs.items():
            _check(key == job.name, f"queue {self.name!r}: job {job.name!r} is keyed as {key!r}")

    def retry_delay(self, job_name: str, attempts_made: int) -> int:
        """Milliseconds before retrying ``job_name`` after ``attempts_made`` failed attempts.

        >>> GRADING.retry_delay("grade_submission", 2)   # Backoff("exponential", 1000)
        2000
        """
        job = self.jobs.get(job_name)
        backoff = job.options.backoff if job is not None else None
        return 0 if backoff is None else backoff.delay_for(attempts_made)

    def job(self, name: str) -> JobDef:
        """The job called ``name``; ``KeyError`` naming the queue's jobs if there is none."""
        try:
            return self.jobs[name]
        except KeyError:
            known = ", ".join(sorted(self.jobs)) or "none"
            raise KeyError(f"queue {self.name!r} has no job {name!r} (jobs: {known})") from None
