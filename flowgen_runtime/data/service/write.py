"""Writes of :class:`~flowgen_runtime.data.service.EntityService`: single, nested, bulk, upsert.

Each write runs in one transaction, commits, then invalidates the cached reads of every
entity it touched (one ``INCR`` each). Inside an open :func:`~.outbox.transaction` it
runs in a savepoint of that transaction instead, and the invalidation waits for its commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from flowgen_runtime.core.db import is_fk_violation
from flowgen_runtime.core.errors import ConflictError, ForbiddenError, UserInputError
from flowgen_runtime.data.context import Context
from flowgen_runtime.data.hooks import Hooked
from flowgen_runtime.data.query.filters import Scope, visible
from flowgen_runtime.data.query.nested import apply_nested
from flowgen_runtime.data.service.base import Row, ServiceBase
from flowgen_runtime.data.service.guard import (
    explain_missing,
    nested_guard,
    nested_hooks,
    restrict,
    rows_rule,
    still_allowed,
    unreadable_refs,
)
from sqlalchemy.exc import IntegrityError


class WriteMixin(ServiceBase[Row]):
    def _split(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Column values and nested relation operations."""
        nested = {k: values.pop(k) for k in list(values) if k in self.meta.relations}
        return values, nested

    def _as_read(self, ctx: Context, row: Row) -> Row:
        """A written row as the caller reads it: fields hidden from it are null."""
        hidden = ctx.hidden(self.meta)
        if not hidden:
            return row
        return cast(Row, {k: (None if k in hidden else v) for k, v in row.items()})

    async def create(self, ctx: Context, data: Mapping[str, Any], *, via: str = "mutation") -> Row:
        rows, touched = await self._create_many(ctx, [data], ["input"], via=via)
        await self._invalidate(ctx, *touched)
        return self._as_read(ctx, rows[0])

    async def create_many(self, ctx: Context, items: Sequence[Mapping[str, Any]]) -> list[Row]:
        """All rows or none: one transaction for the whole list."""
        rows, touched = await self._create_many(ctx, items, ["inputs"], indexed=True, via="bulk")
        await self._invalidate(ctx, *touched)
        return [self._as_read(ctx, row) for row in rows]

    async def _create_many(
        self,
        ctx: Context,
        items: Sequence[Mapping[str, Any]],
        prefix: list[str | int],
        *,
        indexed: bool = False,
        via: str = "mutation",
    ) -> tuple[list[Row], set[str]]:
        access = ctx.access(self.meta, "create")
        prepared = []
        errors = []
        for i, data in enumerate(items):
            here = [*prefix, i] if indexed else prefix
            try:
                values, nested = self._split(self._validate(self.meta.create_input, data, here))
                prepared.append((here, restrict(self.meta, access, values), nested))
            except UserInputError as exc:
                errors += exc.errors
        if errors:
            raise UserInputError(errors)
        out: list[Row] = []
        touched: set[str] = set()
        async with self._transaction(ctx) as s:
            hooks = self._hooked(ctx, s, via)
            for here, values, nested in prepared:
                refused = await unreadable_refs(s, ctx, self.meta, values, here)
                if refused:
                    raise UserInputError(refused)
                values = await hooks.before("create", values, path=here) or {}
                try:
                    result = await s.execute(
                        sa.insert(self.meta.table).values(**values).returning(*self._columns)
                    )
                    row = self._row(result.mappings().one())
                    touched |= await apply_nested(
                        s, ctx.registry, self.meta, row[self.meta.pk], nested, here,
                        nested_guard(ctx), nested_hooks(ctx, s),
                    )  # fmt: skip
                except IntegrityError as exc:
                    await s.rollback()
                    raise await self._write_error(ctx, exc, values, here) from None
                out.append(row)
            if not await still_allowed(s, ctx, self.meta, access, [r[self.meta.pk] for r in out]):
                await s.rollback()
                raise ForbiddenError(f"not allowed to create this {self.meta.name}")
            for (here, _, _), row in zip(prepared, out, strict=True):
                await hooks.after("create", row, path=here)
            await s.commit()
        return out, touched

    async def update(
        self, ctx: Context, id: Any, data: Mapping[str, Any], *, via: str = "mutation"
    ) -> Row:
        pk = self.parse_id(id)
        access = ctx.access(self.meta, "update")
        values, nested = self._split(self._validate(self.meta.update_input, data))
        values = restrict(self.meta, access, values)
        touched: set[str] = set()
        mine = sa.and_(self._pk_col == pk, rows_rule(ctx, self.meta, access))
        async with self._transaction(ctx) as s:
            hooks = self._hooked(ctx, s, via)
            refused = await unreadable_refs(s, ctx, self.meta, values, ["input"])
            if refused:
                raise UserInputError(refused)
            values = await hooks.before("update", values, id=pk, path=["input"]) or {}
            try:
                if values:
                    stmt = sa.update(self.meta.table).where(mine).values(**values)
                    result = await s.execute(stmt.returning(*self._columns))
                else:
                    result = await s.execute(self._select().where(mine))
                found = result.mappings().first()
                if found is None:
                    raise await explain_missing(s, ctx, self.meta, pk, "update")
                if not await still_allowed(s, ctx, self.meta, access, [pk]):
                    await s.rollback()
                    raise ForbiddenError(
                        f"this change would take {self.meta.name} {pk} out of your reach"
                    )
                touched = await apply_nested(
                    s, ctx.registry, self.meta, pk, nested, ["input"], nested_guard(ctx),
                    nested_hooks(ctx, s),
                )  # fmt: skip
            except IntegrityError as exc:
                await s.rollback()
                raise await self._write_error(ctx, exc, values) from None
            await hooks.after("update", self._row(found))
            await s.commit()
        await self._invalidate(ctx, *touched)
        return self._as_read(ctx, self._row(found))

    async def upsert(self, ctx: Context, lookup: Sequence[str], data: Mapping[str, Any]) -> Row:
        """Insert, or update the fields given where the unique ``lookup`` fields match.
        Needs both create and update access; the update only touches a row the caller may
        update (ON CONFLICT ... DO UPDATE ... WHERE rule). With write hooks, the row is
        looked up first, to run the create or the update hooks."""
        create, update = ctx.access(self.meta, "create"), ctx.access(self.meta, "update")
        sent, nested = self._split(self._validate(self.meta.create_input, data))
        # the insert takes the create grant's presets, the update only what the caller sent
        # (and the update grant's presets): a field preset on create and readonly on update
        # (an exam's author) is set by the insert and left alone by the update
        values = restrict(self.meta, create, dict(sent))
        changes = restrict(self.meta, update, dict(sent))
        missing = [k for k in lookup if values.get(k) is None]
        if missing:
            raise UserInputError(
                [{"path": ["input", k], "message": "required to upsert"} for k in missing]
            )
        async with self._transaction(ctx) as s:
            hooks = self._hooked(ctx, s, "upsert")
            refused = await unreadable_refs(s, ctx, self.meta, values, ["input"])
            if refused:
                raise UserInputError(refused)
            op = "create"
            if hooks.has("create") or hooks.has("update"):
                match = sa.and_(*(self.meta.table.c[k] == values[k] for k in lookup))
                existing = await s.scalar(sa.select(self._pk_col).where(match))
                if existing is None:
                    values = await hooks.before("create", values, path=["input"]) or {}
                else:  # the update writes `changes`: what the update hooks see and may change
                    op = "update"
                    changes = await hooks.before("update", changes, id=existing, path=["input"]) or {}  # fmt: skip
            stmt = _upsert_statement(
                s.bind.dialect.name,
                self.meta.table,
                values,
                changes,
                lookup,
                rows_rule(ctx, self.meta, update),
            )
            try:
                found = (await s.execute(stmt.returning(*self._columns))).mappings().first()
                if found is None:
                    raise ForbiddenError(f"not allowed to update the existing {self.meta.name}")
                row = self._row(found)
                if not await still_allowed(s, ctx, self.meta, create, [row[self.meta.pk]]):
                    await s.rollback()
                    raise ForbiddenError(f"not allowed to create this {self.meta.name}")
                touched = await apply_nested(
                    s, ctx.registry, self.meta, row[self.meta.pk], nested, ["input"],
                    nested_guard(ctx), nested_hooks(ctx, s),
                )  # fmt: skip
            except IntegrityError as exc:
                await s.rollback()
                raise await self._write_error(ctx, exc, values) from None
            await hooks.after(op, row)
            await s.commit()
        await self._invalidate(ctx, *touched)
        return self._as_read(ctx, row)

    async def update_many(
        self, ctx: Context, where: Mapping[str, Any], data: Mapping[str, Any]
    ) -> dict[str, int]:
        values, nested = self._split(self._validate(self.meta.update_input, data))
        if nested:
            raise UserInputError(
                [
                    {"path": ["input", k], "message": "nested writes need a single row"}
                    for k in nested
                ]
            )
        access = ctx.access(self.meta, "update")
        values = restrict(self.meta, access, values)
        if not values:
            return {"count": 0}
        cond = sa.and_(self._where(ctx, where), rows_rule(ctx, self.meta, access))
        async with self._transaction(ctx) as s:
            hooks = self._hooked(ctx, s, "bulk")
            try:
                if hooks.has("update"):
                    pks = await self._each_updated(hooks, s, cond, values)
                else:
                    stmt = sa.update(self.meta.table).where(cond).values(**values)
                    pks = list((await s.execute(stmt.returning(self._pk_col))).scalars())
            except IntegrityError as exc:
                await s.rollback()
                raise await self._write_error(ctx, exc, values) from None
            if not await still_allowed(s, ctx, self.meta, access, pks):
                await s.rollback()
                raise ForbiddenError(
                    f"this change would take {self.meta.name} rows out of your reach"
                )
            await s.commit()
        await self._invalidate(ctx)
        return {"count": len(pks)}

    async def _each_updated(
        self, hooks: Hooked, s: Any, cond: Any, values: dict[str, Any]
    ) -> list[Any]:
        """A bulk update one row at a time, each through the update hooks."""
        pks = list((await s.execute(sa.select(self._pk_col).where(cond))).scalars())
        for pk in pks:
            changes = await hooks.before("update", dict(values), id=pk) or {}
            stmt = sa.update(self.meta.table).where(self._pk_col == pk).values(**changes)
            row = self._row((await s.execute(stmt.returning(*self._columns))).mappings().one())
            await hooks.after("update", row)
        return pks

    def _where(self, ctx: Context, where: Mapping[str, Any]) -> Any:
        """A bulk filter sees only what the caller can read (and refuses hidden fields)."""
        return visible(Scope(ctx.registry, ctx), self.meta, self.meta.table, where, ["where"])

    async def delete(self, ctx: Context, id: Any, *, via: str = "mutation") -> Row:
        pk = self.parse_id(id)
        access = ctx.access(self.meta, "delete")
        async with self._transaction(ctx) as s:
            hooks = self._hooked(ctx, s, via)
            await hooks.before("delete", None, id=pk)
            mine = sa.and_(self._pk_col == pk, rows_rule(ctx, self.meta, access))
            stmt = sa.delete(self.meta.table).where(mine).returning(*self._columns)
            try:
                found = (await s.execute(stmt)).mappings().first()
            except IntegrityError as exc:
                await s.rollback()
                raise self._delete_error(exc, f"{self.meta.name} {pk} is") from None
            if found is None:
                raise await explain_missing(s, ctx, self.meta, pk, "delete")
            await hooks.after("delete", self._row(found))
            await s.commit()
        await self._invalidate(ctx, *self._dependents(ctx))
        return self._as_read(ctx, self._row(found))

    async def delete_many(self, ctx: Context, where: Mapping[str, Any]) -> dict[str, int]:
        access = ctx.access(self.meta, "delete")
        cond = sa.and_(self._where(ctx, where), rows_rule(ctx, self.meta, access))
        async with self._transaction(ctx) as s:
            hooks = self._hooked(ctx, s, "bulk")
            if self.hooks.has("before_delete"):
                for pk in list((await s.execute(sa.select(self._pk_col).where(cond))).scalars()):
                    await hooks.before("delete", None, id=pk)
            stmt = sa.delete(self.meta.table).where(cond)
            rows: list[Row] = []
            try:
                if self.hooks.has("after_delete"):
                    result = await s.execute(stmt.returning(*self._columns))
                    rows = [self._row(r) for r in result.mappings()]
                    count = len(rows)
                else:
                    count = (await s.execute(stmt)).rowcount
            except IntegrityError as exc:
                await s.rollback()
                raise self._delete_error(exc, f"some {self.meta.name} rows are") from None
            for row in rows:
                await hooks.after("delete", row)
            await s.commit()
        await self._invalidate(ctx, *self._dependents(ctx))
        return {"count": count}

    def _delete_error(self, exc: IntegrityError, what: str) -> Exception:
        if is_fk_violation(exc):
            return ConflictError(f"{what} still referenced by other rows")
        return self._integrity(exc)

    def _dependents(self, ctx: Context) -> list[str]:
        """Entities whose rows a delete can change through ON DELETE CASCADE / SET NULL,
        following cascades transitively (deleting a user deletes exams, then questions)."""
        seen: set[str] = set()
        stack = [self.meta]
        while stack:
            meta = stack.pop()
            for rel in meta.relations.values():
                if rel.kind != "belongs_to" and rel.target not in seen:
                    seen.add(rel.target)
                    stack.append(ctx.registry.services[rel.target].meta)
        return sorted(seen)


def _upsert_statement(
    dialect: str, table: sa.Table, values: dict[str, Any], update: dict[str, Any],
    lookup: Sequence[str], rule: Any,
) -> Any:  # fmt: skip
    """``INSERT values ... ON CONFLICT (lookup) DO UPDATE SET update`` (PostgreSQL, SQLite)."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values)
    changes: dict[str, Any] = {k: v for k, v in update.items() if k not in lookup}
    # with nothing to change, a no-op update still makes RETURNING give the existing row
    changes = changes or {k: stmt.excluded[k] for k in lookup}
    return stmt.on_conflict_do_update(index_elements=list(lookup), set_=changes, where=rule)
