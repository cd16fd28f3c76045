"""Job handlers (your code: flowgen created this file once and never rewrites it)."""

from typing import Any

from flowgen_runtime import JobContext, app_context  # noqa: F401


async def deliver(payload: Any, ctx: JobContext) -> Any:
    """Deliver one message.

    `payload`: a validated `DeliverPayload` (generated/queues/mail.py).
    `ctx`: job id, attempt, logger and `await ctx.progress(n)`; `app_context(ctx)` gives
    the app's services, e.g. `app_context(ctx).registry.services["User"]`.
    """
    ctx.logger.info("deliver received %s", payload)
    return None


async def send_digest(payload: Any, ctx: JobContext) -> Any:
    """Handle `send_digest` jobs.

    `payload`: a validated `SendDigestPayload` (generated/queues/mail.py).
    `ctx`: job id, attempt, logger and `await ctx.progress(n)`; `app_context(ctx)` gives
    the app's services, e.g. `app_context(ctx).registry.services["User"]`.
    """
    ctx.logger.info("send_digest received %s", payload)
    return None
