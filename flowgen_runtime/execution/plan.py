"""Compile a validated query into a plan: every field collected, every argument coerced,
every resolver and serializer looked up once per (document, operation, variables).

The idea is graphql-jit's: graphql-core redoes this work for every object of every
request (collecting a list item's fields, coercing ``exams(first: 5 ...)``'s arguments once
per parent user, looking up the field definition...). A plan does it once; running it
(:mod:`.run`) is then a loop over rows. Queries and mutations compile (a mutation's
root fields run one after the other, and never twice: see :class:`.run.Replay`).
Anything the plan does not model makes :func:`compile_plan` return ``None``, and the
request runs on graphql-core as before: subscriptions, interfaces and unions,
introspection other than ``__typename``, and directives other than ``@skip``/``@include``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    visit,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)

LEAF, LIST, NON_NULL, OBJECT = range(4)
_KNOWN_DIRECTIVES = {"skip", "include"}


class Unsupported(Exception):
    """The query uses something the plan does not model; graphql-core runs it."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How a resolved value is completed: the output type, unwrapped one level at a time."""

    kind: int
    inner: Shape | None = None
    serialize: Callable[[Any], Any] | None = None
    object: ObjectPlan | None = None


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str
    """Response key (the alias, or the field name)."""
    name: str
    shape: Shape
    attr: str | None = None
    """Read ``parent[attr]`` (the default resolver, also Ariadne's ``resolve_to``)."""
    resolve: Callable[..., Any] | None = None
    args: Mapping[str, Any] | None = None
    nodes: tuple[FieldNode, ...] = ()
    return_type: Any = None
    typename: str | None = None
    """``__typename``: a constant."""
    non_null: bool = False
    is_float: bool = False
    """A ``Float`` leaf (JSON from SQL writes ``51.0`` as ``51``)."""
    sub: ObjectPlan | None = None
    """The plan of the objects under this field, if it returns objects."""
    path: tuple[str, ...] = ()
    """Response keys from the root to this field (list positions left out)."""
    variables: Mapping[str, str] | None = None
    """Arguments given directly by a variable: argument (Python name) -> variable name."""


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    fields: tuple[FieldPlan, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    variables: VariableValues
    root: ObjectPlan
    lifted: frozenset[str] = frozenset()
    mutation: bool = False
    """Root fields run one after the other, never twice (see :class:`.run.Replay`)."""
    """Variables that only feed a root ``get``/lookup argument: :mod:`.sql` binds them as
    parameters, so one statement serves every value (``user(id: $id)``)."""
    use_sql: bool = False
    """Try :mod:`.sql` first (set by the executor)."""
    sql_key: tuple[Any, ...] = ()
    """What the statement of this plan depends on besides the caller (set by the executor):
    the document, the operation, and the variables other than the lifted ones."""


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Any
) -> Plan | None:
    """The plan of a query operation of a *validated* document, or None if unsupported
    (including variables that do not coerce: graphql-core reports those)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation == OperationType.SUBSCRIPTION:
        return None
    mutation = operation.operation == OperationType.MUTATION
    root_type = schema.mutation_type if mutation else schema.query_type
    if root_type is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    compiler = _Compiler(schema, fragments, coerced)
    try:
        root = compiler.object(root_type, [operation.selection_set], ())
    except Unsupported:
        return None
    lifted = frozenset() if mutation else _lifted(document, root)
    return Plan(schema, operation, fragments, coerced, root, lifted, mutation=mutation)


def _lifted(document: DocumentNode, root: ObjectPlan) -> frozenset[str]:
    uses: dict[str, int] = {}

    class Count(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            uses[node.name.value] = uses.get(node.name.value, 0) + 1

    visit(document, Count())  # definitions count once: a variable used once appears twice
    out = set()
    for f in root.fields:
        read = getattr(f.resolve, "flowgen_read", None)
        if getattr(read, "kind", None) in ("get", "lookup"):
            out |= {v for v in (f.variables or {}).values() if uses.get(v) == 2}
    return frozenset(out)


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def object(
        self, type_: GraphQLObjectType, selections: list[SelectionSetNode], path: tuple[str, ...]
    ) -> ObjectPlan:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(type_, selection_set, grouped, set())
        fields = tuple(
            self._field(type_, key, nodes, (*path, key)) for key, nodes in grouped.items()
        )
        return ObjectPlan(type_, fields)

    def _field(
        self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode], path: tuple[str, ...]
    ) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            leaf = Shape(LEAF, serialize=str)
            return FieldPlan(
                key, name, Shape(NON_NULL, leaf), typename=parent.name, non_null=True, path=path
            )
        if name.startswith("__"):
            raise Unsupported(name)  # introspection: graphql-core answers it
        definition = parent.fields[name]
        shape = self._shape(definition.type, nodes, path)
        facts: dict[str, Any] = {
            "path": path,
            "return_type": definition.type,
            "non_null": shape.kind == NON_NULL,
            "is_float": get_named_type(definition.type).name == "Float",
            "sub": _objects_of(shape),
        }
        resolve = definition.resolve
        attr = _plain_attribute(resolve, name)
        if attr is not None:
            return FieldPlan(key, name, shape, attr=attr, **facts)
        args = get_argument_values(definition, nodes[0], self.variables)
        given = {
            (definition.args[a.name.value].out_name or a.name.value): a.value.name.value
            for a in nodes[0].arguments or ()
            if isinstance(a.value, VariableNode)
        }
        return FieldPlan(
            key, name, shape, resolve=resolve, args=args, nodes=tuple(nodes), variables=given,
            **facts,
        )  # fmt: skip

    def _shape(
        self, type_: GraphQLOutputType, nodes: list[FieldNode], path: tuple[str, ...]
    ) -> Shape:
        if isinstance(type_, GraphQLNonNull):
            return Shape(NON_NULL, self._shape(type_.of_type, nodes, path))
        if isinstance(type_, GraphQLList):
            return Shape(LIST, self._shape(type_.of_type, nodes, path))
        if is_leaf_type(type_):
            return Shape(LEAF, serialize=type_.serialize)
        if isinstance(type_, GraphQLObjectType):
            subs = [n.selection_set for n in nodes if n.selection_set is not None]
            return Shape(OBJECT, object=self.object(type_, subs, path))
        raise Unsupported(str(type_))  # interfaces and unions

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        seen: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value == type_.name:
                    self._collect(type_, selection.selection_set, grouped, seen)
                elif not isinstance(self.schema.get_type(condition.name.value), GraphQLObjectType):
                    raise Unsupported("fragment on an abstract type")
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in seen or fragment is None:
                    continue
                seen.add(name)
                if fragment.type_condition.name.value == type_.name:
                    self._collect(type_, fragment.selection_set, grouped, seen)
                elif not isinstance(
                    self.schema.get_type(fragment.type_condition.name.value), GraphQLObjectType
                ):
                    raise Unsupported("fragment on an abstract type")

    def _included(self, node: Any) -> bool:
        directives = node.directives or ()
        if not directives:
            return True
        if any(d.name.value not in _KNOWN_DIRECTIVES for d in directives):
            raise Unsupported("directive")  # @defer, @stream, custom ones
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip["if"]:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and not include["if"])


def _objects_of(shape: Shape) -> ObjectPlan | None:
    inner: Shape | None = shape
    while inner is not None and inner.kind != OBJECT:
        inner = inner.inner
    return None if inner is None else inner.object


def _plain_attribute(resolve: Any, name: str) -> str | None:
    """The key a field reads from its parent when its resolver is graphql-core's default
    or Ariadne's ``resolve_to`` (name conversion), else None."""
    if resolve is None:
        return name
    if getattr(resolve, "_ariadne_alias_resolver", False) and resolve.__closure__:
        cells = dict(zip(resolve.__code__.co_freevars, resolve.__closure__, strict=True))
        attr = cells["attr_name"].cell_contents if "attr_name" in cells else None
        if isinstance(attr, str) and "." not in attr:
            return attr
    return None
