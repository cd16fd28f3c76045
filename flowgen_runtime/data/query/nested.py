"""Nested relation writes inside the parent's transaction: create, connect, disconnect.

``{"questions": {"create": [...], "connect": [3, 4]}, "students": {"connect": [7]}}``
Any problem raises :class:`UserInputError` naming the item; the caller's transaction then
rolls back, so a nested write is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.auth.access import FULL
from flowgen_runtime.core.errors import ForbiddenError, UserInputError
from flowgen_runtime.data.meta import EntityMeta, RelationMeta
from flowgen_runtime.data.query.values import coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

Path = list[str | int]


async def apply_nested(
    session: AsyncSession, registry: Any, meta: EntityMeta, parent: Any,
    nested: Mapping[str, Mapping[str, Any]], path: Path, guard: Any = None,
) -> set[str]:  # fmt: skip
    """Run every nested operation; return the names of the entities it wrote to.

    ``guard(target_meta, op, table)`` gives the caller's rule for ``op`` on the target and
    its ``Access``, raising when it has none: nested creates need create access (readonly
    fields refused, presets applied, the rule checked on the new row, foreign keys to
    readable rows only), connect/disconnect of has-many rows and many-to-many links need
    update access on the target rows (a link changes both sides). A target whose create
    (or update, for connect/disconnect) is queued refuses the nested write: it would run
    inline what the spec queues."""
    guard = guard or _Open()
    touched: set[str] = set()
    for name, ops in nested.items():
        if not ops:
            continue
        rel = meta.relations[name]
        target: EntityMeta = registry.services[rel.target].meta
        here = [*path, name]
        if rel.kind == "has_many":
            await _has_many(session, registry, rel, target, parent, ops, here, guard)
        else:
            await _many_to_many(session, registry, rel, target, parent, ops, here, guard)
        touched.add(rel.target)
    return touched


class _Open:
    def __call__(self, _meta: EntityMeta, _op: str, _table: Any = None) -> tuple[Any, Any]:
        return sa.true(), FULL

    async def refs(self, *_args: Any) -> None:
        return None


def _not_queued(target: EntityMeta, op: str, ops: Mapping[str, Any], keys: tuple[str, ...],
                path: Path) -> None:  # fmt: skip
    queue = target.operations.get(op)
    given = [k for k in keys if ops.get(k)]
    if queue and given:
        message = (
            f"{target.name} {op}s are queued (queue {queue!r}): "
            f"use the {target.name} mutation, not a nested {given[0]}"
        )
        raise UserInputError([{"path": [*path, k], "message": message} for k in given])


def _ids(target: EntityMeta, raw: list[Any], path: Path) -> list[Any]:
    return [coerce(target.pk_type, v, [*path, i]) for i, v in enumerate(raw)]


def _missing(target: EntityMeta, wanted: list[Any], found: set[Any], path: Path) -> None:
    errors = [
        {"path": [*path, i], "message": f"no {target.name} with id {v}"}
        for i, v in enumerate(wanted)
        if v not in found
    ]
    if errors:
        raise UserInputError(errors)


async def _has_many(
    session: AsyncSession, registry: Any, rel: RelationMeta, target: EntityMeta, parent: Any,
    ops: Mapping[str, Any], path: Path, guard: Any,
) -> None:  # fmt: skip
    t = target.table
    _not_queued(target, "create", ops, ("create",), path)
    _not_queued(target, "update", ops, ("connect", "disconnect"), path)
    creates = ops.get("create") or []
    if creates:
        rule, access = guard(target, "create")
    for i, item in enumerate(creates):
        here = [*path, "create", i]
        values = _restrict(target, access, {**item, rel.fk: parent}, here)
        await guard.refs(session, target, {**values, rel.fk: None}, here)
        try:
            async with session.begin_nested():
                new = await session.scalar(sa.insert(t).values(**values).returning(t.c[target.pk]))
        except IntegrityError as exc:
            raise registry.services[target.name]._integrity(exc, here) from None
        if (
            await session.scalar(sa.select(t.c[target.pk]).where(t.c[target.pk] == new, rule))
            is None
        ):
            raise ForbiddenError(f"not allowed to create this {target.name}")
    connect = _ids(target, ops.get("connect") or [], [*path, "connect"])
    if connect:
        rule, _ = guard(target, "update")
        stmt = (
            sa.update(t).where(t.c[target.pk].in_(connect), rule)
            .values({rel.fk: parent}).returning(t.c[target.pk])
        )  # fmt: skip
        found = set((await session.execute(stmt)).scalars())
        _missing(target, connect, found, [*path, "connect"])
    disconnect = _ids(target, ops.get("disconnect") or [], [*path, "disconnect"])
    if disconnect:
        if not t.c[rel.fk].nullable:
            message = f"{target.name}.{rel.fk} is required; delete the rows instead"
            raise UserInputError([{"path": [*path, "disconnect"], "message": message}])
        rule, _ = guard(target, "update")
        stmt = (
            sa.update(t).where(t.c[target.pk].in_(disconnect), t.c[rel.fk] == parent, rule)
            .values({rel.fk: None}).returning(t.c[target.pk])
        )  # fmt: skip
        found = set((await session.execute(stmt)).scalars())
        _missing(target, disconnect, found, [*path, "disconnect"])


async def _many_to_many(
    session: AsyncSession, registry: Any, rel: RelationMeta, target: EntityMeta, parent: Any,
    ops: Mapping[str, Any], path: Path, guard: Any,
) -> None:  # fmt: skip
    link = registry.metadata.tables[rel.join_table]
    mine, theirs = link.c[rel.self_column], link.c[rel.target_column]
    connect = _ids(target, ops.get("connect") or [], [*path, "connect"])
    if connect:
        found = await _updatable(session, guard, target, connect)
        _missing(target, connect, found, [*path, "connect"])
        linked = set(
            (
                await session.execute(sa.select(theirs).where(mine == parent, theirs.in_(connect)))
            ).scalars()
        )
        rows = [
            {rel.self_column: parent, rel.target_column: v}
            for v in dict.fromkeys(connect)
            if v not in linked
        ]
        if rows:
            await session.execute(sa.insert(link), rows)
    disconnect = _ids(target, ops.get("disconnect") or [], [*path, "disconnect"])
    if disconnect:
        found = await _updatable(session, guard, target, disconnect)
        _missing(target, disconnect, found, [*path, "disconnect"])
        await session.execute(sa.delete(link).where(mine == parent, theirs.in_(disconnect)))


async def _updatable(
    session: AsyncSession, guard: Any, target: EntityMeta, ids: list[Any]
) -> set[Any]:
    """Which of ``ids`` the caller may update: a many-to-many link changes the target too.
    A target it cannot update at all is refused (FORBIDDEN); a row it cannot reach looks
    missing."""
    pk = target.table.c[target.pk]
    rule, _ = guard(target, "update")
    return set((await session.execute(sa.select(pk).where(pk.in_(ids), rule))).scalars())


def _restrict(
    target: EntityMeta, access: Any, values: dict[str, Any], path: Path
) -> dict[str, Any]:
    """The nested create's values after the caller's readonly fields and presets."""
    preset = {k: coerce(target.field_types[k], v, [*path, k]) for k, v in access.preset.items()}
    refused = sorted(k for k in values if k in access.readonly and k not in preset) + sorted(
        k for k, v in preset.items() if values.get(k) is not None and str(values[k]) != str(v)
    )
    if refused:
        names = ", ".join(refused)
        raise ForbiddenError(f"you may not set {names} on {target.name}")
    return {**values, **preset}
