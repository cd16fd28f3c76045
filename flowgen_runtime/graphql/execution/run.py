"""Run a :class:`~.plan.Plan` breadth first: one level of the result at a time.

For a list of parent objects, every field's resolver is called for every parent, and all
the awaitables of the level are gathered at once (DataLoaders batch them exactly as under
graphql-core). The values are then completed a column at a time: a leaf column is one
list comprehension over its serializer, an object column recurses once for all its
objects. The result is the same ``data`` graphql-core would build, in the same key order.

Only the success path is modelled: an error anywhere (a resolver raising, a null in a
non-null position, a value a scalar refuses) raises :class:`Fallback`, and graphql-core
finishes the request with a :class:`Replay` of every resolver call already made, so it
reports the error with its path, as always, and no resolver runs twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from inspect import isawaitable
from typing import Any

from flowgen_runtime.graphql.execution.plan import (
    LEAF,
    LIST,
    NON_NULL,
    FieldPlan,
    ObjectPlan,
    Plan,
    Shape,
)
from graphql import GraphQLResolveInfo
from graphql.pyutils import Path, is_awaitable
from graphql.type.definition import GraphQLResolveInfoHelpers


class Fallback(Exception):
    """Not a success: let graphql-core execute (and report) the request."""


async def _gather(values: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*values))


_HELPERS = GraphQLResolveInfoHelpers(gather=_gather, track=lambda _values: None)


async def run(plan: Plan, context: Any) -> dict[str, Any] | Replay:
    """``{"data": ...}`` as graphql-core would answer; else a :class:`Replay` of the
    resolver calls already made, with which graphql-core finishes (and reports) it."""
    if plan.mutation:
        return await _mutate(plan, context)
    runner = _Run(plan, context)
    try:
        [data] = await runner.objects(plan.root, [None])
    except Exception:  # noqa: BLE001 - any failure: graphql-core finishes and reports it
        return Replay(runner.done)
    return {"data": data}


Outcome = tuple[bool, Any]
"""(True, value) or (False, the exception raised)."""


class Replay:
    """Resolver calls already made, by (parent object, response path): their outcome.

    A resolver is never run twice for one request (a mutation has side effects; a user's
    resolver may count, log or call out): when something fails, graphql-core finishes the
    request with this as middleware, which hands it the recorded outcome of each call
    instead of calling the resolver again (it calls those not reached yet itself), and
    reports errors and nulls exactly as it always does. The parent objects graphql-core
    passes are the very objects the recorded calls returned, so ``id()`` matches them."""

    def __init__(self, done: dict[tuple[int, tuple[str, ...]], Outcome]) -> None:
        self.done = done

    def resolve(self, next_: Any, root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        path = tuple(k for k in info.path.as_list() if isinstance(k, str))
        found = self.done.get((id(root), path))
        if found is None:
            return next_(root, info, **args)
        ok, outcome = found
        if not ok:
            raise outcome
        return outcome


async def _mutate(plan: Plan, context: Any) -> dict[str, Any] | Replay:
    """Root fields one after the other (as the spec says for mutations), then the
    completion of their results (reads) as for a query."""
    runner = _Run(plan, context)
    done = runner.done
    columns = []
    for field in plan.root.fields:
        if field.resolve is None:  # __typename, or a field without resolver on the root
            columns.append(runner._resolve(plan.root, field, [None]))
            continue
        try:
            info = runner.info(plan.root, field)
            value = field.resolve(None, info, **plan.args_of(field))
            if isawaitable(value):
                value = await value
        except Exception as exc:  # noqa: BLE001 - reported by graphql-core, from the replay
            done[(id(None), field.path)] = (False, exc)
            return Replay(done)
        done[(id(None), field.path)] = (True, value)
        columns.append([value])
    try:
        [data] = await runner.completed(plan.root, columns)
    except Exception:  # noqa: BLE001 - graphql-core completes it (and reports the error)
        return Replay(done)
    return {"data": data}


class _Run:
    __slots__ = ("plan", "context", "infos", "done")

    def __init__(self, plan: Plan, context: Any) -> None:
        self.plan = plan
        self.context = context
        self.infos: dict[int, GraphQLResolveInfo] = {}
        self.done: dict[tuple[int, tuple[str, ...]], Outcome] = {}
        """Every resolver call's outcome, for a :class:`Replay` if the request fails."""

    def info(self, parent: ObjectPlan, field: FieldPlan) -> GraphQLResolveInfo:
        found = self.infos.get(id(field))
        if found is None:
            plan, compiled = self.plan, self.plan.compiled
            found = self.infos[id(field)] = GraphQLResolveInfo(
                field.name, list(field.nodes), field.return_type, parent.type,
                Path(None, field.key, parent.type.name), compiled.schema, compiled.fragments,
                None, compiled.operation, plan.variables, self.context, is_awaitable, None,
                _HELPERS,
            )  # fmt: skip
        return found

    async def objects(self, plan: ObjectPlan, parents: list[Any]) -> list[dict[str, Any]]:
        return await self.completed(plan, await self.resolved(plan, parents))

    async def resolved(self, plan: ObjectPlan, parents: list[Any]) -> list[list[Any]]:
        """Every field's value for every parent (a column per field), awaited together."""
        columns = [self._resolve(plan, field, parents) for field in plan.fields]
        pending = [
            (column, i, value, field.path)
            for field, column in zip(plan.fields, columns, strict=True)
            if field.resolve is not None
            for i, value in enumerate(column)
            if isawaitable(value)
        ]
        if pending:
            results = await asyncio.gather(*(p[2] for p in pending), return_exceptions=True)
            failed: BaseException | None = None
            done = self.done
            for (column, i, _, path), result in zip(pending, results, strict=True):
                if isinstance(result, BaseException):
                    done[(id(parents[i]), path)] = (False, result)
                    failed = failed or result
                else:
                    done[(id(parents[i]), path)] = (True, result)
                    column[i] = result
            if failed is not None:
                raise Fallback from failed
        return columns

    async def completed(self, plan: ObjectPlan, columns: list[list[Any]]) -> list[dict[str, Any]]:
        """The result objects, from the resolved columns of ``resolved``."""
        completed: list[list[Any] | None] = []
        deferred = []
        for field, column in zip(plan.fields, columns, strict=True):
            if field.sub is not None:
                deferred.append((len(completed), self.complete(field.shape, column)))
                completed.append(None)
            else:
                completed.append(_leaves(field.shape, column))
        if len(deferred) == 1:
            index, work = deferred[0]
            completed[index] = await work
        elif deferred:
            done = await asyncio.gather(*(work for _, work in deferred))
            for (index, _), values in zip(deferred, done, strict=True):
                completed[index] = values
        keys = [field.key for field in plan.fields]
        return [dict(zip(keys, row, strict=True)) for row in zip(*completed, strict=True)]

    def _resolve(self, plan: ObjectPlan, field: FieldPlan, parents: list[Any]) -> list[Any]:
        if field.typename is not None:
            return [field.typename] * len(parents)
        if field.attr is not None:
            attr = field.attr
            column = [
                p.get(attr) if isinstance(p, Mapping) else getattr(p, attr, None) for p in parents
            ]
            if any(callable(v) for v in column):
                raise Fallback(f"{field.name} is a method")
            return column
        resolve, args, info = field.resolve, self.plan.args_of(field), self.info(plan, field)
        assert resolve is not None
        column, done, path = [], self.done, field.path
        for p in parents:
            try:
                value = resolve(p, info, **args)
            except Exception as exc:
                done[(id(p), path)] = (False, exc)
                raise Fallback from exc
            if not isawaitable(value):
                done[(id(p), path)] = (True, value)
            column.append(value)
        return column

    async def complete(self, shape: Shape, values: list[Any]) -> list[Any]:
        kind = shape.kind
        if kind == NON_NULL:
            if any(v is None for v in values):
                raise Fallback("null in a non-null position")
            assert shape.inner is not None
            return await self.complete(shape.inner, values)
        if kind == LIST:
            assert shape.inner is not None
            flat, sizes = _flatten(values)
            done = await self.complete(shape.inner, flat)
            return _regroup(done, sizes)
        assert shape.object is not None
        present = [v for v in values if v is not None]
        objects = iter(await self.objects(shape.object, present))
        return [None if v is None else next(objects) for v in values]


def _leaves(shape: Shape, values: list[Any]) -> list[Any]:
    kind = shape.kind
    if kind == NON_NULL:
        if any(v is None for v in values):
            raise Fallback("null in a non-null position")
        assert shape.inner is not None
        return _leaves(shape.inner, values)
    if kind == LIST:
        assert shape.inner is not None
        flat, sizes = _flatten(values)
        return _regroup(_leaves(shape.inner, flat), sizes)
    assert kind == LEAF and shape.serialize is not None
    serialize = shape.serialize
    out = [None if v is None else serialize(v) for v in values]
    if any(s is None and v is not None for s, v in zip(out, values, strict=True)):
        raise Fallback("a scalar refused a value")
    return out


def _flatten(values: list[Any]) -> tuple[list[Any], list[int]]:
    flat: list[Any] = []
    sizes: list[int] = []
    for v in values:
        if v is None:
            sizes.append(-1)
            continue
        if isinstance(v, str | bytes | Mapping) or not hasattr(v, "__iter__"):
            raise Fallback("a list field resolved to a non-list")
        items = list(v)
        sizes.append(len(items))
        flat.extend(items)
    return flat, sizes


def _regroup(done: list[Any], sizes: list[int]) -> list[Any]:
    out: list[Any] = []
    start = 0
    for size in sizes:
        if size < 0:
            out.append(None)
        else:
            out.append(done[start : start + size])
            start += size
    return out
