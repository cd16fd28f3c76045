"""``<entities>Aggregate(where, groupBy)``: count and sum/avg/min/max per group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.core.errors import ForbiddenError, UserInputError
from flowgen_runtime.data.meta import EntityMeta
from flowgen_runtime.data.query.filters import scoped, visible
from flowgen_runtime.data.query.order import Ordering

NUMERIC = {"int", "float", "decimal"}
_FUNCS: dict[str, Any] = {
    "sum": sa.func.sum,
    "avg": sa.func.avg,
    "min": sa.func.min,
    "max": sa.func.max,
}


def aggregate_query(
    registry: Any, meta: EntityMeta, where: Mapping[str, Any] | None, group_by: Sequence[str] | None
) -> tuple[sa.Select[Any], list[str], list[str]]:
    t = meta.table
    scope = scoped(registry)
    hidden = scope.hidden(meta)
    groups = list(dict.fromkeys(group_by or []))
    for g in groups:
        if meta.field_types.get(g) in (None, "json"):
            raise UserInputError([{"path": ["groupBy"], "message": f"cannot group by {g}"}])
        if g in hidden:
            raise ForbiddenError(f"cannot group {meta.name} by {g}: the field is hidden from you")
    numeric = [
        f
        for f in meta.fields
        if meta.field_types[f] in NUMERIC
        and f != meta.pk
        and not _is_fk(meta, f)
        and f not in hidden
    ]
    cols: list[Any] = [t.c[g].label(f"g_{g}") for g in groups]
    cols.append(sa.func.count().label("count"))
    for fn, func in _FUNCS.items():
        cols += [func(t.c[f]).label(f"{fn}_{f}") for f in numeric]
    stmt = sa.select(*cols).select_from(t).where(visible(scope, meta, t, where, ["where"]))
    if groups:
        # groups in orderBy's order on every database: enums by declaration, NULLs last
        order = Ordering(tuple((g, False) for g in groups)).clauses(t)
        stmt = stmt.group_by(*(t.c[g] for g in groups)).order_by(*order)
    return stmt, groups, numeric


def _is_fk(meta: EntityMeta, name: str) -> bool:
    return any(r.fk == name for r in meta.relations.values() if r.kind == "belongs_to")


def aggregate_rows(
    rows: Sequence[Mapping[str, Any]], groups: list[str], numeric: list[str]
) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        item: dict[str, Any] = {"count": r["count"], "group": {g: r[f"g_{g}"] for g in groups}}
        for fn in _FUNCS:
            item[fn] = {f: _number(r[f"{fn}_{f}"]) for f in numeric}
        out.append(item)
    return out


def _number(value: Any) -> Any:
    return None if value is None else float(value)
