"""Foreign keys that form cycles between tables (A -> B -> A): no order of CREATE TABLE
statements can declare them inline on PostgreSQL, so they are marked ``deferred`` and
created once every table exists (SQLAlchemy's ``use_alter``).

Every foreign key between two different tables of one strongly connected component is
deferred: a few more ALTERs than the fewest possible, decided by the graph alone, so the
choice never depends on the order the specs were read.

>>> # User.team -> Team and Team.owner -> User: both deferred; Exam.author -> User: inline
"""

from __future__ import annotations

from dataclasses import replace

from .ir import Entity


def _components(edges: dict[str, set[str]]) -> dict[str, int]:
    """Tarjan's strongly connected components: node -> component number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    counter = [0, 0]

    def visit(v: str) -> None:  # recursion depth is bounded by the number of entities
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                comp[w] = counter[1]
                if w == v:
                    break
            counter[1] += 1

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return comp


def defer_cyclic_foreign_keys(entities: list[Entity]) -> list[Entity]:
    """``entities`` with the foreign keys of table cycles marked ``deferred``."""
    edges: dict[str, set[str]] = {e.table: set() for e in entities}
    for e in entities:
        for f in e.fields:
            if f.foreign_key is not None and f.foreign_key.target_table != e.table:
                edges[e.table].add(f.foreign_key.target_table)
    comp = _components(edges)
    out = []
    for e in entities:
        fields = tuple(
            replace(f, foreign_key=replace(f.foreign_key, deferred=True))
            if f.foreign_key is not None
            and f.foreign_key.target_table != e.table
            and comp[f.foreign_key.target_table] == comp[e.table]
            else f
            for f in e.fields
        )
        out.append(replace(e, fields=fields) if fields != e.fields else e)
    return out
