"""GraphQL-facing job helpers: enqueue with clear errors (after commit inside a
:func:`~flowgen_runtime.outbox.transaction`), and job status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import Context
from .errors import NotFoundError, UserInputError
from .jobs import PayloadError, QueueDef, job_status, prepare
from .naming import camel
from .outbox import current_outbox


async def enqueue_job(
    ctx: Context,
    queue: QueueDef,
    name: str,
    payload: Mapping[str, Any],
    *,
    job_id: str | None = None,
) -> Any:
    """Validate and enqueue; payload errors come back as ``BAD_USER_INPUT`` naming each field.

    Inside an open :func:`~flowgen_runtime.outbox.transaction` the job is held until that
    transaction commits, and dropped if it rolls back.
    """
    try:
        job = prepare(queue, name, dict(payload), job_id, ctx.request_id)
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
    outbox = current_outbox()
    if outbox is not None:
        return outbox.hold(job)
    return await ctx.jobs.add(job)


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
