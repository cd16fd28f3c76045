"""The one table of the names the compiler generates, and the clashes between them.

Every generated name is *claimed* by the spec object it comes from (with its file:line and
YAML path), in a namespace: GraphQL types, root Query / Mutation fields, the fields of one
GraphQL type, Python modules and classes, tables and PostgreSQL types, the columns of one
table, constraint and index names. Two claims of one name in one namespace, a reserved
name, a Python keyword where a class is generated, or a database identifier longer than
PostgreSQL's 63 bytes is a spec error; the build stops before rendering.

>>> # entity Book + entity BookConnection: 'BookConnection' claimed twice (types namespace)
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator
from dataclasses import dataclass

from ..names import camel, pascal, plural_tail
from ..spec.diagnostics import SpecError
from .ir import Entity, Queue, Relation, Source

RESERVED = {
    "Query", "Mutation", "Subscription", "JobRef", "JobStatus", "PageInfo", "BulkResult",
    "SortDirection", "StringMode", "DateTime", "Date", "Decimal", "JSON", "UUID", "ID",
    "String", "Int", "Float", "Boolean", "IDFilter", "StringFilter", "BooleanFilter",
    "JSONFilter", "IntFilter", "FloatFilter", "DecimalFilter", "DateFilter",
    "DateTimeFilter", "UUIDFilter",
}  # fmt: skip
"""GraphQL types every generated schema defines."""

RESERVED_ROOT = {"Query": {"apiVersion", "jobStatus"}, "Mutation": {"ping"}}

PY_RESERVED_CLASSES = {
    "None", "True", "False",  # keywords
    # names imported next to the entity's class (models/<entity>.py, models/__init__.py,
    # services/<entity>.py)
    "Any", "Base", "ClassVar", "Literal", "Mapped", "Field", "Grant", "InputModel",
    "EntityMeta", "RelationMeta", "EntityService", "META",
}  # fmt: skip

PG_MAX_IDENTIFIER = 63
"""PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1 bytes)."""


@dataclass(frozen=True)
class Claim:
    namespace: str
    name: str
    what: str
    source: Source
    path: str


def _claims_entity(e: Entity, by_name: dict[str, Entity]) -> Iterator[Claim]:
    src, E = e.source, e.name

    def c(ns: str, name: str, what: str, path: str = "entity", s: Source = src) -> Claim:
        return Claim(ns, name, what, s, path)

    yield c("python class", E, f"entity {E}")
    yield c("python module", e.module, f"the module of entity {E}")
    for suffix in ("", "Edge", "Connection", "OrderField", "OrderBy", "Where", "ListFilter",
                   "GroupField", "Group", "Numbers", "Aggregate"):  # fmt: skip
        yield c("GraphQL type", E + suffix, f"the type {E + suffix} of entity {E}")
    for prefix in ("Create", "Update"):
        yield c("GraphQL type", f"{prefix}{E}Input", f"the input of entity {E}")
    yield from _root_claims(e)
    for f in e.fields:
        where = f"fields.{f.name}"
        yield c(
            f"field of GraphQL type {E}", f.graphql_name, f"field {E}.{f.name}", where, f.source
        )
        yield c(f"attribute of {E}", f.attr, f"field {E}.{f.name}", where, f.source)
        yield c(f"column of table {e.table}", f.column, f"field {E}.{f.name}", where, f.source)
        if f.enum is not None:
            yield c("GraphQL type", f.enum.name, f"the enum of {E}.{f.name}", where, f.source)
            yield c("GraphQL type", f.enum.name + "Filter", f"the enum filter of {E}.{f.name}",
                    where, f.source)  # fmt: skip
            yield c("database table or type", f.enum.db_name, f"the enum type of {E}.{f.name}", where,
                    f.source)  # fmt: skip
    for r in e.relations:
        where = f"relations.{r.name}"
        yield c(f"field of GraphQL type {E}", r.graphql_name, f"relation {E}.{r.name}", where,
                r.source)  # fmt: skip
        if r.to_many:
            yield c(f"attribute of {E}", r.attr, f"relation {E}.{r.name}", where, r.source)
            yield from _nested_types(e, r, by_name)
        if r.join is not None:  # both sides of a pair claim the same join: one claim
            j = r.join
            ends = sorted([f"{j.left_table}.{j.left_column}", f"{j.right_table}.{j.right_column}"])
            what = f"the join table of {' and '.join(ends)}"
            yield c("database table or type", j.name, what, where, r.source)
    yield c("database table or type", e.table, f"the table of entity {E}")
    yield from _db_names(e)


def _root_claims(e: Entity) -> Iterator[Claim]:
    """The entity's root Query and Mutation fields."""
    src, E = e.source, e.name

    def c(ns: str, name: str, what: str) -> Claim:
        return Claim(ns, name, what, src, "entity")

    ops = {o.name: o for o in e.operations}
    plural = e.plural
    if "get" in ops:
        yield c("Query field", camel(E), f"the get field of entity {E}")
        for names in _unique_sets(e):
            suffix = "And".join(pascal(e.field(n).graphql_name) for n in names)
            yield c("Query field", f"{camel(E)}By{suffix}", f"the lookup of {E} by {names}")
    if "list" in ops:
        yield c("Query field", plural, f"the list field of entity {E}")
        yield c("Query field", f"{plural}Aggregate", f"the aggregate field of entity {E}")
    for op in ("create", "update", "delete"):
        if op in ops:
            yield c("Mutation field", f"{op}{E}", f"the {op} mutation of entity {E}")
            if not ops[op].queued:
                yield c("Mutation field", op + plural_tail(E), f"the bulk {op} of entity {E}")
    if all(o in ops and not ops[o].queued for o in ("create", "update")):
        for names in _unique_sets(e):
            suffix = "And".join(pascal(e.field(n).graphql_name) for n in names)
            yield c("Mutation field", f"upsert{E}By{suffix}", f"the upsert of {E} by {names}")


def _nested_types(e: Entity, r: Relation, by_name: dict[str, Entity]) -> Iterator[Claim]:
    where = f"relations.{r.name}"
    if r.kind == "many_to_many":
        name = f"{e.name}{pascal(r.name)}Links"
        yield Claim("GraphQL type", name, f"the links input of {e.name}.{r.name}", r.source, where)
    else:
        yield Claim("GraphQL type", f"{e.name}{pascal(r.name)}Nested",
                    f"the nested input of {e.name}.{r.name}", r.source, where)  # fmt: skip
        target = by_name.get(r.target)
        if target is not None:
            name = f"Create{target.name}Without{pascal(r.inverse or '')}Input"
            yield Claim("GraphQL type", name, f"the nested create input of {e.name}.{r.name}",
                        r.source, where)  # fmt: skip


def _unique_sets(e: Entity) -> list[tuple[str, ...]]:
    by_column = {f.column: f.name for f in e.fields}
    return [(f.name,) for f in e.fields if f.unique] + [
        tuple(by_column[c] for c in cols) for cols in e.unique_sets
    ]


def _db_names(e: Entity) -> Iterator[Claim]:
    """Constraint and index names as the naming convention of ``flowgen_runtime.core.db`` makes
    them (only their length can be a problem: each embeds its table and columns)."""
    t, src = e.table, e.source
    names = [f"pk_{t}"]
    for f in e.fields:
        checks = {
            "min": f.min is not None,
            "max": f.max is not None,
            "min_length": bool(f.min_length),
            "max_length": bool(f.max_length) and f.type == "text",
            "pattern": f.pattern is not None,
        }  # fmt: skip (as generator/render/pyexpr.py check_constraints makes them)
        names += [f"ck_{t}_{f.column}_{k}" for k, made in checks.items() if made]
        if f.unique:
            names.append(f"uq_{t}_{f.column}")
        elif f.index:
            names.append(f"ix_{t}_{f.column}")
        if f.foreign_key is not None:
            names.append(f"fk_{t}_{f.column}_{f.foreign_key.target_table}")
    names += [f"uq_{t}_{'_'.join(cols)}" for cols in e.unique_sets]
    names += [f"ix_{t}_{'_'.join(cols)}" for cols in e.indexes]
    for r in e.relations:
        if r.join is not None:
            j = r.join
            names += [f"ix_{j.name}_{j.right_column}", f"pk_{j.name}"]
            names += [f"fk_{j.name}_{j.left_column}_{j.left_table}"]
            names += [f"fk_{j.name}_{j.right_column}_{j.right_table}"]
    for n in names:
        yield Claim("database identifier", n, "a constraint or index name", src, "entity")


def _claims_queue(q: Queue) -> Iterator[Claim]:
    yield Claim("python module", f"queue:{q.module}", f"queue {q.name}", q.source, "queue")
    for j in q.jobs:
        if j.entity_job is not None:
            continue
        path, what = f"jobs.{j.name}", f"job {q.name}.{j.name}"
        yield Claim("Mutation field", f"enqueue{pascal(j.name)}", f"the mutation of {what}",
                    j.source, path)  # fmt: skip
        if j.payload:
            yield Claim("GraphQL type", f"{pascal(j.name)}Input", f"the input of {what}",
                        j.source, path)  # fmt: skip
        for f in j.payload:
            fpath = f"{path}.payload.{f.name}"
            yield Claim(f"field of GraphQL input {pascal(j.name)}Input", f.graphql_name,
                        f"payload field {j.name}.{f.name}", f.source, fpath)  # fmt: skip
            yield Claim(f"attribute of {j.class_name}", f.attr,
                        f"payload field {j.name}.{f.name}", f.source, fpath)  # fmt: skip
            if f.enum is not None:
                yield Claim("GraphQL type", f.enum.name, f"the enum of {what}.{f.name}",
                            f.source, fpath)  # fmt: skip


def _refusal(cl: Claim) -> tuple[str, str] | None:
    """Why a claim is refused on its own (message, hint), or None."""
    if cl.namespace == "GraphQL type" and cl.name in RESERVED:
        return f"{cl.what} would be named '{cl.name}', a reserved GraphQL name", "rename it"
    root = cl.namespace.split()[0]
    if cl.namespace.endswith(" field") and cl.name in RESERVED_ROOT.get(root, ()):
        return f"{cl.what} would be named '{cl.name}', a field every {root} has", "rename it"
    if cl.namespace == "python class" and cl.name in PY_RESERVED_CLASSES:
        why = "a Python keyword" if keyword.iskeyword(cl.name) else "a name the generated code uses"
        return f"entity '{cl.name}' would be a Python class named {cl.name}, {why}", (
            f"rename it, e.g. {cl.name}Item"
        )
    db = cl.namespace.startswith(("database", "column"))
    if db and len(cl.name.encode()) > PG_MAX_IDENTIFIER:
        return (
            f"{cl.what} would be '{cl.name}', {len(cl.name.encode())} bytes: PostgreSQL "
            f"identifiers are at most {PG_MAX_IDENTIFIER}",
            "use shorter names (`table:` / `through:` name a table)",
        )
    return None


def name_clashes(entities: list[Entity], queues: list[Queue]) -> list[SpecError]:
    """Every generated name that two spec objects would both define, or that is refused."""
    by_name = {e.name: e for e in entities}
    claims = [c for e in entities for c in _claims_entity(e, by_name)]
    claims += [c for q in queues for c in _claims_queue(q)]
    seen: dict[tuple[str, str], Claim] = {}
    errors: list[SpecError] = []
    too_long: set[tuple[str, ...]] = set()  # one length error per place is enough
    for cl in claims:
        at = (cl.source.file, cl.source.line, cl.source.col, cl.path)
        refused = _refusal(cl)
        key = (cl.namespace, cl.name)
        if refused is not None and cl.namespace == "database identifier":
            if (cl.source.file, cl.path, str(cl.source.line)) not in too_long:
                too_long.add((cl.source.file, cl.path, str(cl.source.line)))
                errors.append(SpecError(*at, *refused))
        elif refused is not None:
            errors.append(SpecError(*at, *refused))
        elif cl.namespace == "database identifier":
            continue  # only their length matters: each embeds its table and columns
        elif key in seen and seen[key].what != cl.what:
            first = seen[key]
            shown = cl.name.removeprefix("queue:")
            message = f"{cl.what} would be the {cl.namespace} '{shown}', already used by {first.what} ({first.source})"
            errors.append(SpecError(*at, message, "rename one of them"))
        else:
            seen.setdefault(key, cl)
    return errors


__all__ = ["name_clashes"]
