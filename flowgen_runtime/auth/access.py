"""The permission model applied on every path: who the caller is and what it may do.

Each entity operation resolves to an :class:`Access`: the rows the caller reaches (a
``where`` structure ANDed into every statement, or ``None`` for all rows), the fields
hidden from it, the fields it may not set, and values preset from its claims::

    access = resolve(meta.permissions, "read", identity)   # or raises
    access.rows   # {"or": [{"author_id": {"eq": "7"}}]}

Imports only :mod:`flowgen_runtime.core`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flowgen_runtime.core.errors import ForbiddenError, UnauthenticatedError

AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class Identity:
    """The signed-in caller: user id, roles and the token's claims."""

    id: str
    roles: frozenset[str]
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def claim(self, path: str) -> Any:
        """``$user.id`` is the user id; any other name is a (dotted) claim path."""
        if path == "id":
            return self.id
        return dig(self.claims, path)

    @cached_property
    def scope(self) -> str:
        return f"user:{self.id}|{','.join(sorted(self.roles))}"

    def scope_with(self, paths: Iterable[str]) -> str:
        """:attr:`scope` plus the value of each claim path (those the row rules read):
        two tokens of one user with different claims never share a cached answer."""
        values = {p: self.claim(p) for p in sorted(paths) if p != "id"}
        if not values:
            return self.scope
        return f"{self.scope}|{json.dumps(values, sort_keys=True, default=str)}"

    def record(self, paths: Iterable[str] = ()) -> dict[str, Any]:
        """What a job stores of its caller: id, roles and the claims at ``paths`` (those
        the spec's rules and presets read); :meth:`from_record` rebuilds the identity.

        >>> Identity("7", frozenset({"student"}), {"org": {"id": 3}}).record(["org.id"])
        {'id': '7', 'roles': ['student'], 'claims': {'org': {'id': 3}}}
        """
        claims: dict[str, Any] = {}
        for path in sorted(paths):
            value = self.claim(path) if path != "id" else None
            if value is not None:
                _put(claims, path, value)
        return {"id": self.id, "roles": sorted(self.roles), "claims": claims}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Identity:
        """The identity :meth:`record` stored (a ValueError if it is malformed)."""
        roles, claims = record.get("roles"), record.get("claims") or {}
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValueError("a job's caller record has no list of roles")
        if record.get("id") is None or not isinstance(claims, Mapping):
            raise ValueError("a job's caller record has no id or malformed claims")
        return cls(str(record["id"]), frozenset(roles), dict(claims))


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def rule_claims(permissions: Iterable[Permissions]) -> frozenset[str]:
    """The claim paths (``$user.<path>``) that the row rules and presets of these
    entities read, besides the user id.

    >>> rule_claims([{"read": (Grant(row={"org_id": {"eq": {"$user": "org.id"}}}),)}])
    frozenset({'org.id'})
    """
    found: set[str] = set()

    def walk(template: Any) -> None:
        if isinstance(template, Mapping):
            if set(template) == {"$user"} and isinstance(template["$user"], str):
                found.add(template["$user"])
            for v in template.values():
                walk(v)
        elif isinstance(template, list | tuple):
            for v in template:
                walk(v)

    for perms in permissions:
        for grants in (perms or {}).values():
            for g in grants:
                walk(g.row)
                for value in g.preset.values():
                    if value.startswith("$user."):
                        found.add(value.removeprefix("$user."))
    found.discard("id")
    return frozenset(found)


@dataclass(frozen=True)
class Grant:
    """Generated from a spec grant (see ``GrantSpec``); ``row`` is a where template."""

    roles: frozenset[str] = frozenset()
    anonymous: bool = False
    row: Mapping[str, Any] | None = None
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    preset: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Access:
    rows: Mapping[str, Any] | None = None
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    preset: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        """What the caller can see, for cache keys: equal scopes may share results."""
        return json.dumps([self.rows, sorted(self.hidden)], sort_keys=True, default=str)


FULL = Access()

EVERYONE = (Grant(roles=frozenset({AUTHENTICATED}), anonymous=True),)
"""Grants every caller matches: for an action the app itself already decided to allow
(a queued mutation checked when it was asked for, a job a write hook enqueues)."""

Permissions = Mapping[str, tuple[Grant, ...]] | None


def resolve(permissions: Permissions, op: str, identity: Identity | None, what: str = "") -> Access:
    """The caller's access to ``op``; UNAUTHENTICATED / FORBIDDEN when it has none."""
    if permissions is None:  # no permissions block: signed-in callers only
        if identity is None:
            raise UnauthenticatedError(f"sign in to {op} {what}".strip())
        return FULL
    matched = [
        (g, _substitute(g.row, identity)) for g in permissions.get(op, ()) if _matches(g, identity)
    ]
    matched = [(g, row) for g, row in matched if row is not _NEVER]
    if not matched:
        if identity is None:
            raise UnauthenticatedError(f"sign in to {op} {what}".strip())
        raise ForbiddenError(f"not allowed to {op} {what}".strip())
    rows = None if any(row is None for _, row in matched) else {"or": [row for _, row in matched]}
    hidden = frozenset.intersection(*(g.hidden for g, _ in matched))
    readonly = frozenset.intersection(*(g.readonly for g, _ in matched))
    preset: dict[str, Any] = {}
    for g, _ in matched:
        for name, value in g.preset.items():
            preset.setdefault(name, _preset_value(value, identity))
    return Access(rows, hidden, readonly, preset)


def _matches(g: Grant, identity: Identity | None) -> bool:
    if identity is None:
        return g.anonymous
    return bool(g.roles & (identity.roles | {AUTHENTICATED}))


_NEVER = object()


def _substitute(template: Any, identity: Identity | None) -> Any:
    """Put the caller's claims into a row template; ``_NEVER`` if a claim is missing."""
    if isinstance(template, Mapping):
        if set(template) == {"$user"}:
            value = identity.claim(template["$user"]) if identity is not None else None
            return _NEVER if value is None else value
        out = {}
        for k, v in template.items():
            sub = _substitute(v, identity)
            if sub is _NEVER:
                return _NEVER
            out[k] = sub
        return out
    if isinstance(template, list):
        items = [_substitute(v, identity) for v in template]
        return _NEVER if any(i is _NEVER for i in items) else items
    return template


def _preset_value(value: str, identity: Identity | None) -> Any:
    if value.startswith("$user.") and identity is not None:
        return identity.claim(value.removeprefix("$user."))
    return value


def dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data
