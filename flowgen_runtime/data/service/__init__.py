"""The service layer: one :class:`EntityService` per entity, used by resolvers and workers.

Rows are plain dicts (field name -> value): what resolvers read and what the cache stores.
Reads live in :mod:`.service_read`, writes in :mod:`.service_write`; this module adds the
queued writes and the worker-side handler that performs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.auth.access import EVERYONE
from flowgen_runtime.core.errors import UserInputError
from flowgen_runtime.data.context import Context, job_caller
from flowgen_runtime.data.service.base import Row
from flowgen_runtime.data.service.guard import (
    explain_missing,
    restrict,
    rows_rule,
    unreadable_refs,
)
from flowgen_runtime.data.service.read import ReadMixin
from flowgen_runtime.data.service.write import WriteMixin
from pydantic import BaseModel


class EntityService(ReadMixin[Row], WriteMixin[Row]):
    """CRUD for one entity. Generated modules create one, typed by the entity's row:
    ``service: EntityService[ExamRow] = EntityService(META)``.

    >>> await service.connection(ctx, {"where": {"status": {"eq": "published"}}, "first": 10})
    >>> await service.create(ctx, {"title": "Algebra", "questions": {"create": [...]}})
    """

    # -- queued writes -----------------------------------------------------------------

    async def _enqueue(
        self, ctx: Context, op: str, payload: dict[str, Any], key: str | None
    ) -> Any:
        from flowgen_runtime.jobs.api import enqueue_job

        queue = ctx.registry.queues[self.meta.operations[op]]
        # checked now for an early answer; the worker runs the inline mutation as the caller
        return await enqueue_job(
            ctx, queue, f"{self.meta.name}.{op}", payload, job_id=key, grants=EVERYONE
        )

    async def enqueue_create(
        self, ctx: Context, data: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        """Checked now (role, readonly fields, presets from the caller's claims), run later."""
        access = ctx.access(self.meta, "create")
        values = restrict(self.meta, access, dict(data))
        await self._readable_refs(ctx, values)
        return await self._enqueue(ctx, "create", {"input": values}, idempotency_key)

    async def enqueue_update(
        self, ctx: Context, id: Any, data: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        access = await self._reachable(ctx, id, "update")
        values = restrict(self.meta, access, dict(data))
        await self._readable_refs(ctx, values)
        return await self._enqueue(ctx, "update", {"id": str(id), "input": values}, idempotency_key)

    async def enqueue_delete(
        self, ctx: Context, id: Any, *, idempotency_key: str | None = None
    ) -> Any:
        await self._reachable(ctx, id, "delete")
        return await self._enqueue(ctx, "delete", {"id": str(id)}, idempotency_key)

    async def _readable_refs(self, ctx: Context, values: Mapping[str, Any]) -> None:
        """Foreign keys to rows the caller cannot read are refused now (and again later)."""
        async with ctx.db.read() as reader:
            refused = await unreadable_refs(reader, ctx, self.meta, values, ["input"])
        if refused:
            raise UserInputError(refused)

    async def _reachable(self, ctx: Context, id: Any, op: str) -> Any:
        """The caller may ``op`` this row now (the worker checks again, as the caller)."""
        pk = self.parse_id(id)
        access = ctx.access(self.meta, op)
        # a read: on the autocommit reader, which repeats it on a connection found dead
        async with ctx.db.read() as reader:
            stmt = sa.select(self._pk_col).where(
                self._pk_col == pk, rows_rule(ctx, self.meta, access)
            )
            if await reader.scalar(stmt) is None:
                raise await explain_missing(reader, ctx, self.meta, pk, op)
        return access


def entity_job_handler(service: EntityService[Any], op: str) -> Callable[..., Any]:
    """The worker-side handler of a queued mutation: the inline mutation, run later as the
    caller who enqueued it (every row rule, preset, readonly field and nested rule checked
    again); its result, the written row, reads as that caller reads it (hidden fields
    null), since ``jobStatus`` shows it."""

    async def handler(payload: BaseModel, job: Any) -> Any:
        identity, system = job_caller(getattr(job, "caller", None))
        ctx = job.extra["state"].context(
            request_id=job.request_id, identity=identity, system=system
        )
        data = payload.model_dump(mode="json", exclude_unset=True)
        if op == "create":
            row = await service.create(ctx, data["input"], via="queued")
        elif op == "update":
            row = await service.update(ctx, data["id"], data.get("input", {}), via="queued")
        else:
            row = await service.delete(ctx, data["id"], via="queued")
        return {
            k: (str(v) if not isinstance(v, int | float | bool | str | None | dict | list) else v)
            for k, v in row.items()
        }

    handler.__name__ = f"{service.meta.name.lower()}_{op}"
    return handler
