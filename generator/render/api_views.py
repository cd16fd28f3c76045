"""View-models of the query API: filters, ordering, lookups, aggregates, nested inputs.

>>> # Exam.slug (unique string) -> lookup examBySlug(slug: String!), filter slug: StringFilter
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.ir import App, Entity, Field, Relation
from ..names import camel, pascal
from . import sdl as g

_FILTERS = {
    "string": "StringFilter", "text": "StringFilter", "int": "IntFilter", "float": "FloatFilter",
    "decimal": "DecimalFilter", "bool": "BooleanFilter", "date": "DateFilter",
    "datetime": "DateTimeFilter", "json": "JSONFilter", "uuid": "UUIDFilter",
}  # fmt: skip
NUMERIC = {"int", "float", "decimal"}


@dataclass(frozen=True)
class NamedType:
    gql_name: str
    type: str


@dataclass(frozen=True)
class LookupView:
    field: str  # GraphQL query field, e.g. examBySlug
    resolver: str  # python function name
    args: tuple[tuple[str, str, str], ...]  # (gql arg, python name, GraphQL type)
    upsert: str  # mutation name, e.g. upsertExamBySlug


@dataclass(frozen=True)
class NestedView:
    """A relation writable from the parent's create/update input."""

    relation: str
    gql_name: str
    attr: str  # the Python attribute; ``default`` its default (an alias when they differ)
    default: str
    kind: str
    type_name: str  # ExamQuestionsNested / CourseStudentsLinks
    create_type: str  # CreateQuestionWithoutExamInput ("" for many_to_many)
    disconnect: bool
    target_inputs: tuple[object, ...]  # InputView of the target, foreign key left out
    target_non_nullable: tuple[str, ...]


@dataclass(frozen=True)
class ApiView:
    filters: tuple[NamedType, ...]
    order_fields: tuple[tuple[str, str], ...]  # (GRAPHQL_VALUE, field)
    group_fields: tuple[tuple[str, str], ...]
    group_types: tuple[NamedType, ...]
    numeric: tuple[str, ...]  # GraphQL names of aggregatable fields
    lookups: tuple[LookupView, ...]
    nested: tuple[NestedView, ...]
    field_types: tuple[tuple[str, str], ...]


def _filter_type(f: Field) -> str:
    if f.primary_key or f.foreign_key is not None:
        return "IDFilter"
    if f.enum is not None:
        return f"{f.enum.name}Filter"
    return _FILTERS[f.value_type]


def value_kind(f: Field) -> str:
    """The runtime's value type of a field (ids and foreign keys: int or uuid)."""
    return "enum" if f.enum is not None else f.value_type


def _lookups(e: Entity) -> tuple[LookupView, ...]:
    sets = [(f.name,) for f in e.fields if f.unique] + [
        tuple(next(f.name for f in e.fields if f.column == c) for c in cols)
        for cols in e.unique_sets
    ]
    out = []
    for names in sets:
        fields = [e.field(n) for n in names]
        suffix = "And".join(pascal(f.graphql_name) for f in fields)
        args = tuple((f.graphql_name, f.name, g.gql_named(f) + "!") for f in fields)
        out.append(
            LookupView(
                f"{camel(e.name)}By{suffix}",
                f"resolve_{e.module}_by_{'_and_'.join(names)}",
                args,
                f"upsert{e.name}By{suffix}",
            )
        )
    return tuple(out)


def _nested(e: Entity, r: Relation, app: App, input_view: object) -> NestedView | None:
    if r.kind == "belongs_to":
        return None
    target = app.entity(r.target)
    if r.kind == "many_to_many":
        return NestedView(
            r.name, r.graphql_name, r.attr, _default(r), r.kind,
            f"{e.name}{pascal(r.name)}Links", "", True, (), (),
        )  # fmt: skip
    fk = target.field(r.fk or "")
    inputs = tuple(input_view(f) for f in target.fields if not f.is_auto and f.name != fk.name)  # type: ignore[operator]
    non_null = tuple(
        f.attr for f in target.fields if not f.nullable and not f.is_auto and f.name != fk.name
    )
    return NestedView(
        r.name, r.graphql_name, r.attr, _default(r), r.kind, f"{e.name}{pascal(r.name)}Nested",
        f"Create{target.name}Without{pascal(r.inverse or '')}Input", fk.nullable, inputs, non_null,
    )  # fmt: skip


def _default(r: Relation) -> str:
    return "None" if r.attr == r.name else f"Field(default=None, alias={r.name!r})"


def api_view(e: Entity, app: App, input_view: object) -> ApiView:
    plain = [f for f in e.fields if f.value_type != "json"]
    numeric = [
        f
        for f in e.fields
        if f.value_type in NUMERIC and not f.primary_key and f.foreign_key is None
    ]
    return ApiView(
        filters=tuple(NamedType(f.graphql_name, _filter_type(f)) for f in e.fields)
        + tuple(
            NamedType(
                r.graphql_name,
                f"{r.target}Where" if r.kind == "belongs_to" else f"{r.target}ListFilter",
            )
            for r in e.relations
        ),
        order_fields=tuple((g.enum_value(f.name), f.name) for f in plain),
        group_fields=tuple((g.enum_value(f.name), f.name) for f in plain if not f.primary_key),
        group_types=tuple(
            NamedType(f.graphql_name, g.gql_named(f)) for f in plain if not f.primary_key
        ),
        numeric=tuple(f.graphql_name for f in numeric),
        lookups=_lookups(e),
        nested=tuple(n for r in e.relations if (n := _nested(e, r, app, input_view)) is not None),
        field_types=tuple((f.name, value_kind(f)) for f in e.fields),
    )
