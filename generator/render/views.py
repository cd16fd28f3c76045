"""Per-target view-models: everything a template prints, computed here in Python.

Templates receive one of these and only loop and lay out text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from keyword import iskeyword

from ..model.ir import App, Entity, Field, Job, Queue, Relation
from ..names import camel, pascal, py_module, snake
from . import pyexpr as p
from . import sdl as g
from .access import (
    hideable,
    job_grants_literal,
    permissions_literal,
    preset_fields,
    relation_always_visible,
)
from .api_views import ApiView, api_view


@dataclass(frozen=True)
class ColumnView:
    attr: str
    annotation: str
    call: str


@dataclass(frozen=True)
class InputView:
    name: str
    attr: str
    gql_name: str
    annotation: str
    update_annotation: str
    call: str
    update_call: str
    gql_create: str
    gql_update: str
    description: str
    non_null: bool


@dataclass(frozen=True)
class GqlFieldView:
    name: str
    type: str
    args: str
    description: str


@dataclass(frozen=True)
class RelationView:
    name: str
    gql_name: str
    kind: str
    target: str
    target_module: str
    fk: str
    join_table: str
    self_column: str
    target_column: str


@dataclass(frozen=True)
class EnumView:
    name: str
    values: tuple[tuple[str, str], ...]  # (GRAPHQL_NAME, stored value)


@dataclass(frozen=True)
class EntityView:
    e: Entity
    name: str
    module: str
    table: str
    plural: str
    plural_module: str
    pk: str
    pk_type: str
    columns: tuple[ColumnView, ...]
    checks: tuple[tuple[str, str], ...]
    sqlite_autoincrement: bool  # integer ids: SQLite never reuses one (AUTOINCREMENT)
    unique_sets: tuple[tuple[str, ...], ...]
    indexes: tuple[tuple[str, tuple[str, ...]], ...]
    unique_constraints: tuple[tuple[str, tuple[str, ...]], ...]
    gql_fields: tuple[GqlFieldView, ...]
    inputs: tuple[InputView, ...]
    relations: tuple[RelationView, ...]
    enums: tuple[EnumView, ...]
    ops: dict[str, str]  # op -> "" (in request) or queue name (queued)
    cache_ttl: str
    field_names: tuple[str, ...]
    non_nullable: tuple[str, ...]
    api: ApiView
    page_args: str
    permissions: str
    row_fields: tuple[tuple[str, str], ...] = ()
    """(field, Python type) of the entity's row TypedDict."""
    row_as_class: bool = True
    """Every row key is a Python name (not a keyword): the TypedDict in class syntax."""


def enum_view(f: Field) -> EnumView:
    assert f.enum is not None
    return EnumView(f.enum.name, tuple((g.enum_value(v), v) for v in f.enum.values))


def _input(f: Field) -> InputView:
    return InputView(
        name=f.name,
        attr=f.attr,
        gql_name=f.graphql_name,
        annotation=p.input_annotation(f),
        update_annotation=p.input_annotation(f, update=True),
        call=p.input_field_call(f),
        update_call=p.input_field_call(f, update=True),
        gql_create=g.gql_input_type(f),
        gql_update=g.gql_input_type(f, update=True),
        description=f.description or "",
        non_null=not f.nullable,
    )


def _relation(r: Relation, app: App) -> RelationView:
    return RelationView(
        name=r.name,
        gql_name=r.graphql_name,
        kind=r.kind,
        target=r.target,
        target_module=app.entity(r.target).module,
        fk=r.fk or "",
        join_table=r.join.name if r.join else "",
        self_column=r.join_self_column or "",
        target_column=r.join_target_column or "",
    )


def _relation_field(r: Relation, app: App) -> GqlFieldView:
    if r.kind == "belongs_to":
        # non-null only if every caller may read the target: otherwise it reads as null
        required = not r.nullable and relation_always_visible(app, r.target)
        return GqlFieldView(
            r.graphql_name, r.target + ("!" if required else ""), "", r.description or ""
        )
    return GqlFieldView(
        r.graphql_name, f"{r.target}Connection!", page_args(r.target), r.description or ""
    )


def page_args(entity: str) -> str:
    """Arguments of every paginated field (root lists and to-many relations)."""
    return (
        f"(where: {entity}Where, orderBy: [{entity}OrderBy!], "
        "first: Int, after: String, last: Int, before: String)"
    )


def entity_view(e: Entity, app: App) -> EntityView:
    hidden = hideable(e)
    presets = preset_fields(e)
    fields = e.fields
    checks = tuple(c for f in fields for c in p.check_constraints(f))
    uniques: list[tuple[str, tuple[str, ...]]] = [
        (f"uq_{e.table}_{f.column}", (f.name,)) for f in fields if f.unique
    ]
    uniques += [(f"uq_{e.table}_{'_'.join(s)}", s) for s in e.unique_sets]
    return EntityView(
        e=e,
        name=e.name,
        module=e.module,
        table=e.table,
        plural=e.plural,
        plural_module=py_module(snake(e.plural)),
        pk=e.pk.name,
        pk_type="uuid" if e.pk.id_kind == "uuid" else "int",
        row_fields=tuple(
            (f.name, f"{p.py_type(f)}{' | None' if f.nullable else ''}") for f in fields
        ),
        row_as_class=all(f.name.isidentifier() and not iskeyword(f.name) for f in fields),
        columns=tuple(
            ColumnView(
                f.attr, f"Mapped[{p.py_type(f)}{' | None' if f.nullable else ''}]", p.column_call(f)
            )
            for f in fields
        ),
        checks=checks,
        sqlite_autoincrement=e.pk.id_kind != "uuid",
        unique_sets=e.unique_sets,
        indexes=tuple((f"ix_{e.table}_{'_'.join(cols)}", cols) for cols in e.indexes),
        unique_constraints=tuple(uniques),
        gql_fields=tuple(
            GqlFieldView(
                f.graphql_name,
                g.gql_named(f) if f.name in hidden else g.gql_type(f),
                "",
                f.description or "",
            )
            for f in fields
        )
        + tuple(_relation_field(r, app) for r in e.relations)
        + tuple(
            GqlFieldView(
                c.graphql_name,
                g.GQL_SCALARS.get(c.type, "ID") + ("" if c.nullable else "!"),
                "",
                c.description or "",
            )
            for c in e.computed
        ),
        # a field some role gets preset from its token is optional in the input
        inputs=tuple(
            _input(replace(f, required=False) if f.name in presets else f)
            for f in fields
            if not f.is_auto
        ),
        relations=tuple(_relation(r, app) for r in e.relations),
        enums=tuple(enum_view(f) for f in fields if f.enum),
        ops={o.name: (o.queue or "") for o in e.operations},
        cache_ttl=repr(e.cache_ttl),
        field_names=tuple(f.name for f in fields),
        non_nullable=tuple(f.attr for f in fields if not f.nullable and not f.is_auto),
        api=api_view(e, app, _input),
        page_args=page_args(e.name),
        permissions=permissions_literal(e),
    )


@dataclass(frozen=True)
class JobView:
    j: Job
    name: str
    gql_mutation: str
    gql_input: str
    class_name: str
    handler: str
    inputs: tuple[InputView, ...]
    enums: tuple[EnumView, ...]
    entity: str
    entity_module: str
    operation: str
    options: str
    schedule: str
    grants: str


@dataclass(frozen=True)
class QueueView:
    q: Queue
    name: str
    module: str
    concurrency: int
    rate_limit: str
    jobs: tuple[JobView, ...]
    user_jobs: tuple[JobView, ...]


def _options_expr(j: Job) -> str:
    o = j.options
    parts = [f"attempts={o.attempts}"]
    if o.backoff:
        parts.append(f"backoff={p.backoff_call(o.backoff)}")
    if o.delay_ms:
        parts.append(f"delay_ms={o.delay_ms}")
    if o.priority:
        parts.append(f"priority={o.priority}")
    if o.timeout_ms:
        parts.append(f"timeout_ms={o.timeout_ms}")
    for key in ("remove_on_complete", "remove_on_fail"):
        r = getattr(o, key)
        if r is not None:
            parts.append(f"{key}=Retention(count={r.count!r}, age_s={r.age_s!r})")
    return f"JobOptions({', '.join(parts)})"


def job_view(j: Job) -> JobView:
    ej = j.entity_job
    schedule = ""
    if j.schedule is not None:
        schedule = f"Schedule(cron={j.schedule.cron!r}, every_ms={j.schedule.every_ms!r})"
    return JobView(
        j=j,
        name=j.name,
        gql_mutation=f"enqueue{pascal(j.name)}" if ej is None else "",
        gql_input=f"{pascal(j.name)}Input",
        class_name=j.class_name,
        handler=j.handler or "",
        inputs=tuple(_input(f) for f in j.payload),
        enums=tuple(enum_view(f) for f in j.payload if f.enum),
        entity=ej.entity if ej else "",
        entity_module=py_module(snake(ej.entity)) if ej else "",
        operation=ej.operation if ej else "",
        options=_options_expr(j),
        schedule=schedule,
        grants=job_grants_literal(j),
    )


def queue_view(q: Queue) -> QueueView:
    jobs = tuple(job_view(j) for j in q.jobs)
    rate = (
        f"RateLimit(max={q.rate_limit.max}, duration_ms={q.rate_limit.duration_ms})"
        if q.rate_limit
        else "None"
    )
    return QueueView(
        q=q,
        name=q.name,
        module=q.module,
        concurrency=q.concurrency,
        rate_limit=rate,
        jobs=jobs,
        user_jobs=tuple(j for j in jobs if not j.entity),
    )


@dataclass(frozen=True)
class AppView:
    app: App
    name: str
    entities: tuple[EntityView, ...]
    queues: tuple[QueueView, ...]
    join_tables: tuple[tuple[str, str, str, str, str, str, str, str], ...]
    """(table, left column, left reference, left type, right ..., Python name)"""
    max_page_size: int
    default_page_size: int
    package: str = "generated"
    """The generated package's import name (the output folder's name)."""
    extensions_call: str = "Extensions()"
    """The registry's ``Extensions(...)``: the app's own code (see pyexpr.extensions_call)."""


def app_view(app: App, package: str = "generated") -> AppView:
    entities = tuple(entity_view(e, app) for e in app.entities)
    queues = tuple(queue_view(q) for q in app.queues)
    joins = tuple(
        (
            j.name,
            j.left_column,
            f"{j.left_table}.{j.left_pk}",
            _sa_fk_type(j.left_type),
            j.right_column,
            f"{j.right_table}.{j.right_pk}",
            _sa_fk_type(j.right_type),
            py_module(j.name) if j.name not in _BASE_NAMES else j.name + "_",
        )  # fmt: skip
        for j in app.join_tables
    )
    return AppView(
        app, app.name, entities, queues, joins, app.max_page_size, app.default_page_size,
        package, p.extensions_call(app),
    )  # fmt: skip


_BASE_NAMES = {"Base", "JSON_TYPE", "JOIN_TABLES", "OUTBOX", "DeclarativeBase", "outbox_table"}


def _sa_fk_type(t: str) -> str:
    return "sa.Uuid()" if t == "uuid" else "sa.Integer()"


__all__ = ["AppView", "EntityView", "QueueView", "app_view", "camel"]
