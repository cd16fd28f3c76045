"""Shared parts of :class:`~flowgen_runtime.data.service.EntityService`: ids, rows, errors."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, Generic, TypeVar, cast

import sqlalchemy as sa
from flowgen_runtime.core.db import (
    is_check_violation,
    is_fk_violation,
    is_not_null_violation,
    is_unique_violation,
    violated_constraint,
)
from flowgen_runtime.core.errors import UserInputError, from_validation
from flowgen_runtime.core.naming import camel
from flowgen_runtime.data.context import Context
from flowgen_runtime.data.hooks import EntityHooks, Hooked
from flowgen_runtime.data.meta import EntityMeta
from flowgen_runtime.data.query.values import check_int
from flowgen_runtime.jobs.outbox import current_outbox, transaction
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

Row = TypeVar("Row", bound=Mapping[str, Any])
"""An entity's row type: the generated ``<Entity>Row`` TypedDict (field name -> value)."""


class ServiceBase(Generic[Row]):
    def __init__(self, meta: EntityMeta) -> None:
        self.meta = meta
        self._columns = [meta.table.c[f] for f in meta.fields]
        self._pk_col = meta.table.c[meta.pk]
        self.hooks = EntityHooks()
        """User write hooks (:mod:`flowgen_runtime.data.hooks`), added at start-up."""

    def _hooked(self, ctx: Context, session: Any, via: str) -> Hooked:
        """This entity's hooks for the writes of ``session`` (see :class:`Hooked`)."""
        return Hooked(self.hooks, ctx, session, self.meta.name, self.meta.pk, via)

    def parse_id(self, raw: Any, path: list[str | int] | str = "id") -> Any:
        """Client id (GraphQL ``ID`` is a string) -> int or UUID; a clear error otherwise."""
        where = [path] if isinstance(path, str) else path
        try:
            if self.meta.pk_type == "uuid":
                return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
            if isinstance(raw, bool):
                raise ValueError
            return check_int(int(raw))
        except (TypeError, ValueError):
            kind = "a UUID" if self.meta.pk_type == "uuid" else "an integer"
            raise UserInputError([{"path": where, "message": f"must be {kind} id"}]) from None

    def _row(self, mapping: Mapping[str, Any]) -> Row:
        return cast(Row, {f: mapping[f] for f in self.meta.fields})

    def _select(self) -> sa.Select[Any]:
        return sa.select(*self._columns)

    def _validate(
        self, model: type[BaseModel], data: Mapping[str, Any], prefix: list[str | int] | None = None
    ) -> dict[str, Any]:
        try:
            return model.model_validate(dict(data)).model_dump(exclude_unset=True)
        except ValidationError as exc:
            raise from_validation(exc, prefix if prefix is not None else ["input"]) from None

    async def _missing_refs(
        self, ctx: Context, values: Mapping[str, Any], prefix: list[str | int]
    ) -> list[dict[str, Any]]:
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
                message = f"no {rel.target} with id {values[rel.fk]}"
                errors.append({"path": [*prefix, camel(rel.fk)], "message": message})
        return errors

    async def _write_error(
        self,
        ctx: Context,
        exc: IntegrityError,
        values: Mapping[str, Any],
        prefix: list[str | int] | None = None,
    ) -> Exception:
        prefix = prefix if prefix is not None else ["input"]
        if is_fk_violation(exc):
            missing = await self._missing_refs(ctx, values, prefix)
            if missing:
                return UserInputError(missing)
        return self._integrity(exc, prefix)

    def _integrity(self, exc: IntegrityError, prefix: list[str | int] | None = None) -> Exception:
        prefix = prefix if prefix is not None else ["input"]
        name = violated_constraint(exc) or ""
        if is_unique_violation(exc):
            fields = self.meta.unique_constraints.get(name)
            if fields is None:  # SQLite names columns: "users.email"
                cols = {c.split(".")[-1] for c in name.split(",")}
                cols = {c.strip() for c in cols}
                fields = next(
                    (f for f in self.meta.unique_constraints.values() if set(f) == cols),
                    tuple(sorted(cols)),
                )
            message = f"another {self.meta.name} already has this value"
            return UserInputError(
                [{"path": [*prefix, camel(f)], "message": message} for f in fields]
            )
        if is_fk_violation(exc):
            return UserInputError(
                [{"path": prefix, "message": "refers to a row that does not exist"}]
            )
        if is_not_null_violation(exc):  # e.g. a field only preset for other roles, left out
            column = name.split(".")[-1] if name else ""
            return UserInputError([{"path": [*prefix, camel(column)], "message": "is required"}])
        if is_check_violation(exc):
            return UserInputError([{"path": prefix, "message": f"violates constraint {name}"}])
        return UserInputError([{"path": prefix, "message": "violates a database constraint"}])

    async def _invalidate(self, ctx: Context, *others: str) -> None:
        outbox = current_outbox()
        if outbox is not None:  # after the open transaction commits (see outbox)
            outbox.touched |= {self.meta.name, *others}
            return
        await ctx.cache.invalidate(self.meta.name, *others)

    @contextlib.asynccontextmanager
    async def _transaction(self, ctx: Context) -> AsyncIterator[Any]:
        """The session of one write, ended by its ``commit()`` or ``rollback()``: a
        transaction of its own, or inside an open :func:`~.outbox.transaction` a SAVEPOINT
        of that transaction's session (``commit()`` releases it, ``rollback()`` undoes
        it), so the write commits, or not, with the rest of the block and its jobs."""
        outbox = current_outbox()
        if outbox is None and getattr(ctx.registry, "has_hooks", False):
            # hooks may enqueue jobs (or write): those wait for this write's commit
            async with transaction(ctx), self._transaction(ctx) as session:
                yield session
            return
        if outbox is None:
            async with ctx.db.session() as session:
                yield session
            return
        savepoint = await outbox.session.begin_nested()
        try:
            yield _Joined(outbox.session, savepoint)
        finally:
            if savepoint.is_active:  # left without commit(): undone, as a closed session is
                await savepoint.rollback()


class _Joined:
    """A session inside a savepoint: everything as the session, except that ``commit()``
    and ``rollback()`` end the savepoint, not the enclosing transaction."""

    def __init__(self, session: Any, savepoint: Any) -> None:
        self._session = session
        self._savepoint = savepoint

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def commit(self) -> None:
        await self._savepoint.commit()

    async def rollback(self) -> None:
        if self._savepoint.is_active:
            await self._savepoint.rollback()
