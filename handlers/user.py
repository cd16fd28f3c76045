"""Account jobs: welcome e-mail, bulk import, nightly clean-up."""

from __future__ import annotations

from typing import Any

from flowgen_runtime import (
    ForbiddenError,
    JobContext,
    UnrecoverableJobError,
    UserInputError,
    app_context,
)


async def send_welcome_email(payload: Any, ctx: JobContext) -> Any:
    """'Send' the welcome e-mail: the example logs it instead of talking to an SMTP server.

    A caller may send it to itself, or to a user whose e-mail it may read (an admin). The
    address is read as the system only after that check, and never returned: the result
    is shown by ``jobStatus``.
    """
    app = app_context(ctx)
    users = app.registry.services["User"]
    user = await users.get(app, payload.user_id)  # as the caller
    if user is None:
        raise UnrecoverableJobError(f"user {payload.user_id} does not exist")
    own = app.identity is not None and app.identity.id == str(user["id"])
    if user["email"] is None and not own:
        raise ForbiddenError("you may only send the welcome e-mail to yourself")
    if user["email"] is None:
        user = await users.get(app.as_system("welcome e-mail to the caller itself"), user["id"])
        assert user is not None
    ctx.logger.info("welcome e-mail to user %s", user["id"])
    return {"sent": True, "user_id": user["id"]}


async def bulk_import(payload: Any, ctx: JobContext) -> Any:
    """Create users from ``rows`` ([{email, name}]); rows that fail are reported, not fatal."""
    app = app_context(ctx)
    users = app.registry.services["User"]
    rows = payload.rows if isinstance(payload.rows, list) else []
    created, failed = 0, []
    for i, row in enumerate(rows):
        try:
            await users.create(app, {**row, "role": payload.role})
            created += 1
        except UserInputError as exc:
            failed.append({"row": i, "error": exc.message})
        await ctx.progress(int(100 * (i + 1) / max(len(rows), 1)))
    return {"created": created, "failed": failed}


async def cleanup_unverified(payload: Any, ctx: JobContext) -> Any:
    """Nightly clean-up hook (the example has no unverified accounts to remove)."""
    ctx.logger.info("cleanup_unverified ran")
    return {"removed": 0}
