"""bullmq's ``Worker`` with three fixes and two speed-ups, kept apart so they are easy to drop.

All measured with bullmq 3.4.4 (Python) on Redis 7.0; see ``tests/runtime_jobs``.

* Sub-second delays: ``Worker.waitForJob`` rounds its ``BZPOPMIN`` timeout up to
  whole seconds unless the blocking connection's ``capabilities`` say Redis takes
  fractional timeouts (Redis >= 6), and only ``RedisConnection.getRedisVersion()``
  fills those in, which the worker never calls for that connection. A delay of
  1500 ms ran after 2.0 s, 300 ms after 1.1 s. :meth:`Worker.prepare` calls it;
  then they ran after ~1.55 s and ~0.35 s.
* Shutdown race: ``Worker.close()`` cancels the blocking wait only if one is under
  way at that moment. A fetch that is between Redis calls then starts a fresh
  ``BZPOPMIN`` after close() began, so stopping took 5 s more (drainDelay), or it
  takes a job while closing (a delayed job due during the shutdown ran). Each was
  seen once in about 20 runs of the tests. This Worker starts no blocking wait and
  takes no job once closing.
* Rate limit: when the ``limiter`` is full, the move-to-active script returns how
  many ms the limit lasts and bullmq stores it (``limitUntil``) but never waits on
  it: it blocks for drainDelay instead. With ``RateLimit(max=2, duration_ms=600)``
  the third job started 5.0 s after the first; with this Worker, 0.6 s.

Speed-ups (``bench/jobs_bench.py``; see ``docs/benchmarks.md``):

* Fetch next: python bullmq completes a job with ``moveToFinished`` and *then* asks for
  the next one with ``moveToActive``: two round trips per job. That script can hand back
  the next job itself (its ``fetchNext`` argument, what Node BullMQ uses); this Worker asks
  for it unless it is closing or paused, and processes it in the same task (no task per
  job). A job fetched as close() began is still processed by that task, which close()
  waits for.
* Script calls are pipelined (:mod:`._pipeline`): one round trip carries the
  ``moveToFinished``/``moveToActive`` calls of every job that finished in the meantime.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import bullmq
import msgpack
from bullmq.custom_errors import DelayedError, WaitingChildrenError
from flowgen_runtime.jobs.bullmq_compat.fastjob import job_from_raw
from flowgen_runtime.jobs.bullmq_compat.pipeline import AutoPipeline, autopipeline


class Worker(bullmq.Worker):
    """A ``bullmq.Worker``; call :meth:`prepare` before ``run()``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pipeline: AutoPipeline | None = autopipeline(self)
        self.fetched_next = 0
        self._completed_keys: tuple[list[str], str, str, str] | None = None
        """Jobs received from ``moveToFinished`` (fetch next) instead of ``moveToActive``."""

    async def prepare(self) -> None:
        """Learn the Redis version, so that delays are not rounded up to whole seconds."""
        await self.blockingRedisConnection.getRedisVersion()

    async def waitForJob(self) -> int:
        if self.closing:
            # Raise what close() would have raised into a wait it could see.
            raise asyncio.CancelledError
        return int(await super().waitForJob())

    async def moveToActive(self, token: str) -> bullmq.Job | None:
        # A wait that timed out just as close() ran would otherwise take a due job.
        return None if self.closing else await super().moveToActive(token)

    async def nextJobFromJobData(
        self,
        job_data: dict[str, Any] | None = None,
        job_id: str | None = None,
        limit_until: int = 0,
        delay_until: int = 0,
        token: str | None = None,
    ) -> bullmq.Job | None:
        if not job_data or job_id is None or job_data.get("rjk"):  # bullmq's own way
            return await super().nextJobFromJobData(
                job_data, job_id, limit_until, delay_until, token
            )
        # bullmq's, with the job built by job_from_raw (no job scheduler to advance)
        self.limitUntil = max(limit_until, 0) or 0
        if delay_until:
            self.blockUntil = max(int(delay_until), 0) or 0
        self.drained = False
        job = job_from_raw(self, job_data, job_id)
        job.token = token
        return job

    def getBlockTimeout(self, block_until: int) -> float:
        timeout = float(super().getBlockTimeout(block_until))
        if self.limitUntil > 0:  # rate limited: wait for the limit to end, not drainDelay
            timeout = max(min(timeout, self.limitUntil / 1000), self.minimumBlockTimeout)
        return timeout

    async def processJob(self, job: bullmq.Job, token: str) -> None:
        """Process ``job``, then each job ``moveToFinished`` hands back, in this same task.

        No new task per job, and ``run()`` sees this slot free only when no next job came
        (queue empty, rate limited, or the worker closing or paused: then none is asked
        for). A job fetched just before close() is still processed here, and close()
        waits for this task.
        """
        following = await self._process_and_fetch(job, token)
        while following is not None and not self.forceClosing:
            following = await self._process_and_fetch(following, token)

    async def _process_and_fetch(self, job: bullmq.Job, token: str) -> bullmq.Job | None:
        for option in ("removeOnComplete", "removeOnFail"):
            if option not in job.opts and option in self.opts:
                job.opts[option] = self.opts[option]
        entry = (job, token)
        self.jobs.add(entry)
        self.lockManager.track_job(job.id, token, int(time.time() * 1000))
        try:
            if job.deferredFailure:
                reason = bullmq.UnrecoverableError(job.deferredFailure)
                await job.moveToFailed(reason, token)
                self.emit("failed", job, reason)
                return None
            result = await self.processor(job, token)
            following = None
            if not self.forceClosing:
                fetched = await self._complete(
                    job, result, token, fetch_next=not (self.closing or self.paused)
                )
                job.returnvalue = result
                job.attemptsMade += 1
                following = await self._next_from(fetched, token)
            self.emit("completed", job, result)
            return following
        except (DelayedError, WaitingChildrenError):
            return None
        except Exception as err:
            try:
                if not self.forceClosing:
                    await job.moveToFailed(err, token)
                self.emit("failed", job, err)
            except Exception as error:
                self.emit("error", error, job)
            return None
        finally:
            self.jobs.discard(entry)
            self.lockManager.untrack_job(job.id)

    async def _complete(self, job: bullmq.Job, result: Any, token: str, fetch_next: bool) -> Any:
        """``moveToFinished`` to completed: bullmq's script with bullmq's arguments.

        ``Scripts.moveToCompletedArgs`` rebuilds the eleven queue keys and two nested
        helpers on every call (a tenth of a trivial job's time); here the keys are built once
        per worker. ``tests/runtime_jobs/test_fast_paths.py`` checks that the keys and
        arguments equal bullmq's own for every retention form.
        """
        return await self.scripts.moveToFinished(
            job.id, *self.completed_args(job, result, token, fetch_next)
        )

    def completed_args(
        self, job: bullmq.Job, result: Any, token: str, fetch_next: bool
    ) -> tuple[list[Any], list[Any]]:
        """The keys and arguments of ``moveToFinished`` completing ``job`` with ``result``."""
        if self._completed_keys is None:
            scripts = self.scripts
            self._completed_keys = (
                scripts.getKeys(_FINISH_KEYS + ["completed"]),
                scripts.toKey("metrics:completed"),
                scripts.keys["marker"],
                scripts.keys[""],
            )
        queue_keys, metrics_key, marker_key, prefix = self._completed_keys
        keys = [*queue_keys, self.scripts.toKey(job.id), metrics_key, marker_key]
        opts, job_opts = self.opts, job.opts
        metrics = opts.get("metrics")
        packed = msgpack.packb(
            {
                "token": token,
                "keepJobs": _keep_jobs(job_opts.get("removeOnComplete", False)),
                "limiter": opts.get("limiter"),
                "lockDuration": opts.get("lockDuration"),
                "attempts": job.attempts,
                "attemptsMade": job.attemptsMade,
                "maxMetricsSize": metrics.get("maxDataPoints", "") if metrics is not None else "",
                "fpof": job_opts.get("failParentOnFailure", False),
                "cpof": job_opts.get("continueParentOnFailure", False),
                "idof": job_opts.get("ignoreDependencyOnFailure", False),
                "rdof": job_opts.get("removeDependencyOnFailure", False),
            },
            use_bin_type=True,
        )
        value = _encode(result)
        args = [job.id, round(time.time() * 1000), "returnvalue", value or "", "completed",
                "1" if fetch_next else "", prefix, packed]  # fmt: skip
        return keys, args

    async def _next_from(self, fetched: Any, token: str) -> bullmq.Job | None:
        """The job ``moveToFinished`` moved to active for us, as ``getNextJob`` returns it."""
        if not fetched:
            return None
        job_data, job_id, limit_until, delay_until = fetched
        following = await self.nextJobFromJobData(
            job_data, job_id, limit_until or 0, delay_until or 0, token
        )
        if following is not None:
            self.fetched_next += 1
            self.emit("active", following, "waiting")
        return following

    async def close(self, force: bool = False) -> None:
        await super().close(force)
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            await pipeline.aclose()


_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
"""bullmq's ``json.dumps(val, separators=(",", ":"), allow_nan=False)``, the encoder made once."""

# moveToFinished's KEYS before the target set (bullmq 3.4.4, Scripts.moveToFinishedArgs)
_FINISH_KEYS = ["wait", "active", "prioritized", "events", "stalled", "limiter", "delayed",
                "paused", "meta", "pc"]  # fmt: skip


def _keep_jobs(remove: Any) -> dict[str, Any]:
    """A job's ``removeOnComplete`` as the script's ``keepJobs`` (as bullmq converts it)."""
    if type(remove) is int:  # a bool is not a count
        return {"count": remove}
    if type(remove) is dict:
        return remove
    return {"count": 0} if remove else {"count": -1}
