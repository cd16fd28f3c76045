"""Relay connections: ``first/after/last/before`` over any filter and ordering.

Root lists run one statement for the page (``LIMIT n + 1`` tells whether there is more)
and, only when ``totalCount`` is selected, one ``COUNT``. Relation fields are batched:
one statement for all parents, each parent's page cut with ``ROW_NUMBER() OVER
(PARTITION BY parent)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.core.errors import ForbiddenError, UserInputError
from flowgen_runtime.data.meta import EntityMeta
from flowgen_runtime.data.query.filters import scoped, visible
from flowgen_runtime.data.query.order import Ordering
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause


@dataclass(frozen=True)
class PageArgs:
    """Validated pagination arguments."""

    size: int
    backward: bool
    cursor: str | None
    cursor_arg: str

    @classmethod
    def parse(cls, registry: Any, args: Mapping[str, Any]) -> PageArgs:
        first, last = args.get("first"), args.get("last")
        errors = []
        if first is not None and last is not None:
            errors.append({"path": ["last"], "message": "give either first or last, not both"})
        for name in ("first", "last"):
            n = args.get(name)
            if n is not None and not 0 <= n <= registry.max_page_size:
                errors.append(
                    {"path": [name], "message": f"must be between 0 and {registry.max_page_size}"}
                )
        if errors:
            raise UserInputError(errors)
        backward = last is not None or (first is None and args.get("before") is not None)
        chosen = last if backward else first
        size: int = chosen if chosen is not None else registry.default_page_size
        cursor_arg = "before" if backward else "after"
        return cls(size, backward, args.get(cursor_arg), cursor_arg)


def connection(
    rows: Sequence[Mapping[str, Any]], order: Ordering, page: PageArgs, row: Any
) -> dict[str, Any]:
    """Build the connection dict from up to ``size + 1`` rows fetched in query order."""
    more = len(rows) > page.size
    rows = list(rows[: page.size])
    if page.backward:
        rows.reverse()
    edges = [{"cursor": order.encode(r), "node": row(r)} for r in rows]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "page_info": {
            "has_next_page": more if not page.backward else page.cursor is not None,
            "has_previous_page": more if page.backward else page.cursor is not None,
            "start_cursor": edges[0]["cursor"] if edges else None,
            "end_cursor": edges[-1]["cursor"] if edges else None,
        },
    }


def page_query(
    registry: Any,
    meta: EntityMeta,
    args: Mapping[str, Any],
    columns: Sequence[str],
    table: FromClause | None = None,
) -> tuple[sa.Select[Any], ColumnElement[bool], Ordering, PageArgs, FromClause]:
    """The page statement (cursor applied, size + 1 rows) and the bare filter (for counts)."""
    t = table if table is not None else meta.table
    order = Ordering.parse(meta, args.get("order_by"))
    scope = scoped(registry)
    page = PageArgs.parse(scope.registry, args)
    where = visible(scope, meta, t, args.get("where"), ["where"])
    hidden = scope.hidden(meta)
    for name, _ in order.keys:
        if name in hidden:
            raise ForbiddenError(
                f"cannot order {meta.name} by {name}: the field is hidden from you"
            )
    walk = order.reversed() if page.backward else order
    stmt = sa.select(*(t.c[c] for c in columns)).where(where)
    if page.cursor:
        stmt = stmt.where(walk.after(t, order.decode(meta, page.cursor, page.cursor_arg)))
    return stmt.order_by(*walk.clauses(t)), where, order, page, t


def partitioned(
    stmt: sa.Select[Any], parent: Any, order: Ordering, page: PageArgs, t: FromClause
) -> sa.Select[Any]:
    """Cut each parent's rows to ``size + 1`` in one statement."""
    walk = order.reversed() if page.backward else order
    rn = sa.func.row_number().over(partition_by=parent, order_by=walk.clauses(t)).label("_rn")
    inner = stmt.order_by(None).add_columns(parent.label("_parent"), rn).subquery()
    return (
        sa.select(inner)
        .where(inner.c["_rn"] <= page.size + 1)
        .order_by(inner.c["_parent"], inner.c["_rn"])
    )


def group_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[str(r["_parent"])].append(r)
    return groups
