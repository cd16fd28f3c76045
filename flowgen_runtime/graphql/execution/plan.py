"""Compile a validated query into a plan: every field collected, every argument coerced,
every generated read looked up once per document and operation.

The idea is graphql-jit's: graphql-core redoes this work for every object of every
request (collecting a list item's fields, coercing ``exams(first: 5 ...)``'s arguments once
per parent user, looking up the field definition...). A plan does it once, and
:mod:`.tosql` turns it into one SQL statement.

Compiling is split in two so that a request with new variable values costs little: the
:class:`Compiled` operation (collected fields, resolvers, shapes, constant arguments)
depends on variables only through ``@skip``/``@include``; :func:`bind` then coerces a
request's variables and computes the arguments that use them, giving the :class:`Plan`
that runs. Only queries compile. Anything the plan does not model makes
:func:`compile_plan` return ``None``, and the request runs on graphql-core as before:
mutations, subscriptions, interfaces and unions, introspection other than ``__typename``,
and directives other than ``@skip``/``@include``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as attribute
from typing import Any

from flowgen_runtime.graphql.schema import AttributeResolver, Read
from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    Node,
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
_ABSENT = object()
_KNOWN_DIRECTIVES = {"skip", "include"}


class ReadTable:
    """Generated read resolvers and what each reads, matched by identity.

    Built from the ``READS`` tables of the generated resolver modules (collected in the
    app's :class:`~flowgen_runtime.graphql.registry.Registry`). A field's resolver counts
    as a generated read only if it *is* one of those functions: a user's wrapper (even one
    made with :func:`functools.wraps`) or a replacement is not, so it always runs.
    """

    def __init__(self, reads: Mapping[Any, Read]) -> None:
        self._by_id = {id(fn): (fn, read) for fn, read in reads.items()}

    def find(self, resolve: Any) -> Read | None:
        found = self._by_id.get(id(resolve))
        return found[1] if found is not None and found[0] is resolve else None


class Unsupported(Exception):
    """The query uses something the plan does not model; graphql-core runs it."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How a resolved value is completed: the output type, unwrapped one level at a time."""

    kind: int
    inner: Shape | None = None
    object: ObjectPlan | None = None


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str
    """Response key (the alias, or the field name)."""
    name: str
    shape: Shape
    attr: str | None = None
    """Read ``parent[attr]`` (the default resolver, also Ariadne's ``resolve_to``)."""
    args: Mapping[str, Any] = attribute(default_factory=dict)
    """The arguments, when none of them uses a variable (else see ``slot``)."""
    slot: int = -1
    """Index of this field's arguments in :attr:`Plan.args` when they use variables."""
    direct: tuple[tuple[str, str, bool], ...] | None = None
    """When every argument that uses a variable *is* a variable: (argument, variable,
    argument is non-null) for each, and ``args`` holds the others; :func:`bind` then
    puts the variables' values in place instead of coercing every argument again."""
    definition: GraphQLField | None = None
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
    read: Read | None = None
    """What the field's resolver reads, when that resolver *is* a generated read (found in
    the :class:`ReadTable`); a wrapped or replaced resolver has none, and is called."""


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    fields: tuple[FieldPlan, ...]


@dataclass(frozen=True, slots=True)
class Compiled:
    """An operation compiled for given ``@skip``/``@include`` values, whatever the other
    variables: :func:`bind` makes it a :class:`Plan` for one request's variables."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    root: ObjectPlan
    bound: tuple[FieldPlan, ...] = ()
    """The fields whose arguments use variables, by ``slot``."""
    lifted: frozenset[str] = frozenset()
    """Variables that only feed a root ``get``/lookup argument: :mod:`.sql` binds them as
    parameters, so one statement serves every value (``user(id: $id)``)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A :class:`Compiled` operation with one request's variables."""

    compiled: Compiled
    variables: VariableValues
    args: tuple[Mapping[str, Any], ...] = ()
    """The arguments of ``compiled.bound``'s fields, for these variables."""
    use_sql: bool = False
    """Try :mod:`.sql` first (set by the executor)."""
    sql_key: tuple[Any, ...] = ()
    """What the statement of this plan depends on besides the caller (set by the executor):
    the document, the operation, and the variables other than the lifted ones."""

    @property
    def root(self) -> ObjectPlan:
        return self.compiled.root

    @property
    def lifted(self) -> frozenset[str]:
        return self.compiled.lifted

    def args_of(self, field: FieldPlan) -> Mapping[str, Any]:
        """The arguments of ``field`` in this request."""
        return field.args if field.slot < 0 else self.args[field.slot]


def compile_plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Any,
    reads: ReadTable | None = None,
) -> Plan | None:
    """The plan of an operation of a *validated* document for these variables, or None if
    unsupported (including variables that do not coerce: graphql-core reports those)."""
    operation = get_operation_ast(document, operation_name)
    coerced = coerce(schema, operation, variables)
    if operation is None or coerced is None:
        return None
    compiled = compile_operation(schema, document, operation, coerced, reads)
    return None if compiled is None else bind(compiled, coerced)


def coerce(
    schema: GraphQLSchema, operation: OperationDefinitionNode | None, variables: Any
) -> VariableValues | None:
    """The operation's variables coerced, or None when they do not coerce."""
    if operation is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    return None if isinstance(coerced, list) else coerced


def compile_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: VariableValues,
    reads: ReadTable | None = None,
) -> Compiled | None:
    """The compiled operation; ``variables`` are read only by ``@skip``/``@include``.
    ``reads`` says which resolvers are generated reads (see :class:`ReadTable`)."""
    if operation.operation != OperationType.QUERY:
        return None
    root_type = schema.query_type
    if root_type is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    compiler = _Compiler(schema, fragments, variables, reads or ReadTable({}))
    try:
        root = compiler.object(root_type, [operation.selection_set], ())
    except Unsupported:
        return None
    return Compiled(
        schema, operation, fragments, root, tuple(compiler.bound), _lifted(document, root)
    )


def bind(compiled: Compiled, variables: VariableValues) -> Plan | None:
    """The plan of ``compiled`` for these (coerced) variables; None when an argument does
    not take its value (graphql-core reports it)."""
    try:
        args = tuple(_bound_args(f, variables) for f in compiled.bound)
    except GraphQLError:
        return None
    return Plan(compiled, variables, args)


def _bound_args(field: FieldPlan, variables: VariableValues) -> Mapping[str, Any]:
    if field.direct is not None:
        args, values = dict(field.args), variables.coerced
        for arg, variable, non_null in field.direct:
            value = values.get(variable, _ABSENT)
            if value is _ABSENT or (value is None and non_null):
                break  # a default to apply, or an error to raise: graphql-core's way
            args[arg] = value
        else:
            return args
    assert field.definition is not None
    return get_argument_values(field.definition, field.nodes[0], variables)


def switches(document: DocumentNode) -> tuple[str, ...]:
    """The variables that ``@skip``/``@include`` read: a compiled operation holds for
    given values of these."""
    found: set[str] = set()

    class Collect(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            if node.name.value in _KNOWN_DIRECTIVES:
                found.update(_variables_in(node))

    visit(document, Collect())
    return tuple(sorted(found))


def _variables_in(node: Node) -> set[str]:
    found: set[str] = set()

    class Collect(Visitor):
        def enter_variable(self, variable: VariableNode, *_: Any) -> None:
            found.add(variable.name.value)

    visit(node, Collect())
    return found


def _lifted(document: DocumentNode, root: ObjectPlan) -> frozenset[str]:
    uses: dict[str, int] = {}

    class Count(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            uses[node.name.value] = uses.get(node.name.value, 0) + 1

    visit(document, Count())  # definitions count once: a variable used once appears twice
    out = set()
    for f in root.fields:
        if f.read is not None and f.read.kind in ("get", "lookup"):
            out |= {v for v in (f.variables or {}).values() if uses.get(v) == 2}
    return frozenset(out)


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        reads: ReadTable,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.reads = reads
        self.bound: list[FieldPlan] = []

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
            leaf = Shape(LEAF)
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
        facts["read"] = self.reads.find(resolve)
        attr = _plain_attribute(resolve, name)
        if attr is not None:
            return FieldPlan(key, name, shape, attr=attr, **facts)
        arguments = nodes[0].arguments or ()
        given = {
            (definition.args[a.name.value].out_name or a.name.value): a.value.name.value
            for a in arguments
            if isinstance(a.value, VariableNode)
        }
        if any(_variables_in(a) for a in arguments):
            args, direct = self._direct(definition, nodes[0])
            field = FieldPlan(
                key, name, shape, args=args, slot=len(self.bound),
                direct=direct, definition=definition, nodes=tuple(nodes), variables=given,
                **facts,
            )  # fmt: skip
            self.bound.append(field)
            return field
        args = get_argument_values(definition, nodes[0])
        return FieldPlan(
            key, name, shape, args=args, definition=definition,
            nodes=tuple(nodes), variables=given, **facts,
        )  # fmt: skip

    def _direct(
        self, definition: GraphQLField, node: FieldNode
    ) -> tuple[dict[str, Any], tuple[tuple[str, str, bool], ...] | None]:
        """See :attr:`FieldPlan.direct`: the arguments without variables, and where each
        variable goes; or ({}, None) when a variable is inside a value (``{email: $e}``)."""
        direct = []
        for a in node.arguments or ():
            if isinstance(a.value, VariableNode):
                argument = definition.args[a.name.value]
                out = argument.out_name or a.name.value
                direct.append((out, a.value.name.value, isinstance(argument.type, GraphQLNonNull)))
            elif _variables_in(a):
                return {}, None
        try:  # with this request's variables: bind overwrites each of them
            return get_argument_values(definition, node, self.variables), tuple(direct)
        except GraphQLError:
            return {}, None

    def _shape(
        self, type_: GraphQLOutputType, nodes: list[FieldNode], path: tuple[str, ...]
    ) -> Shape:
        if isinstance(type_, GraphQLNonNull):
            return Shape(NON_NULL, self._shape(type_.of_type, nodes, path))
        if isinstance(type_, GraphQLList):
            return Shape(LIST, self._shape(type_.of_type, nodes, path))
        if is_leaf_type(type_):
            return Shape(LEAF)
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
    or the registry's :class:`~flowgen_runtime.graphql.schema.AttributeResolver`, else
    None (the resolver is called)."""
    if resolve is None:
        return name
    if isinstance(resolve, AttributeResolver):
        return resolve.attr
    return None
