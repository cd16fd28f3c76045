"""GraphQL SDL fragments: type references and names.

>>> from generator.model.ir import Field
>>> gql_type(Field(name="id", column="id", type="id", primary_key=True))
'ID!'
"""

from __future__ import annotations

from ..model.ir import Field
from ..names import upper_snake

GQL_SCALARS = {
    "string": "String", "text": "String", "int": "Int", "float": "Float", "decimal": "Decimal",
    "bool": "Boolean", "date": "Date", "datetime": "DateTime", "json": "JSON", "uuid": "UUID",
}  # fmt: skip


def gql_named(f: Field) -> str:
    if f.primary_key or f.foreign_key is not None:
        return "ID"
    if f.enum is not None:
        return f.enum.name
    return GQL_SCALARS[f.value_type]


def gql_type(f: Field) -> str:
    """Output type: non-null unless the field is nullable."""
    return gql_named(f) + ("" if f.nullable else "!")


def gql_input_type(f: Field, *, update: bool = False) -> str:
    """Create inputs require what the spec requires; update inputs require nothing."""
    return gql_named(f) + ("!" if f.required and not update else "")


def enum_value(value: str) -> str:
    return upper_snake(value)


def description(text: str | None, indent: str = "") -> str:
    """A block string, or nothing."""
    if not text:
        return ""
    body = text.replace('"""', '\\"""')
    return f'{indent}"""{body}"""\n'
