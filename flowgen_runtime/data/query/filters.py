"""``where`` arguments -> SQL boolean expressions.

>>> # where: {title: {contains: "alg", mode: INSENSITIVE}, author: {role: {eq: "teacher"}},
>>> #         questions: {some: {points: {gte: 5}}}, OR: [...], NOT: {...}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.core.errors import ForbiddenError, UserInputError
from flowgen_runtime.data.meta import EntityMeta, RelationMeta
from flowgen_runtime.data.query.values import coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

Path = list[str | int]
_COMBINE: dict[str, tuple[Any, ColumnElement[bool]]] = {
    "and": (sa.and_, sa.true()),
    "or": (sa.or_, sa.false()),
}
_TEXT = {"string", "text"}


class Scope:
    """What filters may see: the registry, and (for a caller) its readable rows and hidden
    fields per entity. A relation filter only ever matches rows the caller can read, and
    filtering on a hidden field is refused, so neither can reveal what is not visible."""

    def __init__(self, registry: Any, ctx: Any = None) -> None:
        self.registry = registry
        self.ctx = ctx

    def rows(self, meta: EntityMeta) -> Mapping[str, Any] | None:
        return None if self.ctx is None else self.ctx.rows(meta)

    def hidden(self, meta: EntityMeta) -> frozenset[str]:
        return frozenset() if self.ctx is None else self.ctx.hidden(meta)

    def raw(self) -> Scope:
        """Row rules themselves are trusted: they are built without the caller's visibility."""
        return Scope(self.registry)


def scoped(registry_or_scope: Any) -> Scope:
    return registry_or_scope if isinstance(registry_or_scope, Scope) else Scope(registry_or_scope)


def visible(
    scope: Scope, meta: EntityMeta, table: FromClause, where: Mapping[str, Any] | None, path: Path
) -> ColumnElement[bool]:
    """``where`` AND the caller's own row rule on ``meta``."""
    cond = build_where(scope, meta, table, where, path)
    rows = scope.rows(meta)
    if rows is None:
        return cond
    return sa.and_(cond, build_where(scope.raw(), meta, table, rows, []))


def build_where(
    scope: Any, meta: EntityMeta, table: FromClause, where: Mapping[str, Any] | None, path: Path
) -> ColumnElement[bool]:
    """The condition for ``where`` on ``table`` (an alias of ``meta``'s table); ``scope`` is
    a :class:`Scope` (or a bare registry: no caller, nothing hidden)."""
    scope = scoped(scope)
    if not where:
        return sa.true()
    parts: list[ColumnElement[bool]] = []
    for key, value in where.items():
        if value is None:
            continue
        here = [*path, key]
        if key in _COMBINE:
            combine, unit = _COMBINE[key]  # an empty AND is true, an empty OR false
            each = (build_where(scope, meta, table, w, [*here, i]) for i, w in enumerate(value))
            parts.append(combine(unit, *each))
        elif key == "not":
            parts.append(sa.not_(build_where(scope, meta, table, value, here)))
        elif key in meta.relations:
            parts.append(_relation(scope, meta, table, meta.relations[key], value, here))
        else:
            if key in scope.hidden(meta):
                raise ForbiddenError(
                    f"cannot filter {meta.name} by {key}: the field is hidden from you"
                )
            parts.append(_field(meta.field_types[key], table.c[key], value, here))
    return sa.and_(sa.true(), *parts)


MAX_IN_VALUES = 5000
"""Longest ``in`` / ``notIn`` list (each value is a bind parameter; PostgreSQL takes 32767)."""


def _field(kind: str, col: Any, ops: Mapping[str, Any], path: Path) -> ColumnElement[bool]:
    insensitive = ops.get("mode") == "insensitive"
    parts: list[ColumnElement[bool]] = []
    for op, raw in ops.items():
        if op == "mode" or raw is None:
            continue
        here = [*path, op]
        if op == "is_null":
            parts.append(col.is_(None) if raw else col.isnot(None))
        elif op in ("in", "not_in"):
            if len(raw) > MAX_IN_VALUES:
                message = f"at most {MAX_IN_VALUES} values (got {len(raw)})"
                raise UserInputError([{"path": here, "message": message}])
            values = [coerce(kind, v, [*here, i]) for i, v in enumerate(raw)]
            target = [v.lower() for v in values] if insensitive and kind in _TEXT else values
            expr = _fold(col, insensitive, kind).in_(target)
            parts.append(expr if op == "in" else sa.not_(expr))
        elif op in ("contains", "starts_with", "ends_with"):
            parts.append(_like(col, op, str(coerce(kind, raw, here)), insensitive))
        else:
            value = coerce(kind, raw, here)
            if insensitive and kind in _TEXT:
                value = str(value).lower()
            parts.append(_compare(_fold(col, insensitive, kind), op, value, here))
    return sa.and_(sa.true(), *parts)


def _fold(col: Any, insensitive: bool, kind: str) -> Any:
    return sa.func.lower(col) if insensitive and kind in _TEXT else col


_OPS = {
    "eq": "__eq__",
    "ne": "__ne__",
    "lt": "__lt__",
    "lte": "__le__",
    "gt": "__gt__",
    "gte": "__ge__",
}


def _compare(col: Any, op: str, value: Any, path: Path) -> ColumnElement[bool]:
    if op not in _OPS:
        raise UserInputError([{"path": path, "message": f"unknown operator {op!r}"}])
    if value is None:
        raise UserInputError([{"path": path, "message": "use isNull to compare with null"}])
    return getattr(col, _OPS[op])(value)


def _like(col: Any, op: str, text: str, insensitive: bool) -> ColumnElement[bool]:
    """``contains``/``startsWith``/``endsWith``: case-sensitive on every database unless
    ``mode: INSENSITIVE``. SQLite's LIKE ignores ASCII case, PostgreSQL's does not, so a
    case-sensitive match is LIKE (which an index can serve) AND the same test written with
    functions that compare exactly on both (``substr``, ``replace``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = {
        "contains": f"%{escaped}%",
        "starts_with": f"{escaped}%",
        "ends_with": f"%{escaped}",
    }[op]
    if insensitive:
        return sa.func.lower(col).like(pattern.lower(), escape="\\")
    like = col.like(pattern, escape="\\")
    if not text:
        return like
    n = len(text)
    exact = {
        "contains": lambda: sa.func.replace(col, text, "") != col,
        "starts_with": lambda: sa.func.substr(col, 1, n) == text,
        "ends_with": lambda: sa.func.substr(col, sa.func.length(col) - (n - 1)) == text,
    }[op]()
    return sa.and_(like, exact)


def _relation(
    registry: Any,
    meta: EntityMeta,
    table: FromClause,
    rel: RelationMeta,
    value: Mapping[str, Any],
    path: Path,
) -> ColumnElement[bool]:
    target_meta: EntityMeta = registry.registry.services[rel.target].meta
    if rel.kind == "belongs_to":
        t = target_meta.table.alias()
        cond = visible(registry, target_meta, t, value, path)
        return sa.exists().where(t.c[target_meta.pk] == table.c[rel.fk]).where(cond)
    parts: list[ColumnElement[bool]] = []
    for quantifier in ("some", "none", "every"):
        if quantifier not in value:
            continue
        t = target_meta.table.alias()
        cond = build_where(registry, target_meta, t, value[quantifier] or {}, [*path, quantifier])
        if quantifier == "every":
            cond = sa.not_(cond)
        rows = registry.rows(target_meta)
        if rows is not None:  # only rows the caller can read count, for every quantifier
            cond = sa.and_(cond, build_where(registry.raw(), target_meta, t, rows, []))
        exists = _to_many_exists(registry, meta, table, rel, target_meta, t).where(cond)
        parts.append(exists if quantifier == "some" else sa.not_(exists))
    return sa.and_(sa.true(), *parts)


def _to_many_exists(
    registry: Any,
    meta: EntityMeta,
    table: FromClause,
    rel: RelationMeta,
    target: EntityMeta,
    t: FromClause,
) -> sa.Exists:
    if rel.kind == "has_many":
        return sa.exists().where(t.c[rel.fk] == table.c[meta.pk])
    link = registry.registry.metadata.tables[rel.join_table].alias()
    return (
        sa.exists()
        .where(link.c[rel.self_column] == table.c[meta.pk])
        .where(link.c[rel.target_column] == t.c[target.pk])
    )


def involved(registry: Any, meta: EntityMeta, where: Any) -> set[str]:
    """Entities a ``where`` reads besides ``meta`` itself (for cache keys)."""
    found: set[str] = set()
    stack: list[tuple[EntityMeta, Any]] = [(meta, where)]
    while stack:
        m, w = stack.pop()
        if isinstance(w, list):
            stack.extend((m, item) for item in w)
            continue
        if not isinstance(w, Mapping):
            continue
        for key, value in w.items():
            if key in ("and", "or", "not"):
                stack.append((m, value))
            elif key in m.relations and value:
                target: EntityMeta = (
                    scoped(registry).registry.services[m.relations[key].target].meta
                )
                found.add(target.name)
                inner = value if m.relations[key].kind == "belongs_to" else list(value.values())
                stack.append((target, inner))
    return found
