"""GraphQL-facing job helpers: enqueue with clear errors (after commit inside a
:func:`~flowgen_runtime.jobs.outbox.transaction`), and job status."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from flowgen_runtime.auth.access import Identity, resolve
from flowgen_runtime.core.errors import ConflictError, NotFoundError, UserInputError
from flowgen_runtime.core.naming import camel
from flowgen_runtime.data.context import Context, claims_read
from flowgen_runtime.graphql.schema import python_name
from flowgen_runtime.jobs import PayloadError, QueueDef, job_status, prepare
from flowgen_runtime.jobs.enqueue import MAX_CLIENT_JOB_ID, META_KEY, job_id_problem
from flowgen_runtime.jobs.outbox import current_outbox
from redis.exceptions import RedisError

_DEFAULT: Any = object()


async def enqueue_job(
    ctx: Context,
    queue: QueueDef,
    name: str,
    payload: Mapping[str, Any],
    *,
    job_id: str | None = None,
    grants: Any = _DEFAULT,
) -> Any:
    """Validate and enqueue; payload errors come back as ``BAD_USER_INPUT`` naming each field.

    ``grants`` say who may enqueue (the spec's job ``permissions``; by default any signed-in
    caller). The caller is stored with the job (id, roles, the claims the spec's rules
    read; see :func:`caller_record`): the worker acts as that caller, and ``jobStatus``
    shows a job to the user who enqueued it and to admin roles only. A client's job id (idempotency key) is scoped
    to its user, so two users' keys never meet.

    Inside an open :func:`~flowgen_runtime.jobs.outbox.transaction` the job is held until that
    transaction commits, and dropped if it rolls back.
    """
    if not ctx.system:
        perms = None if grants is _DEFAULT else {"enqueue": grants}
        resolve(perms, "enqueue", ctx.identity, f"{queue.name}.{name}")
    owner = None if ctx.identity is None else ctx.identity.id
    key, argument = job_id, "idempotencyKey" if "." in name else "jobId"
    if job_id is not None:
        _check_client_job_id(job_id, argument, owner)
        if owner is not None:
            job_id = f"u{owner}-{job_id}"
    try:
        job = prepare(
            queue, name, dict(payload), job_id, ctx.request_id, owner=owner,
            caller=caller_record(ctx),
        )  # fmt: skip
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
        if key is not None:  # checked now, while the request can still be refused
            with contextlib.suppress(RedisError, OSError):  # Redis away: the outbox keeps it
                await _same_job_or_conflict(ctx, job, argument, key)
        return outbox.hold(job)
    ref = await ctx.jobs.add(job)
    if key is not None:  # after the add: whichever request's job Redis kept is compared
        await _same_job_or_conflict(ctx, job, argument, key)
    return ref


def caller_record(ctx: Context) -> dict[str, Any] | None:
    """Who a job enqueued from ``ctx`` acts as: the caller's id, roles and the claims the
    spec's rules and presets read; ``{"system": true}`` (plus the identity, for logs)
    from a system context; ``None`` for an anonymous caller."""
    identity = ctx.identity
    record = None
    if isinstance(identity, Identity):
        record = identity.record(claims_read(ctx.registry))
    elif identity is not None:  # an identity-like object of user code: its id and roles
        roles = sorted(str(r) for r in getattr(identity, "roles", ()))
        record = {"id": str(identity.id), "roles": roles, "claims": {}}
    if ctx.system:
        return {"system": True, **(record or {})}
    return record


async def _same_job_or_conflict(ctx: Context, job: Any, argument: str, key: str) -> None:
    """CONFLICT if the job Redis holds under this key is another job or has another input:
    a key names one request, retried (as Stripe's idempotency keys do). The add just made
    enqueued nothing new then; without this the client would follow the other job."""
    stored = await ctx.jobs.stored(job.queue, str(job.job_id))
    if stored is None:
        return
    name, data = stored
    ours = json.loads(json.dumps(job.data))  # as Redis holds it (tuples are lists...)
    if name == job.name and _without_meta(data) == _without_meta(ours):
        return
    what = "input" if name == job.name else f"job ({name})"
    raise ConflictError(
        f"{argument} {key!r} was already used for a different {what}; "
        "use a new key for a new request"
    )


def _without_meta(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != META_KEY}


def _check_client_job_id(job_id: str, argument: str, owner: str | None) -> None:
    """BAD_USER_INPUT naming the argument for a key BullMQ (or Node's tooling) refuses."""
    problem = job_id_problem(job_id, digits_ok=owner is not None)  # owner: prefixed "u<id>-"
    if problem is None and len(job_id) > MAX_CLIENT_JOB_ID:
        problem = f"must be at most {MAX_CLIENT_JOB_ID} characters"
    if problem is not None:
        raise UserInputError([{"path": [argument], "message": problem}])


async def job_status_for(ctx: Context, queue: str, job_id: str) -> Any:
    if queue not in ctx.registry.queues:
        raise NotFoundError(f"unknown queue {queue!r}")
    status = await job_status(ctx.jobs, queue, job_id)
    if status is None or not _may_see(ctx, status.get("owner")):
        return None  # someone else's job looks exactly like a missing one
    # the schema is built with convert_names_case: resolvers read snake_case keys
    return {python_name(k): v for k, v in status.items()}


def _may_see(ctx: Context, owner: Any) -> bool:
    return ctx.system or may_see_job(ctx.settings, ctx.identity, owner)


def is_admin(settings: Any, identity: Any) -> bool:
    admins = {r.strip() for r in settings.admin_roles.split(",") if r.strip()}
    return identity is not None and bool(identity.roles & admins)


def may_see_job(settings: Any, identity: Any, owner: Any) -> bool:
    """A job is visible to the user who enqueued it and to admin roles."""
    if identity is None:
        return False
    return is_admin(settings, identity) or owner == identity.id
