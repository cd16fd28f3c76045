"""Compile a plan into one PostgreSQL statement that returns the whole ``data`` as JSON.

PostGraphile's approach: instead of one statement per level plus Python work per row, the
tree of the query becomes nested ``json_build_object`` / ``json_agg`` subqueries, and the
database hands back the finished document. Every read goes through the same builders as
the services (:func:`~..query.pages.page_query`, :func:`~..query.filters.visible`), so the
caller's row rules, ``where``, ``orderBy``, cursors and page sizes mean the same thing; each
scalar is formatted in SQL exactly as the GraphQL scalar serializes it in Python.

A plan compiles when every resolver it calls is a generated read (marked with
:func:`~flowgen_runtime.graphql.schema.reads`) and every object field is a column (a hidden one
reads as null, as the services mask it); connections may ask for ``nodes``, ``edges``
(``node``, ``cursor``), ``pageInfo`` and ``totalCount``. Otherwise :func:`compile_sql`
returns None and the plan runs on the services (:mod:`.run`). Compiling needs the caller
(its row rules are in the SQL), so the executor caches statements per document,
operation, variables and what the caller may read; a variable that only feeds a root ``get``/lookup
argument is a bound parameter instead (:class:`Lifted`), so one statement serves all its
values.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.data.query.filters import Scope, visible
from flowgen_runtime.data.query.order import Ordering
from flowgen_runtime.data.query.pages import page_query
from flowgen_runtime.data.query.values import coerce
from flowgen_runtime.graphql.execution.plan import FieldPlan, ObjectPlan, Plan, Unsupported
from flowgen_runtime.graphql.schema import Read
from graphql import GraphQLEnumType, get_named_type
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

_MAX_PAIRS = 50  # json_build_object takes at most 100 arguments


@dataclass(frozen=True)
class SqlPlan:
    sql: str
    params: tuple[Any, ...]
    cursors: Mapping[tuple[str, ...], Cursors]
    """Cursor fields (by path): the statement gives the row's ordering values, and
    :func:`finish` encodes them with the ordering, as the services do."""
    lifted: tuple[Lifted, ...] = ()

    def bind(self, variables: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters for these variable values (lifted ones converted as the
        services would; a value they refuse raises, and the services answer)."""
        if not self.lifted:
            return self.params
        params = list(self.params)
        for lift in self.lifted:
            value = lift.convert(variables[lift.variable])
            params[lift.index] = lift.process(value) if lift.process is not None else value
        return tuple(params)


@dataclass(frozen=True)
class Lifted:
    """A statement parameter taken from a variable: ``user(id: $id)``."""

    index: int
    variable: str
    convert: Callable[[Any], Any]
    process: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Cursors:
    order: Ordering
    floats: tuple[bool, ...]
    """Which ordering values are floats (JSON from SQL writes ``53.0`` as ``53``)."""

    def encode(self, values: list[Any]) -> str:
        fixed = [
            float(v) if is_float and v is not None else v
            for v, is_float in zip(values, self.floats, strict=True)
        ]
        return self.order.encode_values(fixed)


class BadValue(Exception):
    """A lifted variable's value the services refuse (the statement is fine for others)."""


def compile_sql(plan: Plan, ctx: Any, dialect: Any) -> SqlPlan | None:
    """One statement answering ``plan`` (and every plan differing only in its lifted
    variables) for the caller of ``ctx``, or None. Raises :class:`BadValue` when only
    this plan's lifted values are at fault."""
    if dialect.name != "postgresql":
        return None
    builder = _Builder(ctx, plan)
    try:
        data = builder.root(plan.root)
    except BadValue:
        raise
    except Exception:  # noqa: BLE001 - refused access, bad arguments...: the services report it
        return None
    stmt = sa.select(sa.cast(data, sa.Text))
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors = _processors(compiled, dialect)
    params = compiled.construct_params()
    values = []
    lifted = []
    for index, name in enumerate(compiled.positiontup or ()):
        value = params[name]
        process = processors.get(name)
        values.append(process(value) if process is not None else value)
        if name in builder.lifted:
            variable, convert = builder.lifted[name]
            lifted.append(Lifted(index, variable, convert, process))
    return SqlPlan(compiled.string, tuple(values), builder.cursors, tuple(lifted))


def finish(plan: ObjectPlan, data: Any, cursors: Mapping[tuple[str, ...], Cursors]) -> bool:
    """Check and complete ``data`` decoded from the statement's JSON, in place.

    False when a non-null field is null (graphql-core would report an error there: for
    instance a required relation whose row the caller may not read). ``Float`` values that
    JSON wrote without a fraction (``51``) become floats again, as Python serializes them.
    """
    if data is None:
        return True
    for item in data if isinstance(data, list) else [data]:
        for field in plan.fields:
            value = item[field.key]
            if value is None:
                if field.non_null:
                    return False
            elif field.sub is not None:
                if not finish(field.sub, value, cursors):
                    return False
            elif field.path in cursors:
                item[field.key] = cursors[field.path].encode(value)
            elif field.is_float:
                item[field.key] = _floats(value)
    return True


def _floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _Builder:
    def __init__(self, ctx: Any, plan: Plan) -> None:
        self.ctx = ctx
        self.args_of = plan.args_of
        self.registry = ctx.registry
        self.scope = Scope(ctx.registry, ctx)
        self._names = itertools.count()
        self.cursors: dict[tuple[str, ...], Cursors] = {}
        self.liftable = plan.lifted
        self.lifted: dict[str, tuple[str, Callable[[Any], Any]]] = {}
        """Bound parameter name -> (variable, conversion of its value)."""

    def alias(self, meta: Any) -> Any:
        return meta.table.alias(f"t{next(self._names)}")

    def root(self, plan: ObjectPlan) -> ColumnElement[Any]:
        pairs: list[Any] = []
        for field in plan.fields:
            pairs += [sa.literal(field.key), self.root_field(field)]
        return _object(pairs)

    def root_field(self, field: FieldPlan) -> Any:
        if field.typename is not None:
            return sa.literal(field.typename)
        read = _read(field)
        service = self.registry.services[read.entity]
        meta = service.meta
        self.ctx.access(meta, "read")  # raises: the services report the refusal
        args = dict(self.args_of(field))
        sub = field.sub
        assert sub is not None
        if read.kind == "list":
            return self.connection(meta, sub, args, None)
        if read.kind == "lookup" and set(args) & self.ctx.hidden(meta):
            raise LookupError("a lookup by a hidden field")  # the services refuse it
        t = self.alias(meta)
        conds = [visible(self.scope, meta, t, {}, [])]
        for arg, raw in args.items():
            column = meta.pk if read.kind == "get" else arg
            convert: Callable[[Any], Any] = (
                service.parse_id
                if read.kind == "get"
                else functools.partial(coerce, meta.field_types[column], path=[column])
            )
            variable = (field.variables or {}).get(arg)
            if variable not in self.liftable:
                conds.append(t.c[column] == convert(raw))
                continue
            try:
                value = convert(raw)
            except Exception as exc:
                raise BadValue(variable) from exc
            name = f"lift_{variable}"
            self.lifted[name] = (variable, convert)
            conds.append(t.c[column] == sa.bindparam(name, value, type_=t.c[column].type))
        cond = sa.and_(*conds)
        return sa.select(self.entity(meta, sub, t)).where(cond).scalar_subquery()

    def entity(self, meta: Any, plan: ObjectPlan, t: Any) -> ColumnElement[Any]:
        """The JSON object of one row of ``t`` (an alias of ``meta``'s table)."""
        hidden = self.ctx.hidden(meta)
        pairs: list[Any] = []
        for field in plan.fields:
            if field.typename is not None:
                value: Any = sa.literal(field.typename)
            elif field.attr is not None:
                if field.attr not in meta.field_types or (field.attr in hidden and field.non_null):
                    raise Unsupported(f"{meta.name}.{field.name}")  # (an error, for graphql-core)
                # a hidden field reads as null, as the services mask it
                value = (
                    sa.null() if field.attr in hidden else self.column(meta, field, t.c[field.attr])
                )
            else:
                read = _read(field)
                if read.kind != "relation" or read.entity != meta.name:
                    raise Unsupported(f"{meta.name}.{field.name}")
                value = self.relation(meta, meta.relations[read.relation], field, t)
            pairs += [sa.literal(field.key), value]
        return _object(pairs)

    def column(self, meta: Any, field: FieldPlan, col: Any) -> Any:
        named = get_named_type(field.return_type)
        kind = meta.field_types[field.attr]
        if isinstance(named, GraphQLEnumType):
            names = {v.value: name for name, v in named.values.items()}
            return sa.case(*((col == value, sa.literal(name)) for value, name in names.items()))
        format_ = _FORMATS.get(named.name)
        if format_ is None or (named.name == "ID" and kind not in ("int", "uuid")):
            raise Unsupported(f"{meta.name}.{field.name}: {named.name}")
        return format_(col)

    def relation(self, meta: Any, rel: Any, field: FieldPlan, t: Any) -> Any:
        target = self.registry.services[rel.target].meta
        self.ctx.access(target, "read")
        sub = field.sub
        assert sub is not None
        if rel.kind == "belongs_to":
            t1 = self.alias(target)
            cond = sa.and_(t1.c[target.pk] == t.c[rel.fk], visible(self.scope, target, t1, {}, []))
            return sa.select(self.entity(target, sub, t1)).where(cond).scalar_subquery()
        return self.connection(target, sub, dict(self.args_of(field)), (rel, meta, t))

    def connection(
        self, meta: Any, plan: ObjectPlan, args: Mapping[str, Any], parent: Any
    ) -> ColumnElement[Any]:
        """A Relay connection: the page's rows are one derived table (one extra row tells
        whether there is more), aggregated into ``nodes``/``edges``/``pageInfo``;
        ``totalCount`` is its own count. A cursor is the row's ordering values, encoded
        by :func:`finish`."""
        t = self.alias(meta)
        stmt, _where, order, page, _ = page_query(self.scope, meta, args, (meta.pk,), t)
        values = _cursor_values(meta, order, t)
        columns: list[Any] = []  # JSON of the rows, one column per selection of them
        pairs: list[Any] = []
        wants_more = False
        for field in plan.fields:
            if field.typename is not None:
                pairs += [sa.literal(field.key), sa.literal(field.typename)]
            elif field.attr == "total_count":
                pairs += [sa.literal(field.key), self.count(meta, args, parent)]
            elif field.attr in ("nodes", "edges") and field.sub is not None:
                label = f"j{len(columns)}"
                row = (
                    self.entity(meta, field.sub, t)
                    if field.attr == "nodes"
                    else self.edge(meta, field.sub, t, values, order)
                )
                columns.append(row.label(label))
                pairs += [sa.literal(field.key), label]
            elif field.attr == "page_info" and field.sub is not None:
                wants_more = True
                pairs += [sa.literal(field.key), field.sub]
            else:
                raise Unsupported(f"{meta.name} connection {field.name}")
        if not columns and not wants_more:
            return _object(pairs)
        walk = order.reversed() if page.backward else order
        rn = sa.func.row_number().over(order_by=walk.clauses(t)).label("rn")
        if _asks_cursors(plan):
            columns.append(values.label("c"))
        rows = self.linked(stmt, t, meta, parent).with_only_columns(*columns, rn)
        inner = rows.limit(page.size + 1 if wants_more else page.size).subquery()
        by = inner.c.rn.desc() if page.backward else inner.c.rn
        in_page = inner.c.rn <= page.size

        def aggregated(column: Any) -> Any:
            agg = sa.func.json_agg(aggregate_order_by(column, by)).filter(in_page)
            return sa.func.coalesce(agg, sa.text("'[]'::json"))

        page_facts = {
            "more": sa.func.count() > page.size,
            "at_edge": sa.literal(page.cursor is not None),
            "cursors": aggregated(inner.c.c) if "c" in inner.c else None,
        }
        out: list[Any] = []
        for key, value in zip(pairs[::2], pairs[1::2], strict=True):
            if isinstance(value, str):  # a rows column: aggregated in order
                value = aggregated(inner.c[value])
            elif isinstance(value, ObjectPlan):
                value = self.page_info(value, page_facts, page.backward, _codec(meta, order))
            out += [key, value]
        return sa.select(_object(out)).select_from(inner).scalar_subquery()

    def edge(
        self, meta: Any, plan: ObjectPlan, t: Any, values: Any, order: Ordering
    ) -> ColumnElement[Any]:
        pairs: list[Any] = []
        for field in plan.fields:
            if field.typename is not None:
                value: Any = sa.literal(field.typename)
            elif field.attr == "node" and field.sub is not None:
                value = self.entity(meta, field.sub, t)
            elif field.attr == "cursor":
                value = values
                self.cursors[field.path] = _codec(meta, order)
            else:
                raise Unsupported(f"{meta.name} edge {field.name}")
            pairs += [sa.literal(field.key), value]
        return _object(pairs)

    def page_info(
        self, plan: ObjectPlan, facts: Mapping[str, Any], backward: bool, codec: Cursors
    ) -> Any:
        more, at_edge, cursors = facts["more"], facts["at_edge"], facts["cursors"]
        values = {
            "has_next_page": at_edge if backward else more,
            "has_previous_page": more if backward else at_edge,
            "start_cursor": None if cursors is None else cursors.op("->")(0),
            "end_cursor": None if cursors is None else cursors.op("->")(-1),
        }
        pairs: list[Any] = []
        for field in plan.fields:
            if field.typename is not None:
                value: Any = sa.literal(field.typename)
            elif field.attr in values:
                value = values[field.attr]
                if field.attr.endswith("_cursor"):
                    self.cursors[field.path] = codec
            else:
                raise Unsupported(f"pageInfo {field.name}")
            pairs += [sa.literal(field.key), value]
        return _object(pairs)

    def count(self, meta: Any, args: Mapping[str, Any], parent: Any) -> Any:
        t = self.alias(meta)
        where = visible(self.scope, meta, t, args.get("where"), ["where"])
        stmt = self.linked(sa.select(sa.func.count()).select_from(t), t, meta, parent)
        return stmt.where(where).scalar_subquery()

    def linked(self, stmt: Any, t: Any, meta: Any, parent: Any) -> Any:
        """``stmt`` on ``t`` restricted to the children of the parent row, if any."""
        if parent is None:
            return stmt
        rel, owner, pt = parent
        # explicit: the rows are a derived table (FROM), where nothing correlates by itself
        stmt = stmt.correlate(pt)
        if rel.kind == "has_many":
            return stmt.where(t.c[rel.fk] == pt.c[owner.pk])
        link = self.registry.metadata.tables[rel.join_table].alias(f"l{next(self._names)}")
        return stmt.join(link, link.c[rel.target_column] == t.c[meta.pk]).where(
            link.c[rel.self_column] == pt.c[owner.pk]
        )


def _processors(compiled: Any, dialect: Any) -> dict[str, Any]:
    """Each positional parameter's conversion to what the driver takes, by public API: the
    bind's type, as the dialect implements it. ``render_postcompile`` expands ``IN`` lists
    into ``<bind>_1``, ``<bind>_2`` ... (not in ``compiled.binds``)."""
    out: dict[str, Any] = {}
    for name in compiled.positiontup or ():
        bind = compiled.binds.get(name)
        if bind is None:  # an element of an expanded IN list
            bind = compiled.binds.get(name.rsplit("_", 1)[0])
        out[name] = (
            None if bind is None else bind.type.dialect_impl(dialect).bind_processor(dialect)
        )
    return out


def _read(field: FieldPlan) -> Read:
    if field.read is None:  # not a generated read: its resolver must run
        raise Unsupported(field.name)
    return field.read


def _object(pairs: list[Any]) -> ColumnElement[Any]:
    if len(pairs) > 2 * _MAX_PAIRS:
        raise Unsupported("too many fields for json_build_object")
    return sa.func.json_build_object(*pairs)


def _datetime(col: Any, *, naive_as_utc: bool = True) -> Any:
    """``datetime.isoformat()``: microseconds only when not zero; an aware value (and, for
    the DateTime scalar, a naive one) in UTC with ``+00:00``."""
    aware = getattr(col.type, "timezone", False)
    utc = sa.func.timezone("UTC", col) if aware else col
    micros = sa.cast(sa.func.date_part("microseconds", col), sa.Integer) % 1000000
    text = sa.func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS') + sa.case(
        (micros == 0, sa.literal("")), else_=sa.func.to_char(utc, ".US")
    )
    if aware or naive_as_utc:
        text = text + sa.literal("+00:00")
    return sa.case((col.is_(None), sa.null()), else_=text)


def _codec(meta: Any, order: Ordering) -> Cursors:
    return Cursors(order, tuple(meta.field_types[name] == "float" for name, _ in order.keys))


def _asks_cursors(connection: ObjectPlan) -> bool:
    """Does the selection of a connection ask for ``edges.cursor`` or a page cursor?"""
    return any(
        sub.attr in ("cursor", "start_cursor", "end_cursor")
        for field in connection.fields
        if field.attr in ("edges", "page_info") and field.sub is not None
        for sub in field.sub.fields
    )


def _cursor_values(meta: Any, order: Ordering, t: Any) -> Any:
    """The JSON array of a row's ordering values, as ``query.values.to_json`` makes them."""
    out = []
    for name, _ in order.keys:
        col, kind = t.c[name], meta.field_types[name]
        if kind == "datetime":
            out.append(_datetime(col, naive_as_utc=False))
        elif kind == "date":
            out.append(sa.func.to_char(col, "YYYY-MM-DD"))
        elif kind in ("uuid", "decimal"):
            out.append(sa.cast(col, sa.Text))
        else:
            out.append(col)
    return sa.func.json_build_array(*out)


_FORMATS: dict[str, Callable[[Any], Any]] = {
    "ID": lambda col: sa.cast(col, sa.Text),
    "String": lambda col: col,
    "Int": lambda col: col,
    "Float": lambda col: col,
    "Boolean": lambda col: col,
    "DateTime": _datetime,
    "Date": lambda col: sa.func.to_char(col, "YYYY-MM-DD"),
    "Decimal": lambda col: sa.cast(col, sa.Text),
    "UUID": lambda col: sa.cast(col, sa.Text),
    "JSON": lambda col: col,
}
