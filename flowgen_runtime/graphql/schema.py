"""GraphQL helpers shared by the generated resolvers and the app.

* :class:`Read` - what a generated resolver reads; each generated resolver module lists
  its reads in a ``READS`` table (see :class:`~.execution.plan.ReadTable`).
* :func:`selects_total` - does the query ask for ``totalCount`` (so the count is only run
  when needed)?
* :data:`SHARED_ENUMS` - bindings of the enums every schema has.
* :func:`python_name` - GraphQL name -> Python name (``startsWith`` -> ``starts_with``).
* :func:`depth_limit` - a validation rule refusing queries nested deeper than a limit.
* :func:`field_limit` - one refusing operations selecting more fields (aliases included)
  than a limit, or more than one introspection root field.
* :func:`cost_rule` - Ariadne's cost validator, counting a list without ``first``/``last``
  at the default page size and reading the operation's variable defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ariadne import EnumType
from ariadne.validation.query_cost import CostValidator
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ASTValidationContext

SHARED_ENUMS = [
    EnumType("SortDirection", {"ASC": "asc", "DESC": "desc"}),
    EnumType("StringMode", {"DEFAULT": "default", "INSENSITIVE": "insensitive"}),
]

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def python_name(name: str, _schema: GraphQLSchema | None = None, _path: Any = None) -> str:
    """``createdAt`` -> ``created_at``, ``AND`` -> ``and``, ``line2`` stays ``line2``.

    Generated GraphQL names are ``camel(snake_name)``; this is its inverse (Ariadne's own
    converter would turn ``line2`` into ``line_2``).
    """
    return _BOUNDARY.sub("_", name).lower()


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Read:
    """What a generated resolver reads: ``get`` (by id), ``lookup`` (by a unique field
    set, the field's arguments), ``list`` (a connection), or ``relation`` ``name`` of
    ``entity`` objects."""

    kind: Literal["get", "lookup", "list", "relation"]
    entity: str
    relation: str | None = None


class AttributeResolver:
    """Reads ``attr`` of the parent (a key of a dict, else an attribute), as graphql-core's
    default resolver reads the field's own name; a callable value is called with ``info``
    and the arguments (as Ariadne's ``resolve_to``).

    The registry gives every field whose Python name differs from its GraphQL name one of
    these (``createdAt`` reads ``created_at``), so the compiled executor can see, by public
    attribute, that the field is a plain read of its parent."""

    __slots__ = ("attr",)

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __call__(self, parent: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        value = (
            parent.get(self.attr)
            if isinstance(parent, Mapping)
            else getattr(parent, self.attr, None)
        )
        return value(info, **args) if callable(value) else value

    def __repr__(self) -> str:
        return f"AttributeResolver({self.attr!r})"


def read_attributes(schema: GraphQLSchema) -> None:
    """Give each object field without a resolver whose Python name differs from its
    GraphQL name an :class:`AttributeResolver` (before Ariadne's name conversion, which
    then leaves those fields alone and converts arguments and input fields)."""
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            attr = python_name(name)
            if field.resolve is None and attr != name:
                field.resolve = AttributeResolver(attr)


def selects_total(info: GraphQLResolveInfo) -> bool:
    """True when the current field's selection asks for ``totalCount``."""
    return any(_selects(node.selection_set, "totalCount", info) for node in info.field_nodes)


def _selects(selection_set: SelectionSetNode | None, name: str, info: GraphQLResolveInfo) -> bool:
    if selection_set is None:
        return False
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode) and sel.name.value == name:
            return True
        if isinstance(sel, InlineFragmentNode) and _selects(sel.selection_set, name, info):
            return True
        if isinstance(sel, FragmentSpreadNode):
            frag = info.fragments.get(sel.name.value)
            if frag is not None and _selects(frag.selection_set, name, info):
                return True
    return False


def connection_cost_map(schema: GraphQLSchema) -> dict[str, dict[str, Any]]:
    """Cost settings for Ariadne's cost validator: paginated fields multiply the cost of
    what is under them by ``first``/``last``."""
    out: dict[str, dict[str, Any]] = {}
    for name, type_ in schema.type_map.items():
        fields = getattr(type_, "fields", None)
        if name.startswith("__") or not isinstance(fields, dict):
            continue
        for field_name, field in fields.items():
            if "first" in getattr(field, "args", {}):
                out.setdefault(name, {})[field_name] = {
                    "complexity": 1,
                    "multipliers": ["first", "last"],
                }
    return out


class _PagedCost(CostValidator):
    """Ariadne's cost validator where a paginated field given neither ``first`` nor
    ``last`` multiplies by the page size it will get (the default), not by one."""

    default_page_size = 1

    def get_multipliers_from_string(self, multipliers: list[str], field_args: dict) -> list[int]:
        found = super().get_multipliers_from_string(multipliers, field_args)
        if not found and {"first", "last"} & set(multipliers):
            return [self.default_page_size]
        return found


def cost_rule(
    *, maximum_cost: int, default_page_size: int, cost_map: dict[str, dict[str, Any]],
    variables: Mapping[str, Any] | None,
) -> type[ASTValidationRule]:  # fmt: skip
    """The cost rule for one request's ``variables`` (operation defaults already merged
    in by :meth:`~.documents.DocumentCache.validate`); error code ``QUERY_TOO_COSTLY``."""

    class Cost(_PagedCost):
        def __init__(self, context: Any) -> None:
            super().__init__(
                context, maximum_cost=maximum_cost, default_cost=1, cost_map=cost_map,
                variables=dict(variables) if variables is not None else None,
            )  # fmt: skip
            self.default_page_size = default_page_size

    return Cost


_INTROSPECTION = frozenset({"__schema", "__type"})


def field_limit(max_fields: int, max_introspection: int = 1) -> type[ASTValidationRule]:
    """A validation rule: an operation selecting more than ``max_fields`` fields (every
    alias counts, fragments are counted where spread) or more than ``max_introspection``
    ``__schema``/``__type`` fields is refused (``QUERY_TOO_LARGE``)."""

    class FieldLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            ctx = self.context
            counts = [0, 0]  # fields, introspection fields
            _count(node.selection_set, ctx, counts, (), max_fields)
            name = node.name.value if node.name else "anonymous"
            if counts[0] > max_fields:
                message = (
                    f"Query '{name}' selects over {max_fields} fields; the limit is {max_fields}."
                )
            elif counts[1] > max_introspection:
                message = f"Query '{name}' asks for the schema {counts[1]} times; once is enough."
            else:
                return
            ctx.report_error(GraphQLError(message, node, extensions={"code": "QUERY_TOO_LARGE"}))

    return FieldLimit


def _count(
    selection_set: SelectionSetNode | None, ctx: ASTValidationContext, counts: list[int],
    spreads: tuple[str, ...], limit: int,
) -> None:  # fmt: skip
    if selection_set is None or counts[0] > limit:
        return  # stop early: a fragment spread many times must not cost the count itself
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            counts[0] += 1
            if sel.name.value in _INTROSPECTION:
                counts[1] += 1
            _count(sel.selection_set, ctx, counts, spreads, limit)
        elif isinstance(sel, InlineFragmentNode):
            _count(sel.selection_set, ctx, counts, spreads, limit)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in spreads:
            frag = ctx.get_fragment(sel.name.value)
            if frag is not None:
                _count(frag.selection_set, ctx, counts, (*spreads, sel.name.value), limit)


def depth_limit(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule: fields nested more than ``max_depth`` levels are refused."""

    class DepthLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            ctx = self.context
            depth = _depth(node.selection_set, ctx, set())
            if depth > max_depth:
                name = node.name.value if node.name else "anonymous"
                ctx.report_error(
                    GraphQLError(
                        f"Query '{name}' is {depth} levels deep; the limit is {max_depth}.",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP"},
                    )
                )

    return DepthLimit


def _depth(
    selection_set: SelectionSetNode | None, ctx: ASTValidationContext, seen: set[str]
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            inner = (
                0 if sel.name.value.startswith("__") else 1 + _depth(sel.selection_set, ctx, seen)
            )
            deepest = max(deepest, inner)
        elif isinstance(sel, InlineFragmentNode):
            deepest = max(deepest, _depth(sel.selection_set, ctx, seen))
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
            frag = ctx.get_fragment(sel.name.value)
            if frag is not None:
                deepest = max(deepest, _depth(frag.selection_set, ctx, seen | {sel.name.value}))
    return deepest
