"""GraphQL-facing job helpers: enqueue with clear errors, and job status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import Context
from .errors import NotFoundError, UserInputError
from .jobs import PayloadError, QueueDef, job_status
from .naming import camel


async def enqueue_job(
    ctx: Context,
    queue: QueueDef,
    name: str,
    payload: Mapping[str, Any],
    *,
    job_id: str | None = None,
) -> Any:
    """Validate and enqueue; payload errors come back as ``BAD_USER_INPUT`` naming each field."""
    try:
        return await ctx.jobs.enqueue(
            queue, name, dict(payload), job_id=job_id, request_id=ctx.request_id
        )
    except PayloadError as exc:
        # entity jobs wrap the mutation input as {"input": ...}; user jobs take it bare
        prefix: list[str | int] = [] if "." in name else ["input"]
        errors = [
            {
                "path": [*prefix, *(camel(p) if isinstance(p, str) else p for p in e["path"])],
                "message": e["message"],
            }
            for e in exc.errors
        ]
        raise UserInputError(errors) from None


async def job_status_for(ctx: Context, queue: str, job_id: str) -> Any:
    if queue not in ctx.registry.queues:
        raise NotFoundError(f"unknown queue {queue!r}")
    status = await job_status(ctx.jobs, queue, job_id)
    if status is None:
        return None
    # the schema is built with convert_names_case: resolvers read snake_case keys
    return {_snake(k): v for k, v in status.items()}


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)
