"""Spec field -> model :class:`Field`, with the checks that need the field's type."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from typing import Any

from ..names import pascal, snake
from ..spec.models import FieldSpec
from ..spec.yaml_source import Path, YamlDoc
from .ir import Default, EnumDef, Field
from .problems import Problems, source

_NUMERIC = {"int", "float", "decimal"}
_TEXTUAL = {"string", "text"}


def build_field(
    spec: FieldSpec,
    name: str,
    enum_name: str,
    doc: YamlDoc,
    path: Path,
    problems: Problems,
    *,
    in_payload: bool = False,
) -> Field:
    """Validate one field spec and return the resolved :class:`Field`."""
    _check_applicable(spec, doc, path, problems, in_payload=in_payload)
    enum = None
    if spec.type == "enum":
        if not spec.values:
            problems.add(doc, path, "an enum field needs `values`", "values: [a, b, c]")
        elif len(set(spec.values)) != len(spec.values):
            problems.add(doc, (*path, "values"), "enum values must be unique")
        else:
            enum = EnumDef(enum_name, snake(enum_name), tuple(spec.values))
    if spec.pattern is not None:
        try:
            re.compile(spec.pattern)
        except re.error as exc:
            problems.add(doc, (*path, "pattern"), f"invalid regular expression: {exc}")
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        problems.add(doc, (*path, "min"), f"min ({spec.min:g}) is greater than max ({spec.max:g})")
    if (
        spec.min_length is not None
        and spec.max_length is not None
        and spec.min_length > spec.max_length
    ):
        problems.add(doc, (*path, "min_length"), "min_length is greater than max_length")
    default = _default(spec, doc, (*path, "default"), problems)
    if default is not None and default.kind == "literal":
        for why in default_violations(spec, default.value):
            problems.add(
                doc, (*path, "default"), f"default {spec.default!r} {why}",
                "change the default or the constraint: every create without the field would fail",
            )  # fmt: skip
    primary = spec.type == "id"
    nullable = spec.nullable and not primary
    required = spec.required
    if required is None:
        required = not nullable and default is None and not primary
    return Field(
        name=name,
        column=name,
        type=spec.type,
        nullable=nullable,
        required=required,
        unique=spec.unique and not primary,
        index=spec.index,
        primary_key=primary,
        default=default,
        min_length=spec.min_length,
        max_length=spec.max_length,
        min=spec.min,
        max=spec.max,
        pattern=spec.pattern,
        enum=enum,
        id_kind=(spec.kind or "integer") if primary else None,
        precision=spec.precision or (18 if spec.type == "decimal" else None),
        scale=spec.scale if spec.scale is not None else (2 if spec.type == "decimal" else None),
        description=spec.description,
        renamed_from=spec.renamed_from,
        source=source(doc, path),
    )


def default_violations(spec: FieldSpec | Field, value: Any) -> list[str]:
    """How a (coerced) value breaks the field's own constraints; empty when it meets them.

    >>> default_violations(FieldSpec(type="int", min=1), 0)
    ['is below min 1']
    """
    out = []
    if spec.type in _NUMERIC and value is not None:
        number = decimal.Decimal(str(value))
        if spec.min is not None and number < decimal.Decimal(str(spec.min)):
            out.append(f"is below min {spec.min:g}")
        if spec.max is not None and number > decimal.Decimal(str(spec.max)):
            out.append(f"is above max {spec.max:g}")
        if spec.type == "decimal":
            out += _decimal_violations(spec, number)
    if spec.type in _TEXTUAL and isinstance(value, str):
        if spec.min_length is not None and len(value) < spec.min_length:
            out.append(f"is shorter than min_length {spec.min_length}")
        if spec.max_length is not None and len(value) > spec.max_length:
            out.append(f"is longer than max_length {spec.max_length}")
        if spec.type == "string" and spec.max_length is None and len(value) > 255:
            out.append("is longer than 255 characters (a string's default max_length)")
        if spec.pattern is not None and _matches(spec.pattern, value) is False:
            out.append(f"does not match pattern {spec.pattern!r}")
    return out


def _matches(pattern: str, value: str) -> bool | None:
    try:
        return re.search(pattern, value) is not None  # pydantic's pattern: re.search semantics
    except re.error:
        return None  # reported as an invalid pattern


def _decimal_violations(spec: FieldSpec | Field, number: decimal.Decimal) -> list[str]:
    precision = spec.precision or 18
    scale = spec.scale if spec.scale is not None else 2
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    whole = max(len(number.as_tuple().digits) - places, 0) if number != 0 else 0
    out = []
    if places > scale:
        out.append(f"has {places} decimal places, more than scale {scale}")
    if whole > precision - scale:
        out.append(
            f"has {whole} digits before the point, more than precision - scale ({precision - scale})"
        )
    return out


# types generated per entity as <Entity><suffix> (see names_check): an enum field named like
# a suffix (`group`) gets `<Entity><Field>Enum` instead of taking the generated type's name
_ENTITY_TYPE_SUFFIXES = {"Edge", "Connection", "OrderField", "OrderBy", "Where", "ListFilter",
                         "GroupField", "Group", "Numbers", "Aggregate"}  # fmt: skip


def enum_type_name(owner: str, field: str) -> str:
    """``Exam`` + ``status`` -> ``ExamStatus``; ``Order`` + ``group`` -> ``OrderGroupEnum``."""
    name = f"{pascal(owner)}{pascal(field)}"
    return name + "Enum" if pascal(field) in _ENTITY_TYPE_SUFFIXES else name


def _check_applicable(
    spec: FieldSpec, doc: YamlDoc, path: Path, problems: Problems, *, in_payload: bool
) -> None:
    t = spec.type
    rules: list[tuple[str, bool, str]] = [
        ("min_length", t in _TEXTUAL, "string and text"),
        ("max_length", t in _TEXTUAL, "string and text"),
        ("pattern", t in _TEXTUAL, "string and text"),
        ("min", t in _NUMERIC, "int, float and decimal"),
        ("max", t in _NUMERIC, "int, float and decimal"),
        ("values", t == "enum", "enum"),
        ("kind", t == "id", "id"),
        ("precision", t == "decimal", "decimal"),
        ("scale", t == "decimal", "decimal"),
    ]
    for key, ok, types in rules:
        if getattr(spec, key) is not None and not ok:
            problems.add(doc, (*path, key), f"`{key}` does not apply to type {t}", f"only {types}")
    if in_payload and t == "id":
        problems.add(doc, (*path, "type"), "a job payload has no id field", "use int or uuid")
    if t == "id" and (spec.nullable or spec.default is not None):
        problems.add(doc, path, "an id field cannot be nullable or have a default")
    if spec.precision and spec.scale is not None and spec.scale > spec.precision:
        problems.add(doc, (*path, "scale"), "scale is greater than precision")


def _default(spec: FieldSpec, doc: YamlDoc, path: Path, problems: Problems) -> Default | None:
    value = spec.default
    if value is None:
        return None
    if value == "now":
        if spec.type in ("date", "datetime"):
            return Default("now")
        problems.add(doc, path, f"`now` is only a default for date and datetime, not {spec.type}")
        return None
    try:
        return Default("literal", coerce_literal(spec, value))
    except (ValueError, TypeError, decimal.InvalidOperation) as exc:
        problems.add(doc, path, f"default {value!r} is not a valid {spec.type}: {exc}")
        return None


def _text(value: Any, spec: FieldSpec) -> Any:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: Any, spec: FieldSpec) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value


def _float(value: Any, spec: FieldSpec) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return float(value)


def _bool(value: Any, spec: FieldSpec) -> Any:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _enum(value: Any, spec: FieldSpec) -> Any:
    if value not in (spec.values or []):
        raise ValueError(f"not one of {spec.values}")
    return value


def _date(value: Any, spec: FieldSpec) -> Any:
    return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))).isoformat()


def _datetime(value: Any, spec: FieldSpec) -> Any:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed.isoformat()


_COERCE = {
    "string": _text,
    "text": _text,
    "int": _int,
    "float": _float,
    "decimal": lambda v, s: str(decimal.Decimal(str(v))),
    "bool": _bool,
    "enum": _enum,
    "date": _date,
    "datetime": _datetime,
    "uuid": lambda v, s: str(uuid.UUID(str(v))),
    "json": lambda v, s: v,
}


def coerce_literal(spec: FieldSpec, value: Any) -> Any:
    """Coerce a YAML literal to the field's type (raises ``ValueError`` with a reason)."""
    fn = _COERCE.get(spec.type)
    if fn is None:
        raise TypeError(f"type {spec.type} takes no default")
    return fn(value, spec)
