"""Background jobs on BullMQ: definitions, enqueueing, workers, status and monitoring.

Generated code describes queues with :mod:`.defs`, producers enqueue through one
:class:`JobQueues` per process, and the worker process runs a :class:`WorkerGroup`::

    queues = JobQueues(redis_url, prefix="bull")
    ref = await queues.enqueue(GRADING, "grade_submission", {"submission_id": 7})
    await job_status(queues, "grading", ref["id"])

    await WorkerGroup([GRADING], redis_url).run()   # in the worker process

The engine (:mod:`.defs`, :mod:`.enqueue`, :mod:`.status`, :mod:`.monitor`,
:mod:`.runner`, :mod:`.heartbeat`, :mod:`.bullmq_compat`) imports only
:mod:`flowgen_runtime.core`. :mod:`.outbox` and :mod:`.outbox_store` (enqueue after
commit, the durable outbox) add the database. The entry points and faces - :mod:`.main`
(``gen worker``), :mod:`.api` (GraphQL helpers), :mod:`.http` (job events and the
monitor API), :mod:`.monitor_cli` (``gen monitor``) - may import every other folder.
"""

from flowgen_runtime.jobs.defs import (
    Backoff,
    JobDef,
    JobOptions,
    QueueDef,
    RateLimit,
    Retention,
    Schedule,
)
from flowgen_runtime.jobs.enqueue import (
    FieldError,
    JobQueues,
    JobRef,
    PayloadError,
    PreparedJob,
    prepare,
)
from flowgen_runtime.jobs.monitor import clean, pause, queue_overview, resume, retry_failed
from flowgen_runtime.jobs.runner import (
    HandlerImportError,
    JobContext,
    JobTimeoutError,
    UnrecoverableJobError,
    WorkerGroup,
    resolve_handler,
)
from flowgen_runtime.jobs.status import job_status

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
