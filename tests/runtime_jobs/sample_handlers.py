"""Job handlers and queue definitions used by the runtime_jobs tests (resolved by dotted path)."""

from __future__ import annotations

import asyncio
import time

from flowgen_runtime.core import errors
from flowgen_runtime.jobs import Backoff, JobContext, JobDef, JobOptions, QueueDef, Schedule
from pydantic import BaseModel, Field

HERE = __name__  # the dotted module path, however pytest imported this file

# Filled by the handlers, read by the tests: CALLS by "queue/job id".
CALLS: dict[str, list[float]] = {}
TICKS: list[str] = []


class Greeting(BaseModel):
    text: str = Field(min_length=1)
    times: int = 1


class Flaky(BaseModel):
    succeed_on: int


class Sleep(BaseModel):
    seconds: float
    progress: int = 0


class Result(BaseModel):
    slept: float


class Empty(BaseModel):
    pass


class Refusal(BaseModel):
    error: str  # a class name of flowgen_runtime.core.errors


async def greet(payload: Greeting, ctx: JobContext) -> dict:
    ctx.logger.info("greeting")
    return {
        "text": payload.text * payload.times,
        "request_id": ctx.request_id,
        "attempt": ctx.attempt,
    }


async def flaky(payload: Flaky, ctx: JobContext) -> str:
    CALLS.setdefault(f"{ctx.queue}/{ctx.job_id}", []).append(time.monotonic())
    if ctx.attempt < payload.succeed_on:
        raise RuntimeError(f"boom on attempt {ctx.attempt}")
    return f"ok on attempt {ctx.attempt}"


async def sleep(payload: Sleep, ctx: JobContext) -> Result:
    if payload.progress:
        await ctx.progress(payload.progress)
    await asyncio.sleep(payload.seconds)
    return Result(slept=payload.seconds)


async def tick(payload: Empty, ctx: JobContext) -> None:
    TICKS.append(ctx.job_id)


async def refuse(payload: Refusal, ctx: JobContext) -> None:
    """Fail as the service layer does when it refuses a request."""
    CALLS.setdefault(f"{ctx.queue}/{ctx.job_id}", []).append(time.monotonic())
    if payload.error == "UserInputError":
        raise errors.UserInputError([{"path": ["input", "examId"], "message": "no Exam with id 9"}])
    raise getattr(errors, payload.error)(f"refused by {payload.error}")


def queue_def(name: str, **options: JobOptions | Schedule) -> QueueDef:
    """A queue with every sample job; ``options`` maps a job name to JobOptions or Schedule."""

    def job(job_name: str, payload: type[BaseModel], handler: str) -> JobDef:
        extra = options.get(job_name)
        return JobDef(
            name=job_name,
            payload=payload,
            handler=f"{HERE}.{handler}",
            options=extra if isinstance(extra, JobOptions) else JobOptions(),
            schedule=extra if isinstance(extra, Schedule) else None,
        )

    jobs = [
        job("greet", Greeting, "greet"),
        job("flaky", Flaky, "flaky"),
        job("sleep", Sleep, "sleep"),
        job("tick", Empty, "tick"),
        job("refuse", Refusal, "refuse"),
    ]
    return QueueDef(name=name, jobs={j.name: j for j in jobs}, concurrency=2)


RETRYING = JobOptions(attempts=3, backoff=Backoff("fixed", 200))
