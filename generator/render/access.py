"""View facts about permissions: the runtime literal, and which fields may read as null."""

from __future__ import annotations

import json

from ..model.ir import App, Entity, Grant, Job


def readable_by_everyone(e: Entity) -> bool:
    """True when every caller, anonymous included, reads every row of ``e``."""
    if e.permissions is None:
        return False  # no block: anonymous callers read nothing
    reads = next((p for p in e.permissions if p.operation == "read"), None)
    return reads is not None and any(
        g.anonymous and g.row is None and not g.hidden for g in reads.grants
    )


def hideable(e: Entity) -> set[str]:
    """Fields some grant hides: they read as null for those callers, so the SDL makes them nullable."""
    if e.permissions is None:
        return set()
    return {
        name for p in e.permissions if p.operation == "read" for g in p.grants for name in g.hidden
    }


def preset_fields(e: Entity) -> set[str]:
    """Fields some create grant fills from the caller's token."""
    if e.permissions is None:
        return set()
    return {
        name
        for p in e.permissions
        if p.operation == "create"
        for g in p.grants
        for name, _ in g.preset
    }


def relation_always_visible(app: App, target: str) -> bool:
    return readable_by_everyone(app.entity(target))


def _grant(g: Grant) -> str:
    row = repr(json.loads(g.row_where)) if g.row_where else "None"
    return (
        f"Grant(roles=frozenset({sorted(g.roles)!r}), anonymous={g.anonymous}, row={row}, "
        f"hidden=frozenset({sorted(g.hidden)!r}), readonly=frozenset({sorted(g.readonly)!r}), "
        f"preset={dict(g.preset)!r})"
    )


def permissions_literal(e: Entity) -> str:
    """Python source for ``EntityMeta.permissions`` (``None`` when the spec has no block)."""
    if e.permissions is None:
        return "None"
    items = ", ".join(
        f"{p.operation!r}: ({', '.join(_grant(g) for g in p.grants)}{',' if len(p.grants) == 1 else ''})"
        for p in e.permissions
    )
    return "{" + items + "}"


def job_grants_literal(j: Job) -> str:
    """Python source for the ``grants=`` argument of ``enqueue_job`` (empty: the default)."""
    if j.grants is None:
        return ""
    inner = ", ".join(_grant(g) for g in j.grants)
    return f"({inner}{',' if len(j.grants) == 1 else ''})"
