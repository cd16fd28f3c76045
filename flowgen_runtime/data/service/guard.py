"""Write-side permission checks shared by the write paths of :class:`EntityService`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.auth.access import Access
from flowgen_runtime.core.db import ReadConnection
from flowgen_runtime.core.errors import (
    ForbiddenError,
    NotFoundError,
    UnauthenticatedError,
    UserInputError,
)
from flowgen_runtime.core.naming import camel
from flowgen_runtime.data.context import Context
from flowgen_runtime.data.hooks import Hooked
from flowgen_runtime.data.meta import EntityMeta
from flowgen_runtime.data.query.filters import Scope, build_where, visible
from flowgen_runtime.data.query.values import coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


def restrict(meta: EntityMeta, access: Access, values: dict[str, Any]) -> dict[str, Any]:
    """Refuse fields the caller may not set (``readonly`` of a create or an update grant);
    fill values preset from its claims (a value equal to the preset is accepted)."""
    preset = {k: coerce(meta.field_types[k], v, [k]) for k, v in access.preset.items()}
    refused = sorted(k for k in values if k in access.readonly and k not in preset)
    conflicts = sorted(k for k, v in preset.items() if k in values and str(values[k]) != str(v))
    if refused or conflicts:
        names = ", ".join(camel(k) for k in refused + conflicts)
        raise ForbiddenError(f"you may not set {names} on {meta.name}")
    return {**values, **preset}


async def unreadable_refs(
    s: Any, ctx: Context, meta: EntityMeta, values: Mapping[str, Any], prefix: list[str | int]
) -> list[dict[str, Any]]:
    """Foreign keys in ``values`` naming a row the caller cannot read: refused as if the
    row did not exist (linking to a row is not a way to learn it exists, nor to attach
    data to what one cannot see). Targets the caller reads in full are left to the
    database's foreign key."""
    errors = []
    for rel in meta.relations.values():
        if rel.kind != "belongs_to" or values.get(rel.fk) is None or ctx.system:
            continue
        target = ctx.registry.services[rel.target].meta
        try:
            read = ctx.access(target, "read")
        except (ForbiddenError, UnauthenticatedError):
            read = None
        if read is not None and read.rows is None:
            continue
        t = target.table
        found = None
        if read is not None:
            rule = rows_rule(ctx, target, read)
            pk = coerce(target.pk_type, values[rel.fk], [*prefix, camel(rel.fk)])
            found = await s.scalar(sa.select(t.c[target.pk]).where(t.c[target.pk] == pk, rule))
        if found is None:
            message = f"no {rel.target} with id {values[rel.fk]}"
            errors.append({"path": [*prefix, camel(rel.fk)], "message": message})
    return errors


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


class NestedGuard:
    """For nested writes: ``guard(meta, op, table)`` is the target's rule for ``op`` and
    the caller's access (raises if it has none); :meth:`refs` refuses foreign keys to
    rows the caller cannot read (see :func:`unreadable_refs`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __call__(
        self, meta: EntityMeta, op: str, table: Any = None
    ) -> tuple[ColumnElement[bool], Access]:
        access = self.ctx.access(meta, op)
        return rows_rule(self.ctx, meta, access, table), access

    async def refs(
        self, s: Any, meta: EntityMeta, values: Mapping[str, Any], path: list[str | int]
    ) -> None:
        errors = await unreadable_refs(s, self.ctx, meta, values, path)
        if errors:
            raise UserInputError(errors)


def nested_guard(ctx: Context) -> NestedGuard:
    return NestedGuard(ctx)


def nested_hooks(ctx: Context, session: Any) -> Any:
    """For nested writes: the target entity's hooks in this transaction."""

    def hooked(meta: EntityMeta) -> Hooked:
        return ctx.registry.services[meta.name]._hooked(ctx, session, "nested")

    return hooked
