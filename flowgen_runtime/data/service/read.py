"""Reads of :class:`~flowgen_runtime.data.service.EntityService`: get, lookups, connections,
aggregates, and batched relation loads. Every read goes through the cache."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.core.errors import ForbiddenError, UserInputError
from flowgen_runtime.core.naming import camel
from flowgen_runtime.data.context import Context
from flowgen_runtime.data.query.aggregate import aggregate_query, aggregate_rows
from flowgen_runtime.data.query.filters import Scope, involved, visible
from flowgen_runtime.data.query.pages import connection, group_rows, page_query, partitioned
from flowgen_runtime.data.query.values import coerce, from_json, to_json
from flowgen_runtime.data.service.base import Row, ServiceBase


def _key(args: Mapping[str, Any]) -> str:
    return json.dumps(args, sort_keys=True, default=to_json)


class ReadMixin(ServiceBase[Row]):
    """Every read applies the caller's read access: its row rule is ANDed into the SQL
    (counts and aggregates included) and hidden fields read as null."""

    def _masked(self, ctx: Context) -> Any:
        hidden = ctx.hidden(self.meta)
        if not hidden:
            return self._row
        return lambda mapping: {f: (None if f in hidden else mapping[f]) for f in self.meta.fields}

    def _revive_row(self, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """A row as the cache stored it (JSON) -> the row as read from the database."""
        if row is None:
            return None
        types = self.meta.field_types
        return {f: from_json(types[f], v) for f, v in row.items()}

    def _revive_page(self, page: dict[str, Any]) -> dict[str, Any]:
        for edge in page["edges"]:
            edge["node"] = self._revive_row(edge["node"])
        page["nodes"] = [e["node"] for e in page["edges"]]
        return page

    def _revive_groups(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in groups:
            item["group"] = self._revive_row(item["group"])
        return groups

    async def _cached(
        self, ctx: Context, key: tuple[Any, ...], load: Any, where: Any = None, revive: Any = None
    ) -> Any:
        access = ctx.access(self.meta, "read")
        reached = {"and": [where or {}, access.rows or {}]}
        others = involved(ctx.registry, self.meta, reached)
        entities = {self.meta.name, *others}
        # the result depends on what the caller sees of every entity the filter reaches
        scope = (
            "system"
            if ctx.system
            else json.dumps(
                [access.scope, *(ctx.seen(ctx.registry.services[n].meta) for n in sorted(others))],
                default=str,
            )
        )
        ttl = self.meta.cache_ttl
        return await ctx.cache.get_or_load(entities, ttl, (*key, scope), load, revive)

    async def get(self, ctx: Context, id: Any) -> Row | None:
        pk = self.parse_id(id)
        return await self.get_by(ctx, {self.meta.pk: pk})

    async def get_by(self, ctx: Context, lookup: Mapping[str, Any]) -> Row | None:
        """One row by a unique field set, e.g. ``{"slug": "algebra"}``."""
        values = {k: coerce(self.meta.field_types[k], v, [k]) for k, v in lookup.items()}
        ctx.access(self.meta, "read")  # refuse before touching the cache
        hidden = sorted(set(values) & ctx.hidden(self.meta))
        if hidden:  # an answer or none would tell the hidden value: refused like a filter
            names = ", ".join(camel(k) for k in hidden)
            raise ForbiddenError(f"you may not look up {self.meta.name} by {names}")

        async def load() -> dict[str, Any] | None:
            stmt = self._select().where(*(self.meta.table.c[k] == v for k, v in values.items()))
            stmt = stmt.where(visible(Scope(ctx.registry, ctx), self.meta, self.meta.table, {}, []))
            async with ctx.db.read() as s:
                row = (await s.execute(stmt)).mappings().first()
            return self._masked(ctx)(row) if row else None

        return await self._cached(ctx, ("get", _key(values)), load, revive=self._revive_row)

    async def connection(
        self, ctx: Context, args: Mapping[str, Any], *, total: bool = False
    ) -> dict[str, Any]:
        """A page of rows as a Relay connection (``where``, ``order_by``, ``first``...)."""

        ctx.access(self.meta, "read")
        stmt, where, order, page, _ = page_query(
            Scope(ctx.registry, ctx), self.meta, args, self.meta.fields
        )

        async def load() -> dict[str, Any]:
            async with ctx.db.read() as s:
                rows = (await s.execute(stmt.limit(page.size + 1))).mappings().all()
                result = connection(rows, order, page, self._masked(ctx))
                if total:
                    count = sa.select(sa.func.count()).select_from(self.meta.table).where(where)
                    result["total_count"] = await s.scalar(count)
            return result

        key = ("page", _key(dict(args)), total)
        return await self._cached(ctx, key, load, args.get("where"), self._revive_page)

    async def aggregate(
        self, ctx: Context, where: Mapping[str, Any] | None, group_by: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        ctx.access(self.meta, "read")
        stmt, groups, numeric = aggregate_query(
            Scope(ctx.registry, ctx), self.meta, where, group_by
        )

        async def load() -> list[dict[str, Any]]:
            async with ctx.db.read() as s:
                rows = (await s.execute(stmt)).mappings().all()
            return aggregate_rows(rows, groups, numeric)

        key = ("agg", _key({"w": where, "g": group_by}))
        return await self._cached(ctx, key, load, where, self._revive_groups)

    # -- relations, batched per request -------------------------------------------------

    async def load(self, ctx: Context, id: Any) -> Row | None:
        """Batched lookup by primary key (one query per request for all ``load`` calls)."""
        if id is None:
            return None

        async def batch(keys: list[Any]) -> list[Any]:
            stmt = self._select().where(self._pk_col.in_(keys))
            stmt = stmt.where(visible(Scope(ctx.registry, ctx), self.meta, self.meta.table, {}, []))
            async with ctx.db.read() as s:
                rows = (await s.execute(stmt)).mappings().all()
            row = self._masked(ctx)
            found = {str(r[self.meta.pk]): row(r) for r in rows}
            return [found.get(str(k)) for k in keys]

        return await ctx.loader(("pk", self.meta.name), batch).load(self.parse_id(id))

    async def load_children(
        self, ctx: Context, fk: str, parent: Any, args: Mapping[str, Any], *, total: bool = False
    ) -> dict[str, Any]:
        """Has-many as a connection, batched: one statement for every parent in the request."""
        t = self.meta.table
        return await self._related(
            ctx, ("children", fk), parent, args, total, lambda stmt: (stmt, t.c[fk]), t.c[fk]
        )

    async def load_linked(
        self, ctx: Context, link: sa.Table, self_col: str, target_col: str, parent: Any,
        args: Mapping[str, Any], *, total: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Many-to-many as a connection through the join table ``link``, batched."""
        t = self.meta.table

        def via_link(stmt: sa.Select[Any]) -> tuple[sa.Select[Any], Any]:
            return stmt.join(link, link.c[target_col] == t.c[self.meta.pk]), link.c[self_col]

        return await self._related(
            ctx, ("linked", link.name, self_col), parent, args, total, via_link, link.c[self_col]
        )

    async def _related(
        self,
        ctx: Context,
        kind: tuple[str, ...],
        parent: Any,
        args: Mapping[str, Any],
        total: bool,
        shape: Any,
        parent_col: Any,
    ) -> dict[str, Any]:
        async def batch(keys: list[Any]) -> list[Any]:
            stmt, where, order, page, t = page_query(
                Scope(ctx.registry, ctx), self.meta, args, self.meta.fields
            )
            stmt, parent_expr = shape(stmt)
            stmt = partitioned(stmt.where(parent_expr.in_(keys)), parent_expr, order, page, t)
            async with ctx.db.read() as s:
                groups = group_rows((await s.execute(stmt)).mappings().all())
                counts: dict[str, int] = {}
                if total:
                    count_stmt, count_parent = shape(
                        sa.select(sa.func.count().label("n")).select_from(t).where(where)
                    )
                    count_stmt = (
                        count_stmt.add_columns(count_parent.label("p"))
                        .where(count_parent.in_(keys))
                        .group_by(count_parent)
                    )
                    counts = {str(r.p): r.n for r in await s.execute(count_stmt)}
            out = []
            for k in keys:
                result = connection(groups.get(str(k), []), order, page, self._masked(ctx))
                if total:
                    result["total_count"] = counts.get(str(k), 0)
                out.append(result)
            return out

        if parent is None:
            raise UserInputError([{"path": [], "message": "missing parent"}])
        key = (*kind, self.meta.name, _key(dict(args)), total)
        return await ctx.loader(key, batch).load(parent)
