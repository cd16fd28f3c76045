"""The service layer: CRUD for one entity, used by resolvers and by workers alike.

Rows are returned as plain dicts (field name -> value), which is what resolvers read and
what the cache stores. Every write commits, then invalidates the entity's cached reads.
"""

from __future__ import annotations

import builtins
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from .context import Context
from .db import is_check_violation, is_fk_violation, is_unique_violation, violated_constraint
from .errors import ConflictError, NotFoundError, UserInputError, from_validation
from .meta import EntityMeta
from .naming import camel


class EntityService:
    """CRUD for one entity. Generated modules create one: ``service = EntityService(META)``."""

    def __init__(self, meta: EntityMeta) -> None:
        self.meta = meta
        self._columns = [meta.table.c[f] for f in meta.fields]
        self._pk_col = meta.table.c[meta.pk]

    # -- helpers -----------------------------------------------------------------------

    def parse_id(self, raw: Any, path: str = "id") -> Any:
        """Client id (GraphQL ``ID`` is a string) -> int or UUID; a clear error otherwise."""
        try:
            if self.meta.pk_type == "uuid":
                return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        except (TypeError, ValueError):
            kind = "a UUID" if self.meta.pk_type == "uuid" else "an integer"
            raise UserInputError([{"path": [path], "message": f"must be {kind} id"}]) from None

    def _row(self, mapping: Mapping[str, Any]) -> dict[str, Any]:
        return {f: mapping[f] for f in self.meta.fields}

    def _select(self) -> sa.Select[Any]:
        return sa.select(*self._columns)

    def _page(self, ctx: Context, limit: int | None, offset: int | None) -> tuple[int, int]:
        reg = ctx.registry
        if limit is None:
            limit = reg.default_page_size
        errors = []
        if limit < 0 or limit > reg.max_page_size:
            errors.append(
                {"path": ["limit"], "message": f"must be between 0 and {reg.max_page_size}"}
            )
        if offset is not None and offset < 0:
            errors.append({"path": ["offset"], "message": "must not be negative"})
        if errors:
            raise UserInputError(errors)
        return limit, offset or 0

    def _validate(self, model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return model.model_validate(dict(data)).model_dump(exclude_unset=True)
        except ValidationError as exc:
            raise from_validation(exc) from None

    async def _missing_refs(
        self, ctx: Context, values: Mapping[str, Any]
    ) -> builtins.list[dict[str, Any]]:
        """Which foreign keys in ``values`` point at no row (drivers do not always say)."""
        errors = []
        for rel in self.meta.relations.values():
            if rel.kind != "belongs_to" or values.get(rel.fk) is None:
                continue
            target = ctx.registry.services[rel.target]
            async with ctx.db.session() as s:
                found = await s.scalar(
                    sa.select(target._pk_col).where(target._pk_col == values[rel.fk])
                )
            if found is None:
                errors.append(
                    {
                        "path": ["input", camel(rel.fk)],
                        "message": f"no {rel.target} with id {values[rel.fk]}",
                    }
                )
        return errors

    async def _write_error(
        self, ctx: Context, exc: IntegrityError, values: Mapping[str, Any]
    ) -> Exception:
        if is_fk_violation(exc):
            missing = await self._missing_refs(ctx, values)
            if missing:
                return UserInputError(missing)
        return self._integrity(exc)

    def _integrity(self, exc: IntegrityError) -> Exception:
        name = violated_constraint(exc) or ""
        if is_unique_violation(exc):
            fields = self.meta.unique_constraints.get(name)
            if fields is None:  # SQLite names columns: "users.email"
                col = name.split(".")[-1]
                fields = next(
                    (f for f in self.meta.unique_constraints.values() if col in f), (col,)
                )
            return UserInputError(
                [
                    {
                        "path": ["input", camel(f)],
                        "message": f"another {self.meta.name} already has this value",
                    }
                    for f in fields
                ]
            )
        if is_fk_violation(exc):
            return UserInputError(
                [{"path": ["input"], "message": "refers to a row that does not exist"}]
            )
        if is_check_violation(exc):
            return UserInputError([{"path": ["input"], "message": f"violates constraint {name}"}])
        return UserInputError([{"path": ["input"], "message": "violates a database constraint"}])

    async def _invalidate(self, ctx: Context) -> None:
        await ctx.cache.invalidate(self.meta.name)

    # -- reads -------------------------------------------------------------------------

    async def get(self, ctx: Context, id: Any) -> dict[str, Any] | None:
        pk = self.parse_id(id)

        async def load() -> dict[str, Any] | None:
            async with ctx.db.read_session() as s:
                row = (await s.execute(self._select().where(self._pk_col == pk))).mappings().first()
            return self._row(row) if row else None

        return await ctx.cache.get_or_load(
            self.meta.name, self.meta.cache_ttl, ("get", str(pk), ctx.scope), load
        )

    async def list(
        self, ctx: Context, *, limit: int | None = None, offset: int | None = None
    ) -> builtins.list[dict[str, Any]]:
        lim, off = self._page(ctx, limit, offset)

        async def load() -> builtins.list[dict[str, Any]]:
            stmt = self._select().order_by(self._pk_col).limit(lim).offset(off)
            async with ctx.db.read_session() as s:
                rows = (await s.execute(stmt)).mappings().all()
            return [self._row(r) for r in rows]

        return await ctx.cache.get_or_load(
            self.meta.name, self.meta.cache_ttl, ("list", lim, off, ctx.scope), load
        )

    async def load(self, ctx: Context, id: Any) -> dict[str, Any] | None:
        """Batched lookup by primary key (one query per request for all ``load`` calls)."""
        if id is None:
            return None

        async def batch(keys: builtins.list[Any]) -> builtins.list[Any]:
            async with ctx.db.read_session() as s:
                rows = (
                    (await s.execute(self._select().where(self._pk_col.in_(keys)))).mappings().all()
                )
            found = {str(r[self.meta.pk]): self._row(r) for r in rows}
            return [found.get(str(k)) for k in keys]

        return await ctx.loader(("pk", self.meta.name), batch).load(self.parse_id(id))

    async def load_children(
        self,
        ctx: Context,
        fk: str,
        parent: Any,
        *,
        limit: int | None = None,
        offset: int | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Batched has-many: rows whose ``fk`` equals ``parent``, one query per request."""
        lim, off = self._page(ctx, limit, offset)
        col = self.meta.table.c[fk]

        async def batch(keys: builtins.list[Any]) -> builtins.list[Any]:
            stmt = self._select().where(col.in_(keys)).order_by(col, self._pk_col)
            async with ctx.db.read_session() as s:
                rows = (await s.execute(stmt)).mappings().all()
            groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in rows:
                groups[str(r[fk])].append(self._row(r))
            return [groups.get(str(k), [])[off : off + lim] for k in keys]

        return await ctx.loader(("children", self.meta.name, fk, lim, off), batch).load(parent)

    async def load_linked(
        self,
        ctx: Context,
        link: sa.Table,
        self_col: str,
        target_col: str,
        parent: Any,
        *,
        limit: int | None = None,
        offset: int | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Batched many-to-many through the join table ``link``."""
        lim, off = self._page(ctx, limit, offset)
        owner = link.c[self_col].label("_owner")

        async def batch(keys: builtins.list[Any]) -> builtins.list[Any]:
            stmt = (
                sa.select(owner, *self._columns)
                .join(link, link.c[target_col] == self._pk_col)
                .where(link.c[self_col].in_(keys))
                .order_by(owner, self._pk_col)
            )
            async with ctx.db.read_session() as s:
                rows = (await s.execute(stmt)).mappings().all()
            groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in rows:
                groups[str(r["_owner"])].append(self._row(r))
            return [groups.get(str(k), [])[off : off + lim] for k in keys]

        return await ctx.loader(("linked", link.name, self_col, lim, off), batch).load(parent)

    # -- writes ------------------------------------------------------------------------

    async def create(self, ctx: Context, data: Mapping[str, Any]) -> dict[str, Any]:
        values = self._validate(self.meta.create_input, data)
        try:
            async with ctx.db.session() as s:
                result = await s.execute(
                    sa.insert(self.meta.table).values(**values).returning(*self._columns)
                )
                row = self._row(result.mappings().one())
                await s.commit()
        except IntegrityError as exc:
            raise await self._write_error(ctx, exc, values) from None
        await self._invalidate(ctx)
        return row

    async def update(self, ctx: Context, id: Any, data: Mapping[str, Any]) -> dict[str, Any]:
        pk = self.parse_id(id)
        values = self._validate(self.meta.update_input, data)
        try:
            async with ctx.db.session() as s:
                if values:
                    stmt = sa.update(self.meta.table).where(self._pk_col == pk).values(**values)
                    result = await s.execute(stmt.returning(*self._columns))
                else:
                    result = await s.execute(self._select().where(self._pk_col == pk))
                found = result.mappings().first()
                if found is None:
                    raise NotFoundError(f"{self.meta.name} {pk} not found")
                row = self._row(found)
                await s.commit()
        except IntegrityError as exc:
            raise await self._write_error(ctx, exc, values) from None
        await self._invalidate(ctx)
        return row

    async def delete(self, ctx: Context, id: Any) -> dict[str, Any]:
        pk = self.parse_id(id)
        try:
            async with ctx.db.session() as s:
                stmt = (
                    sa.delete(self.meta.table).where(self._pk_col == pk).returning(*self._columns)
                )
                found = (await s.execute(stmt)).mappings().first()
                if found is None:
                    raise NotFoundError(f"{self.meta.name} {pk} not found")
                row = self._row(found)
                await s.commit()
        except IntegrityError as exc:
            if is_fk_violation(exc):
                raise ConflictError(
                    f"{self.meta.name} {pk} is still referenced by other rows"
                ) from None
            raise self._integrity(exc) from None
        await self._invalidate(ctx)
        return row

    # -- queued writes -----------------------------------------------------------------

    async def _enqueue(
        self, ctx: Context, op: str, payload: dict[str, Any], key: str | None
    ) -> Any:
        from .jobs_api import enqueue_job

        queue = ctx.registry.queues[self.meta.operations[op]]
        return await enqueue_job(ctx, queue, f"{self.meta.name}.{op}", payload, job_id=key)

    async def enqueue_create(
        self, ctx: Context, data: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        return await self._enqueue(ctx, "create", {"input": dict(data)}, idempotency_key)

    async def enqueue_update(
        self, ctx: Context, id: Any, data: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        self.parse_id(id)
        return await self._enqueue(
            ctx, "update", {"id": str(id), "input": dict(data)}, idempotency_key
        )

    async def enqueue_delete(
        self, ctx: Context, id: Any, *, idempotency_key: str | None = None
    ) -> Any:
        self.parse_id(id)
        return await self._enqueue(ctx, "delete", {"id": str(id)}, idempotency_key)


def entity_job_handler(service: EntityService, op: str) -> Callable[..., Any]:
    """The worker-side handler of a queued mutation: runs it through the service layer."""

    async def handler(payload: BaseModel, job: Any) -> Any:
        ctx = job.extra["state"].context(request_id=job.request_id)
        data = payload.model_dump(mode="json", exclude_unset=True)
        if op == "create":
            row = await service.create(ctx, data["input"])
        elif op == "update":
            row = await service.update(ctx, data["id"], data.get("input", {}))
        else:
            row = await service.delete(ctx, data["id"])
        return {
            k: (str(v) if not isinstance(v, int | float | bool | str | None | dict | list) else v)
            for k, v in row.items()
        }

    handler.__name__ = f"{service.meta.name.lower()}_{op}"
    return handler
