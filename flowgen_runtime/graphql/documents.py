"""Parsed, validated and analysed GraphQL documents, cached by query text.

graphql-core spends most of a small request parsing and validating the same query again;
a document is parsed and checked against the schema's static rules once, then reused.
The analysis says whether the operation may be answered from the response cache: a
query whose every root field reads entities (get, lookup, list, aggregate), and the TTL
to use (the smallest of the entities it reaches; no caching if one of them opts out).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    ArgumentNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    get_named_type,
    parse,
    validate,
    visit,
)
from graphql.utilities import value_from_ast_untyped
from graphql.validation import ASTValidationRule, specified_rules

_SUFFIXES = ("Connection", "Edge", "Aggregate", "Group", "Numbers")
_NEUTRAL = {
    "PageInfo",
    "String",
    "Int",
    "Float",
    "Boolean",
    "ID",
    "DateTime",
    "Date",
    "Decimal",
    "JSON",
    "UUID",
}


@dataclass
class Document:
    text: str
    node: DocumentNode | None = None
    parse_error: GraphQLError | None = None
    static_errors: list[GraphQLError] | None = None
    dynamic_errors: dict[bytes, list[GraphQLError]] = field(default_factory=dict)
    dynamic_variables: frozenset[str] | None = None
    """Variables the variable-dependent rules can read (see ``DocumentCache.validate``)."""
    cache_ttl: dict[str | None, int | None] = field(default_factory=dict)
    """Response-cache TTL per operation name (None: not cacheable)."""
    plans: dict[bytes, Any] = field(default_factory=dict)
    """Execution plans of queries by operation and variables (see :mod:`.execution`)."""
    compiled: dict[tuple[str | None, bytes], Any] = field(default_factory=dict)
    """Compiled operations by operation and ``@skip``/``@include`` values."""
    switches: tuple[str, ...] | None = None
    """The variables ``@skip``/``@include`` read (None: not looked for yet)."""
    executable: dict[str | None, Any] = field(default_factory=dict)
    """Per operation name: the operation the compiled executor may run, or None (see
    :mod:`.execution`)."""


class DocumentCache:
    """Least-recently-used cache of :class:`Document` by query text."""

    def __init__(
        self,
        schema: GraphQLSchema,
        ttls: Mapping[str, int | None],
        static_rules: Collection[type[ASTValidationRule]],
        size: int = 1000,
        dynamic_arguments: Collection[str] = ("first", "last"),
        max_bytes: int = 16 << 20,
    ) -> None:
        self.schema = schema
        self.ttls = ttls
        self.static_rules = tuple(static_rules)
        self.dynamic_arguments = frozenset(dynamic_arguments)
        """Arguments whose values the variable-dependent rules read (the cost's multipliers)."""
        self.size = size
        self.max_bytes = max_bytes
        """Bound of the query text held (a document's parsed form is a small multiple)."""
        self.bytes = 0
        self._docs: OrderedDict[str, Document] = OrderedDict()

    def get(self, text: str) -> Document:
        doc = self._docs.get(text)
        if doc is not None:
            self._docs.move_to_end(text)
            return doc
        doc = Document(text)
        try:
            doc.node = parse(text)
        except GraphQLError as exc:
            doc.parse_error = exc
        else:
            fragments = [d for d in doc.node.definitions if isinstance(d, FragmentDefinitionNode)]
            doc.cache_ttl = {
                (d.name.value if d.name else None): self._ttl(d, fragments)
                for d in doc.node.definitions
                if isinstance(d, OperationDefinitionNode)
            }
            if len(doc.cache_ttl) == 1:  # the one operation runs without operationName too
                doc.cache_ttl.setdefault(None, next(iter(doc.cache_ttl.values())))
        if len(text) > self.max_bytes:
            return doc  # answered, never kept
        self._docs[text] = doc
        self.bytes += len(text)
        while len(self._docs) > self.size or self.bytes > self.max_bytes:
            old, _ = self._docs.popitem(last=False)
            self.bytes -= len(old)
        return doc

    def validate(
        self,
        doc: Document,
        variables: Any,
        make_rules: Callable[[Any], Collection[type[ASTValidationRule]]],
    ) -> list[GraphQLError]:
        """Static rules once per document; the rules that depend on variables (the cost of
        ``first: $n``) once per distinct values of the variables they can read: those
        given to a ``dynamic_arguments`` argument. A document with none (most mutations:
        ``enqueue(input: $i)``) is validated once, whatever its variables."""
        assert doc.node is not None
        if doc.static_errors is None:
            doc.static_errors = validate(
                self.schema, doc.node, (*specified_rules, *self.static_rules)
            )
        if doc.static_errors:
            return doc.static_errors
        if doc.dynamic_variables is None:
            doc.dynamic_variables = _variables_in(doc.node, self.dynamic_arguments)
        given = variables if isinstance(variables, dict) else {}
        # a variable's default counts as if given (`query($n: Int = 100)`)
        given = {**_defaults(doc.node), **given}
        read = {name: given.get(name) for name in doc.dynamic_variables}
        key = orjson.dumps(read, option=orjson.OPT_SORT_KEYS)
        found = doc.dynamic_errors.get(key)
        if found is None:
            found = validate(self.schema, doc.node, tuple(make_rules(given)))
            if len(doc.dynamic_errors) >= 64:  # bounded: variables vary per request
                doc.dynamic_errors.clear()
            doc.dynamic_errors[key] = found
        return found

    def _ttl(self, op: OperationDefinitionNode, fragments: list[Any]) -> int | None:
        if op.operation != OperationType.QUERY:
            return None
        entities = _entities(self.schema, [op, *fragments], self.ttls)
        if entities is None or not entities:
            return None
        ttls = [self.ttls[e] for e in entities]
        return None if any(t is None for t in ttls) else min(t for t in ttls if t is not None)


def _defaults(node: DocumentNode) -> dict[str, Any]:
    """Default values of the operations' variables (``query($n: Int = 100)``: ``{"n": 100}``)."""
    out: dict[str, Any] = {}
    for d in node.definitions:
        if isinstance(d, OperationDefinitionNode):
            for v in d.variable_definitions or ():
                if v.default_value is not None:
                    out.setdefault(v.variable.name.value, value_from_ast_untyped(v.default_value))
    return out


def _variables_in(node: DocumentNode, arguments: frozenset[str]) -> frozenset[str]:
    """Names of the variables given (directly) to an argument named in ``arguments``."""
    found: set[str] = set()

    class Collect(Visitor):
        def enter_argument(self, arg: ArgumentNode, *_: Any) -> None:
            if arg.name.value in arguments and isinstance(arg.value, VariableNode):
                found.add(arg.value.name.value)

    visit(node, Collect())
    return frozenset(found)


def _entity_of(type_name: str, entities: Mapping[str, Any]) -> str | None:
    if type_name in entities:
        return type_name
    for suffix in _SUFFIXES:
        if type_name.endswith(suffix) and type_name[: -len(suffix)] in entities:
            return type_name[: -len(suffix)]
    return None


def _entities(schema: GraphQLSchema, nodes: list[Any], ttls: Mapping[str, Any]) -> set[str] | None:
    """Entities reached by the operation, or None if it reads anything else (job status...)."""
    info = TypeInfo(schema)
    found: set[str] = set()
    ok = [True]

    class Collect(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            t = info.get_type()
            if t is None or node.name.value.startswith("__"):
                if node.name.value != "__typename":
                    ok[0] = False
                return
            name = get_named_type(t).name
            entity = _entity_of(name, ttls)
            if entity is not None:
                found.add(entity)
            elif name not in _NEUTRAL and not _is_enum(schema, name):
                ok[0] = False

    for node in nodes:
        visit(node, TypeInfoVisitor(info, Collect()))
    return found if ok[0] else None


def _is_enum(schema: GraphQLSchema, name: str) -> bool:
    from graphql import GraphQLEnumType

    return isinstance(schema.type_map.get(name), GraphQLEnumType)
