"""Python source fragments for the generated code, built by small functions (not templates).

>>> from generator.model.ir import Field
>>> column_call(Field(name="title", column="title", type="string", max_length=200))
'mapped_column(sa.String(200), nullable=False)'
>>> input_annotation(Field(name="tags", column="tags", type="json", nullable=True))
'Any | None'
"""

from __future__ import annotations

import functools
import json
from typing import Any

from ..model.ir import App, Backoff, Default, Field

PY_TYPES = {
    "string": "str", "text": "str", "int": "int", "float": "float",
    "decimal": "decimal.Decimal", "bool": "bool", "date": "datetime.date",
    "datetime": "datetime.datetime", "json": "Any", "uuid": "uuid.UUID",
}  # fmt: skip


def py_type(f: Field) -> str:
    """The Python type of the stored value, without ``| None``."""
    if f.enum is not None:
        return "str"
    return PY_TYPES[f.value_type]


def sa_type(f: Field) -> str:
    t = f.value_type
    if f.enum is not None:
        values = ", ".join(repr(v) for v in f.enum.values)
        return f"sa.Enum({values}, name={f.enum.db_name!r}, create_constraint=True)"
    if t == "string":
        return f"sa.String({f.max_length or 255})"
    if t == "decimal":
        return f"sa.Numeric({f.precision}, {f.scale})"
    if t == "datetime":
        return "sa.DateTime(timezone=True)"
    if t == "json":
        return "JSON_TYPE"
    return {
        "text": "sa.Text()", "int": "sa.Integer()", "float": "sa.Float()", "bool": "sa.Boolean()",
        "date": "sa.Date()", "uuid": "sa.Uuid()",
    }[t]  # fmt: skip


def server_default(d: Default | None, f: Field) -> str | None:
    """SQL default, so rows added by migrations or other writers get it too."""
    if d is None:
        return None
    if d.kind == "now":
        return "sa.func.current_date()" if f.type == "date" else "sa.func.current_timestamp()"
    v = d.value
    if f.type == "json":
        return None
    if isinstance(v, bool):
        return "sa.text('true')" if v else "sa.text('false')"
    return f"sa.text({_sql_literal(v)!r})"


def _sql_literal(v: Any) -> str:
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def column_call(f: Field) -> str:
    """``mapped_column(...)`` for a model attribute (named when the attribute is not)."""
    args = [sa_type(f)] if f.attr == f.column else [repr(f.column), sa_type(f)]
    if f.foreign_key is not None:
        fk = f.foreign_key
        alter = ", use_alter=True" if fk.deferred else ""
        args.append(
            f"sa.ForeignKey({fk.target_table + '.' + fk.target_column!r}, ondelete={fk.on_delete!r}{alter})"
        )
    kw = []
    if f.primary_key:
        kw.append("primary_key=True")
        if f.id_kind == "uuid":
            kw.append("default=uuid.uuid4")
    else:
        kw.append(f"nullable={f.nullable}")
    if f.unique:
        kw.append("unique=True")
    if f.index and not f.unique:
        kw.append("index=True")
    if f.default is not None and f.default.kind == "literal":
        kw.append(f"default={python_literal(f)}")
    sd = server_default(f.default, f)
    if sd:
        kw.append(f"server_default={sd}")
    if f.description:
        kw.append(f"comment={f.description!r}")
    return f"mapped_column({', '.join(args + kw)})"


def python_literal(f: Field) -> str:
    """The field's literal default as Python source (``decimal.Decimal('0.00')`` etc.)."""
    assert f.default is not None
    v = f.default.value
    t = f.value_type
    if t == "decimal":
        return f"decimal.Decimal({v!r})"
    if t == "date":
        return f"datetime.date.fromisoformat({v!r})"
    if t == "datetime":
        return f"datetime.datetime.fromisoformat({v!r})"
    if t == "uuid":
        return f"uuid.UUID({v!r})"
    return repr(v)


def check_constraints(f: Field) -> list[tuple[str, str]]:
    """``(name, Python expression)`` CHECKs mirroring the spec's constraints: SQL text, or
    ``pattern_match(...)`` for a pattern (compiled per dialect by the runtime)."""
    return [(name, json.dumps(sql)) for name, sql in _check_sql(f)] + (
        [(f"{f.column}_pattern", f"pattern_match({json.dumps(f.column)}, {json.dumps(f.pattern)})")]
        if f.pattern is not None
        else []
    )


def sql_ident(name: str) -> str:
    """A column name as CHECK text: quoted when PostgreSQL or SQLite would need it
    (``limit`` -> ``"limit"``), as their dialects quote it; plain names stay plain.

    >>> sql_ident("price"), sql_ident("limit"), sql_ident("order")
    ('price', '"limit"', '"order"')
    """
    for preparer in _preparers():
        quoted = preparer.quote(name)
        if quoted != name:
            return quoted
    return name


@functools.cache
def _preparers() -> tuple[Any, ...]:
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.dialect().identifier_preparer, sqlite.dialect().identifier_preparer)


def _check_sql(f: Field) -> list[tuple[str, str]]:
    c = sql_ident(f.column)
    out = []
    n = f.column
    if f.min is not None:
        out.append((f"{n}_min", f"{c} >= {_num(f.min)}"))
    if f.max is not None:
        out.append((f"{n}_max", f"{c} <= {_num(f.max)}"))
    if f.min_length:
        out.append((f"{n}_min_length", f"length({c}) >= {f.min_length}"))
    if f.max_length:  # VARCHAR(n) alone: SQLite ignores n
        out.append((f"{n}_max_length", f"length({c}) <= {f.max_length}"))
    return out


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _has_literal_default(f: Field) -> bool:
    return f.default is not None and f.default.kind == "literal" and f.type != "json"


def input_annotation(f: Field, *, update: bool = False) -> str:
    """Optional inputs are typed ``T | None``; an explicit ``null`` for a non-nullable field
    is then refused by ``InputModel`` (see ``non_nullable``), so leaving it out stays legal."""
    base = f"Literal[{', '.join(repr(v) for v in f.enum.values)}]" if f.enum else py_type(f)
    optional = f.nullable or update or (not f.required and not _has_literal_default(f))
    return f"{base} | None" if optional else base


def input_field_call(f: Field, *, update: bool = False) -> str:
    """``Field(...)`` for a pydantic input attribute."""
    kw = []
    if update or not f.required:
        if _has_literal_default(f) and not update:
            kw.append(f"default={python_literal(f)}")
        else:
            kw.append("default=None")
    if f.min_length is not None:
        kw.append(f"min_length={f.min_length}")
    if f.max_length is not None:
        kw.append(f"max_length={f.max_length}")
    if f.pattern is not None:
        kw.append(f"pattern={f.pattern!r}")
    if f.min is not None:
        kw.append(f"ge={_typed_bound(f, f.min)}")
    if f.max is not None:
        kw.append(f"le={_typed_bound(f, f.max)}")
    if f.value_type == "decimal":
        kw.append(f"max_digits={f.precision}, decimal_places={f.scale}")
    if f.description:
        kw.append(f"description={f.description!r}")
    if f.attr != f.name:
        kw.append(f"alias={f.name!r}")
    return f"Field({', '.join(kw)})"


def _typed_bound(f: Field, v: float) -> str:
    if f.value_type == "int":
        return str(int(v))
    if f.value_type == "decimal":
        return f"decimal.Decimal({_num(v)!r})"
    return repr(float(v))


def backoff_call(b: Backoff) -> str:
    """The runtime ``Backoff(...)`` call.

    >>> backoff_call(Backoff("custom", 0, (1000, 5000)))
    "Backoff('custom', delays_ms=(1000, 5000))"
    """
    if b.type == "custom":
        return f"Backoff('custom', delays_ms={b.delays_ms!r})"
    return f"Backoff({b.type!r}, {b.delay_ms})"


def extensions_call(app: App) -> str:
    """The registry's ``Extensions(...)`` argument: the app's own code.

    >>> extensions_call(App(name="a", entities=()))
    'Extensions()'
    """
    if app.extensions is None and not any(e.hooks or e.computed for e in app.entities):
        return "Extensions()"
    modules = {e.name: e.module for e in app.entities}
    hooks = {e.name: dict(e.hooks) for e in app.entities if e.hooks}
    computed = {(e.name, c.graphql_name): c.resolver for e in app.entities for c in e.computed}
    return (
        f"Extensions(package={app.extensions!r}, modules={modules!r}, hooks={hooks!r}, "
        f"computed={computed!r})"
    )
