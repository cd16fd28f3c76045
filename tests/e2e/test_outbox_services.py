"""Services' writes inside ``outbox.transaction``: rows and jobs commit or roll back together.

In-process on real PostgreSQL and Redis, with the committed example app's services.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from flowgen_runtime.auth.access import Identity
from flowgen_runtime.core.errors import ConflictError, UserInputError
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.data.state import AppState
from flowgen_runtime.jobs.api import enqueue_job
from flowgen_runtime.jobs.outbox import transaction

from generated.queues.user import QUEUE
from generated.registry import REGISTRY

from .harness import JWT_SECRET, drop_keys

ADMIN = Identity("1", frozenset({"admin"}))


class Boom(Exception):
    pass


@pytest.fixture
async def ctx(generated_pg: str, redis_url: str) -> AsyncIterator[Any]:
    prefix = f"ob{uuid.uuid4().hex[:8]}"
    settings = Settings(
        database_url=generated_pg, redis_url=redis_url, cache_prefix=prefix, queue_prefix=prefix,
        jwt_secret=JWT_SECRET,
    )  # fmt: skip
    state = AppState(REGISTRY, settings)
    await state.start()
    yield state.context(identity=ADMIN, request_id="req-outbox")
    await state.jobs.queue(QUEUE.name).obliterate({"force": True})
    await state.stop()
    drop_keys(redis_url, prefix)


def _user() -> dict[str, Any]:
    return {"email": f"{uuid.uuid4().hex[:10]}@x.io", "name": "Ada"}


async def _emails(ctx: Any) -> set[str]:
    """The users' e-mails as the service reads them (through the cache)."""
    page = await REGISTRY.services["User"].connection(ctx, {"first": 100})
    return {n["email"] for n in page["nodes"]}


async def _stored(ctx: Any, email: str) -> bool:
    """Whether the row is in the database (no cache)."""
    async with ctx.db.session() as s:
        found = await s.scalar(sa.text("SELECT count(*) FROM users WHERE email = :e"), {"e": email})
    return bool(found)


async def test_a_rolled_back_block_leaves_neither_the_row_nor_the_job(ctx: Any) -> None:
    users, data = REGISTRY.services["User"], _user()
    before = await _emails(ctx)  # cached now
    with pytest.raises(Boom):
        async with transaction(ctx):
            row = await users.create(ctx, data)
            ref = await enqueue_job(ctx, QUEUE, "send_welcome_email", {"user_id": row["id"]})
            raise Boom
    assert not await _stored(ctx, data["email"])
    assert await _emails(ctx) == before
    assert await ctx.jobs.queue(QUEUE.name).getJob(ref["id"]) is None


async def test_a_committed_block_keeps_both_and_fresh_reads_see_the_row(ctx: Any) -> None:
    users, data = REGISTRY.services["User"], _user()
    assert data["email"] not in await _emails(ctx)  # a cached list, without the new user
    async with transaction(ctx):
        row = await users.create(ctx, data)
        ref = await enqueue_job(ctx, QUEUE, "send_welcome_email", {"user_id": row["id"]})
        assert ref["state"] == "pending"
        # another request reads meanwhile: it sees (and caches) the list without the row
        assert data["email"] not in await asyncio.create_task(_emails(ctx))
    assert await _stored(ctx, data["email"])
    assert data["email"] in await _emails(ctx)  # invalidated after the commit, not before
    job = await ctx.jobs.queue(QUEUE.name).getJob(ref["id"])
    assert job is not None and job.data["user_id"] == int(row["id"])


async def test_a_refused_write_undoes_only_itself(ctx: Any) -> None:
    """A unique violation inside the block rolls back its savepoint: the block goes on."""
    users, first, other = REGISTRY.services["User"], _user(), _user()
    await users.create(ctx, first)
    async with transaction(ctx):
        with pytest.raises((ConflictError, UserInputError)):
            await users.create(ctx, {**_user(), "email": first["email"]})
        kept = await users.update(ctx, (await users.create(ctx, other))["id"], {"name": "Bo"})
    assert kept["name"] == "Bo"
    emails = await _emails(ctx)
    assert first["email"] in emails and other["email"] in emails
