"""Job handlers (your code: flowgen created this file once and never rewrites it)."""

from typing import Any

from flowgen_runtime.jobs import JobContext
from flowgen_runtime.jobs.main import app_context  # noqa: F401


async def import_(payload: Any, ctx: JobContext) -> Any:
    """Handle `import` jobs.

    `payload`: a validated `ImportPayload` (generated/queues/class.py).
    `ctx`: job id, attempt, logger and `await ctx.progress(n)`; `app_context(ctx)` gives
    the app's services, e.g. `app_context(ctx).registry.services["User"]`.
    """
    ctx.logger.info("import_ received %s", payload)
    return None
