"""Permissions from the spec -> model :class:`Permission` objects with compiled row rules."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..spec.diagnostics import suggest
from ..spec.models import EntitySpec, GrantSpec
from ..spec.yaml_source import YamlDoc
from .fields import default_violations
from .ir import Entity, Field, Grant, Permission
from .problems import Problems
from .rules import RuleError, compile_rule

OPERATIONS = ("read", "create", "update", "delete")


def attach_permissions(
    entities: list[Entity], specs: dict[str, tuple[EntitySpec, YamlDoc]], problems: Problems
) -> list[Entity]:
    """Entities with their permissions resolved (rules need every entity's relations)."""
    by_name = {e.name: e for e in entities}
    out = []
    for e in entities:
        spec, doc = specs[e.name]
        if spec.permissions is None:
            out.append(e)
            continue
        perms = []
        for op in OPERATIONS:
            grants = getattr(spec.permissions, op)
            if grants is None:
                continue
            perms.append(
                Permission(
                    op,
                    tuple(
                        _grant(e, by_name, op, i, g, doc, problems) for i, g in enumerate(grants)
                    ),
                )
            )
        out.append(replace(e, permissions=tuple(perms)))
    return out


def _grant(
    e: Entity,
    by_name: dict[str, Entity],
    op: str,
    i: int,
    g: GrantSpec,
    doc: YamlDoc,
    problems: Problems,
) -> Grant:
    path = ("permissions", op, i)
    _check_who(g, doc, path, problems)
    fields = {f.name for f in e.fields}
    for key, allowed in (
        ("hidden", op == "read"),
        ("readonly", op in ("create", "update")),
        ("preset", op in ("create", "update")),
    ):
        names = list(getattr(g, key))
        if names and not allowed:
            problems.add(doc, (*path, key), f"`{key}` does not apply to {op}")
        for j, name in enumerate(names):
            if name not in fields:
                problems.add(
                    doc,
                    (*path, key, j if key != "preset" else name),
                    f"unknown field '{name}'",
                    suggest(name, sorted(fields)),
                )
    by_field = {f.name: f for f in e.fields}
    for name, value in g.preset.items():
        why = None if name not in by_field else literal_problem(by_field[name], value)
        if why:
            problems.add(doc, (*path, "preset", name), f"preset {value!r} for {name}: {why}",
                         "a `$user.<claim>` or a literal of the field's type")  # fmt: skip
    where = None
    if g.row is not None:
        try:
            where = json.dumps(compile_rule(g.row, _resolver(e, by_name)), sort_keys=True)
        except RuleError as exc:
            problems.add(doc, (*path, "row"), f"row rule: {exc}")
    return Grant(
        roles=tuple(g.roles), anonymous=g.anonymous, row=g.row, row_where=where,
        hidden=tuple(g.hidden), readonly=tuple(g.readonly), preset=tuple(sorted(g.preset.items())),
    )  # fmt: skip


def _resolver(entity: Entity, by_name: dict[str, Entity]) -> Any:
    def resolve(path: list[str], comparison: dict[str, Any], e: Entity = entity) -> dict[str, Any]:
        head, rest = path[0], path[1:]
        relations = {r.name: r for r in e.relations}
        fields = {f.name for f in e.fields}
        if not rest:
            if head in fields:
                for value in _compared(comparison):
                    why = literal_problem(e.field(head), value)
                    if why:
                        raise RuleError(f"{value!r} for {e.name}.{head}: {why}")
                return {head: comparison}
            if head in relations and relations[head].kind == "belongs_to":
                return {relations[head].fk or head: comparison}
            hint = suggest(head, sorted(fields | set(relations)))
            raise RuleError(f"{e.name} has no field '{head}'" + (f" ({hint})" if hint else ""))
        if head not in relations:
            hint = suggest(head, sorted(relations))
            raise RuleError(f"{e.name} has no relation '{head}'" + (f" ({hint})" if hint else ""))
        rel = relations[head]
        inner = resolve(rest, comparison, by_name[rel.target])
        return {head: inner if rel.kind == "belongs_to" else {"some": inner}}

    return resolve


def _compared(comparison: dict[str, Any]) -> list[Any]:
    """The literal values of a comparison (``$user`` slots and null tests left out)."""
    out = []
    for op, value in comparison.items():
        if op == "is_null":
            continue
        for v in value if isinstance(value, list) else [value]:
            if not (isinstance(v, dict) and "$user" in v):
                out.append(v)
    return out


def literal_problem(f: Field, value: Any) -> str | None:
    """Why ``value`` (a preset string or a rule literal) cannot be a value of ``f``."""
    if isinstance(value, str) and value.startswith("$user."):
        return None
    if f.type == "json":
        return None
    if f.enum is not None:
        return None if value in f.enum.values else f"not one of {list(f.enum.values)}"
    if f.value_type == "bool":
        ok = isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
        return None if ok else "not true or false"
    text = value if isinstance(value, str) else None
    try:
        if f.value_type in ("int", "float", "decimal"):
            if isinstance(value, bool) or (text is None and not isinstance(value, int | float)):
                return f"not a number ({f.value_type})"
            number = decimal.Decimal(str(value))
            if f.value_type == "int" and number != number.to_integral_value():
                return "not an integer"
            value = str(number)
        elif f.value_type in ("string", "text"):
            if text is None:
                return f"not text ({f.type})"
        elif text is None:
            return f"not a {f.value_type}"
        else:
            _PARSE[f.value_type](text)
    except (ValueError, ArithmeticError):
        return f"not a valid {f.value_type}"
    violations = default_violations(f, value)
    return "; ".join(violations) or None


_PARSE: dict[str, Callable[[str], object]] = {
    "date": dt.date.fromisoformat,
    "datetime": dt.datetime.fromisoformat,
    "uuid": uuid.UUID,
}


def _check_who(g: GrantSpec, doc: YamlDoc, path: tuple[Any, ...], problems: Problems) -> None:
    if not g.roles and not g.anonymous:
        problems.add(doc, path, "a grant names `roles` or sets `anonymous: true`")


def job_grants(
    grants: list[GrantSpec] | None, doc: YamlDoc, path: tuple[Any, ...], problems: Problems
) -> tuple[Grant, ...] | None:
    """Who may enqueue a job: roles / anonymous only (None: any signed-in caller)."""
    if grants is None:
        return None
    out = []
    for i, g in enumerate(grants):
        where = (*path, "permissions", i)
        _check_who(g, doc, where, problems)
        for key in ("row", "hidden", "readonly", "preset"):
            if getattr(g, key):
                problems.add(doc, (*where, key), f"`{key}` does not apply to enqueueing a job")
        out.append(Grant(roles=tuple(g.roles), anonymous=g.anonymous))
    return tuple(out)
