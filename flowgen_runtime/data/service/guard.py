"""Write-side permission checks shared by the write paths of :class:`EntityService`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.auth.access import Access
from flowgen_runtime.core.db import ReadConnection
from flowgen_runtime.core.errors import ForbiddenError, NotFoundError
from flowgen_runtime.core.naming import camel
from flowgen_runtime.data.context import Context
from flowgen_runtime.data.hooks import EntityHooks, WriteEvent
from flowgen_runtime.data.meta import EntityMeta
from flowgen_runtime.data.query.filters import Scope, build_where, visible
from flowgen_runtime.data.query.values import coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


def restrict(meta: EntityMeta, access: Access, values: dict[str, Any]) -> dict[str, Any]:
    """Refuse fields the caller may not set; fill values preset from its claims."""
    preset = {k: coerce(meta.field_types[k], v, [k]) for k, v in access.preset.items()}
    refused = sorted(k for k in values if k in access.readonly)
    conflicts = sorted(k for k, v in preset.items() if k in values and str(values[k]) != str(v))
    if refused or conflicts:
        names = ", ".join(camel(k) for k in refused + conflicts)
        raise ForbiddenError(f"you may not set {names} on {meta.name}")
    return {**values, **preset}


def rows_rule(
    ctx: Context, meta: EntityMeta, access: Access, table: Any = None
) -> ColumnElement[bool]:
    """The caller's row rule for an operation as SQL (``true`` when it reaches every row)."""
    if access.rows is None:
        return sa.true()
    return build_where(
        Scope(ctx.registry), meta, meta.table if table is None else table, access.rows, []
    )


async def explain_missing(
    s: AsyncSession | ReadConnection, ctx: Context, meta: EntityMeta, pk: Any, op: str
) -> Exception:
    """NOT_FOUND unless the caller can read the row (then FORBIDDEN): a refusal never
    tells a caller that a row it cannot see exists."""
    t = meta.table
    readable = visible(Scope(ctx.registry, ctx), meta, t, {}, [])
    seen = await s.scalar(sa.select(t.c[meta.pk]).where(t.c[meta.pk] == pk, readable))
    if seen is None:
        return NotFoundError(f"{meta.name} {pk} not found")
    return ForbiddenError(f"not allowed to {op} {meta.name} {pk}")


async def still_allowed(
    s: AsyncSession, ctx: Context, meta: EntityMeta, access: Access, pks: list[Any]
) -> bool:
    """After a write: are all these rows still inside the caller's rule?"""
    if access.rows is None or not pks:
        return True
    t = meta.table
    n = await s.scalar(
        sa.select(sa.func.count())
        .select_from(t)
        .where(t.c[meta.pk].in_(pks), rows_rule(ctx, meta, access))
    )
    return n == len(set(pks))


def nested_guard(ctx: Context) -> Any:
    """For nested writes: the target's rule for ``op`` (raises if the caller has none)."""

    def guard(
        meta: EntityMeta, op: str, table: Any = None
    ) -> tuple[ColumnElement[bool], Mapping[str, Any]]:
        access = ctx.access(meta, op)
        return rows_rule(ctx, meta, access, table), access.preset

    return guard


def nested_events(ctx: Context, session: Any) -> Any:
    """For nested writes: the target's write hooks and an event for them."""

    def events(meta: EntityMeta, op: str, **facts: Any) -> tuple[EntityHooks, WriteEvent]:
        hooks = ctx.registry.services[meta.name].hooks
        return hooks, WriteEvent(ctx, session, meta.name, op, via="nested", **facts)

    return events
