"""A bullmq ``Job`` from the job hash ``moveToActive``/``moveToFinished`` return, for less.

``Job.fromJSON`` parses four JSON strings (two of them the constant defaults ``"0"`` and
``"[]"`` for a job without progress or stack trace), makes some twenty ``dict.get`` calls
and runs ``Job.__init__``, which checks parent and deduplication options every job must
pass through: about a tenth of a trivial job's time in the worker. :func:`job_from_raw`
sets the same attributes directly for the common job, one whose hash holds only the
fields a job added by ``Queue.add`` and moved to active has (and a retry count), with
options that ``Job.__init__`` only copies. Any other job (a child, a retried job with its
stack trace, a scheduled one ...) goes through ``Job.fromJSON`` itself.

``tests/runtime_jobs/test_fast_paths.py`` checks that both give equal jobs, attribute for
attribute, so a bullmq upgrade that adds one shows up there.
"""

from __future__ import annotations

import json
from typing import Any

import bullmq
from bullmq.backoffs import Backoffs
from bullmq.job import optsFromJSON

__all__ = ["job_from_raw"]

_decode = json.JSONDecoder().decode  # what json.loads uses, without its per-call checks

_PLAIN_FIELDS = frozenset(
    {"name", "data", "opts", "timestamp", "delay", "priority", "processedOn", "ats", "atm",
     "attemptsMade", "stc", "pb"}
)  # fmt: skip
"""Job hash fields :func:`job_from_raw` handles; any other sends the job to ``fromJSON``."""

_PLAIN_OPTIONS = frozenset(
    {"attempts", "backoff", "delay", "priority", "removeOnComplete", "removeOnFail", "jobId",
     "lifo", "timestamp", "stackTraceLimit", "sizeLimit", "keepLogs"}
)  # fmt: skip
"""Job options ``Job.__init__`` only copies (no parent, no deduplication ...)."""


def job_from_raw(queue: Any, raw: dict[str, Any], job_id: str) -> bullmq.Job:
    """``bullmq.Job.fromJSON(queue, raw, job_id)``, faster for the common job."""
    if not raw.keys() <= _PLAIN_FIELDS:
        return bullmq.Job.fromJSON(queue, raw, job_id)
    opts = optsFromJSON(_decode(raw.get("opts", "{}")))
    if not opts.keys() <= _PLAIN_OPTIONS:
        return bullmq.Job.fromJSON(queue, raw, job_id)
    get = opts.get
    job = bullmq.Job.__new__(bullmq.Job)
    job.__dict__.update(
        {
            "name": raw.get("name"),
            "id": job_id,
            "progress": 0,
            "timestamp": int(raw.get("timestamp", "0")),
            "discarded": False,
            "opts": {
                "attempts": 0,
                "delay": 0,
                **opts,
                "backoff": Backoffs.normalize(get("backoff")),
            },
            "queue": queue,
            "delay": int(raw.get("delay", "0")),
            "priority": int(raw.get("priority", "0")),
            "attempts": get("attempts", 1),
            "attemptsMade": int(raw.get("attemptsMade") or raw.get("atm") or "0"),
            "attemptsStarted": int(raw["ats"]) if raw.get("ats") else 0,
            "stalledCounter": int(raw.get("stc") or "0"),
            "data": _decode(raw.get("data", "{}")),
            "removeOnComplete": get("removeOnComplete", True),
            "removeOnFail": get("removeOnFail", False),
            "processedOn": int(raw["processedOn"]) if raw.get("processedOn") else 0,
            "finishedOn": 0,
            "returnvalue": None,
            "deferredFailure": None,
            "failedReason": None,
            "repeatJobKey": None,
            "token": None,
            "parentKey": None,
            "parent": None,
            "stacktrace": [],
            "deduplication_id": None,
            "backend": queue.backend,
            "queueQualifiedName": queue.qualifiedName,
        }
    )
    return job
