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
from flowgen_runtime.data.hooks import NO_HOOKS, Hooked
from flowgen_runtime.data.meta import EntityMeta, RelationMeta
from flowgen_runtime.data.query.values import coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

Path = list[str | int]


async def apply_nested(
    session: AsyncSession, registry: Any, meta: EntityMeta, parent: Any,
    nested: Mapping[str, Mapping[str, Any]], path: Path, guard: Any = None, hooked: Any = None,
) -> set[str]:  # fmt: skip
    """Run every nested operation; return the names of the entities it wrote to.

    ``guard(target_meta, op, table)`` gives the caller's rule for ``op`` on the target and
    its ``Access``, raising when it has none: nested creates need create access (readonly
    fields refused, presets applied, the rule checked on the new row, foreign keys to
    readable rows only), connect/disconnect of has-many rows and many-to-many links need
    update access on the target rows (a link changes both sides). A target whose create
    (or update, for connect/disconnect) is queued refuses the nested write: it would run
    inline what the spec queues.
    ``hooked(target_meta)`` gives the target's write hooks in this transaction
    (:class:`~flowgen_runtime.data.hooks.Hooked`): a nested create runs its create hooks, a
    connect/disconnect of has-many rows their update hooks (links of a many-to-many change
    no row of the target: no hooks)."""
    guard = guard or _Open()
    hooked = hooked or _unhooked
    touched: set[str] = set()
    for name, ops in nested.items():
        if not ops:
            continue
        rel = meta.relations[name]
        target: EntityMeta = registry.services[rel.target].meta
        here = [*path, name]
        if rel.kind == "has_many":
            await _has_many(session, registry, rel, target, parent, ops, here, guard, hooked)
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


def _unhooked(meta: EntityMeta) -> Hooked:
    return Hooked(NO_HOOKS, None, None, meta.name, meta.pk, "nested")


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
    ops: Mapping[str, Any], path: Path, guard: Any, hooked: Any,
) -> None:  # fmt: skip
    t = target.table
    hooks: Hooked = hooked(target)
    _not_queued(target, "create", ops, ("create",), path)
    _not_queued(target, "update", ops, ("connect", "disconnect"), path)
    creates = ops.get("create") or []
    if creates:
        rule, access = guard(target, "create")
    for i, item in enumerate(creates):
        here = [*path, "create", i]
        values = _restrict(target, access, {**item, rel.fk: parent}, here)
        await guard.refs(session, target, {**values, rel.fk: None}, here)
        values = await hooks.before("create", values, path=here) or {}
        try:
            async with session.begin_nested():
                stmt = sa.insert(t).values(**values).returning(*t.c)
                row = dict((await session.execute(stmt)).mappings().one())
        except IntegrityError as exc:
            raise registry.services[target.name]._integrity(exc, here) from None
        new = row[target.pk]
        if (
            await session.scalar(sa.select(t.c[target.pk]).where(t.c[target.pk] == new, rule))
            is None
        ):
            raise ForbiddenError(f"not allowed to create this {target.name}")
        await hooks.after("create", row, path=here)
    for op, value in (("connect", parent), ("disconnect", None)):
        ids = _ids(target, ops.get(op) or [], [*path, op])
        if not ids:
            continue
        if op == "disconnect" and not t.c[rel.fk].nullable:
            message = f"{target.name}.{rel.fk} is required; delete the rows instead"
            raise UserInputError([{"path": [*path, "disconnect"], "message": message}])
        rule, _ = guard(target, "update")
        mine = t.c[rel.fk] == parent if op == "disconnect" else sa.true()
        await _relink(
            session, target, hooks, ids, sa.and_(mine, rule), {rel.fk: value}, [*path, op]
        )


async def _relink(
    session: AsyncSession, target: EntityMeta, hooks: Hooked, ids: list[Any], where: Any,
    values: dict[str, Any], path: Path,
) -> None:  # fmt: skip
    """Point the has-many rows ``ids`` at a parent (or none), through their update hooks."""
    t = target.table
    for i, pk in enumerate(ids):  # a hook may refuse; the link is the write (no changes)
        await hooks.before("update", dict(values), id=pk, path=[*path, i])
    stmt = sa.update(t).where(t.c[target.pk].in_(ids), where).values(values).returning(*t.c)
    rows = [dict(r) for r in (await session.execute(stmt)).mappings()]
    _missing(target, ids, {r[target.pk] for r in rows}, path)
    for row in rows:
        await hooks.after("update", row, path=path)


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
