"""Job handlers (your code: flowgen created this file once and never rewrites it)."""

from typing import Any

from flowgen_runtime.jobs import JobContext


async def deliver(payload: Any, ctx: JobContext) -> Any:
    """Deliver one message.

    `payload` is a validated `DeliverPayload` (see generated/queues/mail.py); `ctx` carries the
    job id, attempt, logger, a progress reporter and the app's services.
    """
    ctx.logger.info("deliver received %s", payload)
    return None


async def send_digest(payload: Any, ctx: JobContext) -> Any:
    """Handle `send_digest` jobs.

    `payload` is a validated `SendDigestPayload` (see generated/queues/mail.py); `ctx` carries the
    job id, attempt, logger, a progress reporter and the app's services.
    """
    ctx.logger.info("send_digest received %s", payload)
    return None
