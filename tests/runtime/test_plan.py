"""Binding a compiled operation to a request's variables gives exactly the arguments
graphql-core computes: defaults, explicit nulls, variables inside values, and errors."""

from __future__ import annotations

from typing import Any

import pytest
from flowgen_runtime.graphql.execution.plan import (
    FieldPlan,
    bind,
    coerce,
    compile_operation,
    compile_plan,
    switches,
)
from graphql import build_schema, parse, validate
from graphql.execution.values import get_argument_values

SCHEMA = build_schema(
    """
    input Page { size: Int = 10, tag: String }
    type Item { id: ID!, name(upper: Boolean = false): String }
    type Query {
      items(first: Int = 20, page: Page, tag: String, ids: [ID!]): [Item!]!
      item(id: ID!): Item
    }
    """
)
for _type, _field in [("Query", "items"), ("Query", "item"), ("Item", "name")]:
    SCHEMA.type_map[_type].fields[_field].resolve = lambda *_, **__: None  # type: ignore[attr-defined]

QUERY = """
query($first: Int, $size: Int = 3, $tag: String, $id: ID!, $upper: Boolean, $ids: [ID!],
      $show: Boolean = true) {
  items(first: $first, page: {size: $size}, tag: $tag, ids: $ids) {
    id name(upper: $upper) @include(if: $show)
  }
  item(id: $id) { id }
  constant: items(first: 2) { id }
}
"""

VARIABLE_SETS: list[dict[str, Any]] = [
    {"id": "1"},
    {"id": "2", "first": 5, "tag": "a", "upper": True, "ids": ["1", "2"]},
    {"id": "3", "first": None, "tag": None, "upper": None, "size": None},
    {"id": 4, "size": 7, "ids": "9"},  # an ID from an int, a list from one item
]


def _fields(plan: Any) -> list[FieldPlan]:
    out, pending = [], list(plan.root.fields)
    while pending:
        field = pending.pop()
        out.append(field)
        pending += field.sub.fields if field.sub is not None else []
    return out


def test_bound_arguments_equal_graphql_core() -> None:
    document = parse(QUERY)
    assert not validate(SCHEMA, document)
    first = compile_plan(SCHEMA, document, None, VARIABLE_SETS[0])
    assert first is not None
    for variables in VARIABLE_SETS:
        coerced = coerce(SCHEMA, first.compiled.operation, variables)
        assert coerced is not None
        plan = bind(first.compiled, coerced)  # the operation compiled for other values
        assert plan is not None
        for field in _fields(plan):
            if field.definition is None:
                continue
            expected = get_argument_values(field.definition, field.nodes[0], coerced)
            assert plan.args_of(field) == expected, (field.path, variables)
    by_name = {f.key: f for f in _fields(first)}
    assert by_name["items"].direct is None  # $size is inside a value
    assert by_name["item"].direct == (("id", "id", True),)
    assert by_name["constant"].slot == -1 and by_name["constant"].args == {"first": 2}


def test_a_null_for_a_non_null_argument_is_left_to_graphql_core() -> None:
    """``$id: ID = "0"`` may be sent as null, which ``item(id:)`` refuses."""
    document = parse('query($id: ID = "0") { item(id: $id) { id } }')
    assert not validate(SCHEMA, document)
    plan = compile_plan(SCHEMA, document, None, {})
    assert plan is not None
    coerced = coerce(SCHEMA, plan.compiled.operation, {"id": None})
    assert coerced is not None
    assert bind(plan.compiled, coerced) is None
    assert compile_plan(SCHEMA, document, None, {"id": None}) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("query($a: Boolean!, $b: Boolean!) { items @skip(if: $a) { id @include(if: $b) } }",
         ("a", "b")),
        ("query($t: String) { items(tag: $t) { id } }", ()),
        ("query($s: Boolean!) { ...F } fragment F on Query { item(id: 1) @skip(if: $s) { id } }",
         ("s",)),
    ],
)  # fmt: skip
def test_switches_are_the_variables_skip_and_include_read(
    query: str, expected: tuple[str, ...]
) -> None:
    assert switches(parse(query)) == expected


def test_skip_and_include_shape_the_compiled_operation() -> None:
    document = parse(QUERY)
    operation = compile_plan(SCHEMA, document, None, {"id": "1"})
    assert operation is not None
    for show, names in [(True, {"id", "name"}), (False, {"id"})]:
        coerced = coerce(SCHEMA, operation.compiled.operation, {"id": "1", "show": show})
        assert coerced is not None
        compiled = compile_operation(SCHEMA, document, operation.compiled.operation, coerced)
        assert compiled is not None
        items = next(f for f in compiled.root.fields if f.key == "items")
        assert items.sub is not None and {f.key for f in items.sub.fields} == names
