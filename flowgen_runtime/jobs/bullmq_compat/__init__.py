"""Every use of bullmq's and redis-py's internals, in one place, behind a version check.

bullmq (Python) is used through its public API everywhere else. The speed-ups and fixes
here subclass its ``Worker``, call its Lua scripts directly and write to redis-py's
connection stream (:mod:`.worker`, :mod:`.fastjob`, :mod:`.pipeline`); they are written
against the versions in :data:`TESTED`. The rest of the runtime asks this module, never
the submodules, for them:

* :func:`worker_class` - the patched ``Worker``, or plain ``bullmq.Worker``;
* :func:`autopipeline` - route a queue's scripts through an auto-pipeline, or ``None``.

On an installed version outside :data:`TESTED`, both give the plain public-API path
(correct, slower, with the bullmq bugs :mod:`.worker` lists), and :func:`check` says
why: workers and servers log it as an error at start-up (:func:`warn_if_unsupported`),
``FLOWGEN_STRICT_COMPAT=1`` makes start-up fail instead, and
``tests/runtime_jobs/test_compat.py`` fails, so CI's newest-versions run catches the
drift. ``FLOWGEN_BULLMQ_COMPAT=0`` forces the plain path (to compare, or to rule the
patches out).

Imports only :mod:`flowgen_runtime.core` (nothing, today) and the libraries.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any

import bullmq

log = logging.getLogger("flowgen.jobs")

TESTED: dict[str, tuple[str, ...]] = {
    "bullmq": ("3.4.4",),
    "redis": ("5.", "6.", "7."),  # redis-py: the connection's ``_writer`` stream
}
"""Versions (exact, or a prefix ending in ".") the internals here were written against."""


@dataclass(frozen=True)
class Compat:
    versions: dict[str, str]
    problems: tuple[str, ...]

    @property
    def supported(self) -> bool:
        return not self.problems


@cache
def check() -> Compat:
    """The installed versions and, for each outside :data:`TESTED`, why it is a problem."""
    found = {name: version(name) for name in TESTED}
    problems = tuple(
        f"{name} {found[name]} is not a version flowgen_runtime.jobs.bullmq_compat was "
        f"tested with ({', '.join(v + ('x' if v.endswith('.') else '') for v in TESTED[name])})"
        for name in TESTED
        if not any(
            found[name] == v or (v.endswith(".") and found[name].startswith(v))
            for v in TESTED[name]
        )
    )
    return Compat(found, problems)


def enabled() -> bool:
    """Whether the patched paths are used (tested versions, not switched off)."""
    return check().supported and os.environ.get("FLOWGEN_BULLMQ_COMPAT", "1") != "0"


def warn_if_unsupported() -> None:
    """Say loudly at start-up that the plain path is used, or fail under strict mode."""
    compat = check()
    if compat.supported:
        return
    message = "; ".join(compat.problems) + ": using bullmq's public API only (slower)"
    if os.environ.get("FLOWGEN_STRICT_COMPAT", "") == "1":
        raise RuntimeError(message)
    log.error(message)


def worker_class() -> type[bullmq.Worker]:
    """The ``Worker`` to run: the patched one (:mod:`.worker`) or ``bullmq.Worker``."""
    if not enabled():
        return bullmq.Worker
    from flowgen_runtime.jobs.bullmq_compat.worker import Worker

    return Worker


def autopipeline(owner: Any, **options: Any) -> Any:
    """:func:`.pipeline.autopipeline` on tested versions, else ``None`` (nothing changed)."""
    if not enabled():
        return None
    from flowgen_runtime.jobs.bullmq_compat.pipeline import autopipeline as route

    return route(owner, **options)


async def prepare_worker(worker: bullmq.Worker) -> None:
    """Get ``worker`` ready to run (the patched one learns the Redis version first)."""
    ready = getattr(worker, "prepare", None)
    if ready is not None:
        await ready()
