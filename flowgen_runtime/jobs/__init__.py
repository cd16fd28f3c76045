"""Background jobs on BullMQ: definitions, enqueueing, workers, status and monitoring.

Generated code describes queues with :mod:`.defs`, producers enqueue through one
:class:`JobQueues` per process, and the worker process runs a :class:`WorkerGroup`::

    queues = JobQueues(redis_url, prefix="bull")
    ref = await queues.enqueue(GRADING, "grade_submission", {"submission_id": 7})
    await job_status(queues, "grading", ref["id"])

    await WorkerGroup([GRADING], redis_url).run()   # in the worker process
"""

from .defs import Backoff, JobDef, JobOptions, QueueDef, RateLimit, Retention, Schedule
from .enqueue import FieldError, JobQueues, JobRef, PayloadError, PreparedJob, prepare
from .monitor import clean, pause, queue_overview, resume, retry_failed
from .status import job_status
from .worker import (
    HandlerImportError,
    JobContext,
    JobTimeoutError,
    UnrecoverableJobError,
    WorkerGroup,
    resolve_handler,
)

__all__ = [
    "Backoff",
    "FieldError",
    "HandlerImportError",
    "JobContext",
    "JobDef",
    "JobOptions",
    "JobQueues",
    "JobRef",
    "JobTimeoutError",
    "PayloadError",
    "PreparedJob",
    "QueueDef",
    "RateLimit",
    "Retention",
    "Schedule",
    "UnrecoverableJobError",
    "WorkerGroup",
    "clean",
    "job_status",
    "pause",
    "prepare",
    "queue_overview",
    "resolve_handler",
    "resume",
    "retry_failed",
]
