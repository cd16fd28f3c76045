"""Handlers of the jobs end-to-end app: a slow job reporting progress, a failing job."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from flowgen_runtime.jobs import JobContext


async def slow(payload: Any, ctx: JobContext) -> Any:
    """Sleep ``steps`` x ``step_ms``, reporting progress after each step; return the pid."""
    for step in range(1, payload.steps + 1):
        await asyncio.sleep(payload.step_ms / 1000)
        await ctx.progress(step * 100 // payload.steps)
    return {"pid": os.getpid(), "steps": payload.steps}


async def fail(payload: Any, ctx: JobContext) -> Any:
    """Always fail with ``reason``."""
    raise RuntimeError(payload.reason)


async def noop(payload: Any, ctx: JobContext) -> Any:
    """Nothing: the trivial job of bench/jobs_bench.py."""
    return {"n": payload.n}
