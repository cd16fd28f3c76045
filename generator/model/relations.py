"""Resolve relations across entities: foreign keys, inverses and join tables."""

from __future__ import annotations

from dataclasses import dataclass

from ..names import snake
from ..spec.diagnostics import suggest
from ..spec.models import EntitySpec, RelationSpec
from ..spec.yaml_source import YamlDoc
from .ir import Field, ForeignKey, JoinTable, Relation, ScalarType, Source
from .problems import Problems, source

_ON_DELETE = {"cascade": "CASCADE", "set_null": "SET NULL", "restrict": "RESTRICT"}


@dataclass
class Draft:
    """An entity being built: its spec, file, table and resolved scalar fields so far."""

    spec: EntitySpec
    doc: YamlDoc
    table: str
    fields: list[Field]

    @property
    def pk(self) -> Field:
        return next(f for f in self.fields if f.primary_key)


def _kind(spec: RelationSpec) -> tuple[str, str] | None:
    given = [(k, getattr(spec, k)) for k in ("belongs_to", "has_many", "many_to_many")]
    chosen = [(k, v) for k, v in given if v is not None]
    return chosen[0] if len(chosen) == 1 else None


def resolve_relations(
    drafts: dict[str, Draft], problems: Problems, *, broken: frozenset[str] | set[str] = frozenset()
) -> dict[str, list[Relation]]:
    """Return each entity's relations; belongs_to relations also append their FK field.
    Relations to ``broken`` entities (whose file failed validation) are skipped quietly."""
    out: dict[str, list[Relation]] = {name: [] for name in drafts}
    for name, d in drafts.items():
        for rel_name, spec in d.spec.relations.items():
            kind = _kind(spec)
            if kind is not None and kind[1] in broken:
                continue
            rel = _resolve_one(name, rel_name, spec, drafts, problems)
            if rel is not None:
                out[name].append(rel)
    return out


def _resolve_one(
    owner: str, rel_name: str, spec: RelationSpec, drafts: dict[str, Draft], problems: Problems
) -> Relation | None:
    d = drafts[owner]
    path = ("relations", rel_name)
    kind_target = _kind(spec)
    if kind_target is None:
        problems.add(
            d.doc, path, "a relation needs exactly one of belongs_to, has_many, many_to_many"
        )
        return None
    kind, target = kind_target
    if target not in drafts:
        problems.add(
            d.doc, (*path, kind), f"unknown entity '{target}'", suggest(target, list(drafts))
        )
        return None
    if rel_name in d.spec.fields:
        problems.add(d.doc, path, f"relation '{rel_name}' has the same name as a field", key=True)
        return None
    src = source(d.doc, path)
    if kind == "belongs_to":
        return _belongs_to(d, rel_name, spec, target, drafts[target], problems, src)
    if spec.on_delete is not None or spec.nullable:
        problems.add(d.doc, path, "`on_delete` and `nullable` apply to belongs_to only")
    if kind == "has_many":
        return _has_many(owner, d, rel_name, spec, target, drafts, problems, src)
    return _many_to_many(owner, d, rel_name, spec, target, drafts, problems, src)


def _belongs_to(
    d: Draft,
    rel_name: str,
    spec: RelationSpec,
    target: str,
    t: Draft,
    problems: Problems,
    src: Source,
) -> Relation | None:
    fk_name = f"{rel_name}_id"
    if fk_name in d.spec.fields:
        problems.add(
            d.doc, ("fields", fk_name), f"field '{fk_name}' clashes with relation '{rel_name}'",
            f"belongs_to {rel_name} creates the column {fk_name}", key=True,
        )  # fmt: skip
        return None
    on_delete = spec.on_delete or ("set_null" if spec.nullable else "restrict")
    if on_delete == "set_null" and not spec.nullable:
        problems.add(
            d.doc, ("relations", rel_name, "on_delete"),
            "on_delete: set_null needs nullable: true", "or use cascade / restrict",
        )  # fmt: skip
    if spec.inverse is not None or spec.through is not None:
        problems.add(
            d.doc, ("relations", rel_name), "`inverse` and `through` do not apply to belongs_to"
        )
    pk = t.pk
    d.fields.append(
        Field(
            name=fk_name,
            column=fk_name,
            type="uuid" if pk.id_kind == "uuid" else "int",
            nullable=spec.nullable,
            required=not spec.nullable,
            index=True,
            description=spec.description,
            foreign_key=ForeignKey(rel_name, target, t.table, pk.column, _ON_DELETE[on_delete]),  # type: ignore[arg-type]
            renamed_from=f"{spec.renamed_from}_id" if spec.renamed_from else None,
            source=src,
        )
    )
    return Relation(
        rel_name, "belongs_to", target, nullable=spec.nullable, fk=fk_name,
        description=spec.description, source=src,
    )  # fmt: skip


def _has_many(
    owner: str, d: Draft, rel_name: str, spec: RelationSpec, target: str,
    drafts: dict[str, Draft], problems: Problems, src: Source,
) -> Relation | None:  # fmt: skip
    t: Draft = drafts[target]
    candidates = [n for n, r in t.spec.relations.items() if r.belongs_to == owner]
    path = ("relations", rel_name)
    if spec.inverse is not None:
        if spec.inverse not in candidates:
            problems.add(
                d.doc, (*path, "inverse"),
                f"{target} has no belongs_to {owner} named '{spec.inverse}'",
                suggest(spec.inverse, candidates) or _add_hint(owner, candidates),
            )  # fmt: skip
            return None
        inverse = spec.inverse
    elif len(candidates) == 1:
        inverse = candidates[0]
    else:
        hint = (
            _add_hint(owner, candidates)
            if not candidates
            else "set inverse: one of " + ", ".join(candidates)
        )
        problems.add(
            d.doc,
            (*path, "has_many"),
            f"cannot tell which {target} relation points back to {owner}",
            hint,
        )
        return None
    return Relation(
        rel_name, "has_many", target, fk=f"{inverse}_id", inverse=inverse,
        description=spec.description, source=src,
    )  # fmt: skip


def _add_hint(owner: str, candidates: list[str]) -> str:
    return f"add `{snake(owner)}: {{belongs_to: {owner}}}` to the target" if not candidates else ""


def _many_to_many(
    owner: str, d: Draft, rel_name: str, spec: RelationSpec, target: str,
    drafts: dict[str, Draft], problems: Problems, src: Source,
) -> Relation | None:  # fmt: skip
    t: Draft = drafts[target]
    back = {
        n: r for n, r in t.spec.relations.items()
        if r.many_to_many == owner and not (target == owner and n == rel_name)
    }  # fmt: skip
    path = ("relations", rel_name)
    counterpart: str | None = None
    if spec.inverse is not None:
        if spec.inverse not in back:
            problems.add(
                d.doc, (*path, "inverse"), f"{target} has no many_to_many {owner} named '{spec.inverse}'",
                suggest(spec.inverse, list(back)),
            )  # fmt: skip
            return None
        counterpart = spec.inverse
    else:
        pointing = [n for n, r in back.items() if r.inverse in (None, rel_name)]
        mine = [n for n, r in back.items() if r.inverse == rel_name]
        counterpart = mine[0] if mine else (pointing[0] if len(pointing) == 1 else None)
    other = back.get(counterpart) if counterpart else None
    if other is not None and spec.through and other.through and spec.through != other.through:
        problems.add(
            d.doc, (*path, "through"),
            f"join table '{spec.through}' differs from '{other.through}' on {target}.{counterpart}",
        )  # fmt: skip
        return None
    # one side owns the join (its columns are named from it): the side naming `through`;
    # when neither does, the first by (entity, relation); when both do, the last (what the
    # join table of such a pair has always been, so existing apps keep their layout)
    me, them = (owner, rel_name), (target, counterpart or "")
    i_own = (
        other is None
        or (bool(spec.through) and not other.through)
        or (not spec.through and not other.through and me <= them)
        or (bool(spec.through) and bool(other.through) and me >= them)
    )
    left, left_rel = (owner, rel_name) if i_own else (target, counterpart or "")
    right = target if i_own else owner
    name = spec.through or (other.through if other else None) or f"{drafts[left].table}_{left_rel}"
    lcol, rcol = f"{snake(left)}_id", f"{snake(right)}_id"
    if lcol == rcol:
        lcol, rcol = f"{snake(left)}_id", f"{snake(left_rel)}_id"
    join = JoinTable(
        name, drafts[left].table, lcol, _pk_type(drafts[left]),
        drafts[right].table, rcol, _pk_type(drafts[right]),
        drafts[left].pk.column, drafts[right].pk.column,
    )  # fmt: skip
    mine_col, theirs_col = (lcol, rcol) if i_own else (rcol, lcol)
    return Relation(
        rel_name, "many_to_many", target, inverse=counterpart, join=join,
        join_self_column=mine_col, join_target_column=theirs_col,
        description=spec.description, source=src,
    )  # fmt: skip


def _pk_type(d: Draft) -> ScalarType:
    return "uuid" if d.pk.id_kind == "uuid" else "int"
