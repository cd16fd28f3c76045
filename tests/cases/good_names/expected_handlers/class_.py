"""Job handlers (your code: flowgen created this file once and never rewrites it)."""

from typing import Any

from flowgen_runtime import JobContext, app_context  # noqa: F401

from generated.queues.class_ import ImportPayload


async def import_(payload: ImportPayload, ctx: JobContext) -> Any:
    """Handle `import` jobs.

    `payload`: the validated payload (generated/queues/class_.py).
    `ctx`: job id, attempt, logger and `await ctx.progress(n)`; `app_context(ctx)` is a
    context for the services, e.g. `await users.get(app_context(ctx), id)` with
    `from generated.services import users`.
    """
    ctx.logger.info("import_ received %s", payload)
    return None
