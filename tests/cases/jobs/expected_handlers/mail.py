"""Job handlers (your code: flowgen created this file once and never rewrites it)."""

from typing import Any

from flowgen_runtime import JobContext, app_context  # noqa: F401

from generated.queues.mail import DeliverPayload, SendDigestPayload


async def deliver(payload: DeliverPayload, ctx: JobContext) -> Any:
    """Deliver one message.

    `payload`: the validated payload (generated/queues/mail.py).
    `ctx`: job id, attempt, logger and `await ctx.progress(n)`; `app_context(ctx)` is a
    context for the services, e.g. `await users.get(app_context(ctx), id)` with
    `from generated.services import users`.
    """
    ctx.logger.info("deliver received %s", payload)
    return None


async def send_digest(payload: SendDigestPayload, ctx: JobContext) -> Any:
    """Handle `send_digest` jobs.

    `payload`: the validated payload (generated/queues/mail.py).
    `ctx`: job id, attempt, logger and `await ctx.progress(n)`; `app_context(ctx)` is a
    context for the services, e.g. `await users.get(app_context(ctx), id)` with
    `from generated.services import users`.
    """
    ctx.logger.info("send_digest received %s", payload)
    return None
