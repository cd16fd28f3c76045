"""The compiled SQL path: a query whose reads are all generated ones answered by one
PostgreSQL statement that returns the whole result as JSON.

:class:`Executor` keeps the plans of each cached :class:`~flowgen_runtime.graphql.documents.Document`
(per operation and variables) and the statements compiled from them, and answers a
request only when that gives exactly graphql-core's answer; it returns None for
everything else, which graphql-core executes: mutations, subscriptions, queries answered
from the whole-response cache (the entity cache and its single flight live in the
services), SQLite, what no plan models (introspection, interfaces...: ``plan()`` is
None), and any statement that fails or returns an incomplete answer (an error, a null in
a non-null position: graphql-core reports it with its path). The SQL path has no side
effects, so a request it gives up on runs once, on graphql-core.

A plan runner that ran the rest on plans without graphql-core was measured on its own
(``bench/executor_bench.py``, ``docs/benchmarks.md``) at 0.90-1.22x and removed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import orjson
from flowgen_runtime.graphql.execution.plan import (
    Compiled,
    Plan,
    ReadTable,
    bind,
    coerce,
    compile_operation,
    compile_plan,
    switches,
)
from flowgen_runtime.graphql.execution.tosql import BadValue, SqlPlan, compile_sql, finish
from flowgen_runtime.graphql.schema import Read
from graphql import GraphQLSchema, OperationDefinitionNode, OperationType, get_operation_ast

__all__ = ["Executor", "Plan", "ReadTable", "compile_plan"]

log = logging.getLogger("flowgen.execution")
_MAX_PLANS_PER_DOCUMENT = 64
_MAX_STATEMENTS = 2048


class Executor:
    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        reads: Mapping[Any, Read] | None = None,
        cache_enabled: bool = False,
    ) -> None:
        self.schema = schema
        self.reads = ReadTable(reads or {})
        """The generated read resolvers (the registry's ``reads``): only fields whose
        resolver is one of them become SQL."""
        self.cache_enabled = cache_enabled
        self._statements: OrderedDict[tuple[Any, ...], SqlPlan | None] = OrderedDict()
        """Compiled statements by (plan's sql_key, caller's visibility), least recently
        used first."""
        self._anonymous: dict[str, Any] = {}

    def runs(self, doc: Any, operation_name: str | None) -> bool:
        """Whether the operation is one the executor may answer (a query; mutations and
        subscriptions go to graphql-core)."""
        return self._operation(doc, operation_name) is not None

    def _operation(self, doc: Any, operation_name: str | None) -> OperationDefinitionNode | None:
        """The operation the executor may run, or None; remembered per document."""
        if operation_name not in doc.executable:
            operation = get_operation_ast(doc.node, operation_name)
            if operation is not None and operation.operation != OperationType.QUERY:
                operation = None
            doc.executable[operation_name] = operation
        found: OperationDefinitionNode | None = doc.executable[operation_name]
        return found

    def plan(self, doc: Any, operation_name: str | None, variables: Any) -> Plan | None:
        """The plan of ``doc`` (a parsed, validated Document) for these inputs, if the SQL
        path may answer it; else None.

        Plans are kept per variable values (a query is often sent again with the same
        ones); the operation is compiled once per ``@skip``/``@include`` values, and a
        request with new variables only coerces them and computes the arguments that use
        them. A query answered from the whole-response cache has none: its misses run on
        the services, where the entity cache and its single flight are."""
        operation = self._operation(doc, operation_name)
        if operation is None:
            return None
        plans: dict[bytes, Plan | None] = doc.plans
        key = orjson.dumps([operation_name, variables], option=orjson.OPT_SORT_KEYS)
        if key in plans:
            return plans[key]
        cached = self.cache_enabled and doc.cache_ttl.get(operation_name) is not None
        found = None if cached else self._bound(doc, operation, variables)
        if found is not None:
            shape = {k: v for k, v in (variables or {}).items() if k not in found.lifted}
            sql_key = (doc.text, operation_name, orjson.dumps(shape, option=orjson.OPT_SORT_KEYS))
            found = dataclasses.replace(found, use_sql=True, sql_key=sql_key)
        if len(plans) >= _MAX_PLANS_PER_DOCUMENT:  # bounded: variables vary per request
            plans.clear()
        plans[key] = found
        return found

    def _bound(self, doc: Any, operation: OperationDefinitionNode, variables: Any) -> Plan | None:
        """The operation, compiled (or found compiled), bound to these variables; None if
        they do not coerce or the operation is not one a plan models."""
        coerced = coerce(self.schema, operation, variables)
        if coerced is None:
            return None
        compiled = self._compiled(doc, operation, coerced, variables)
        return None if compiled is None else bind(compiled, coerced)

    def _compiled(
        self, doc: Any, operation: OperationDefinitionNode, coerced: Any, variables: Any
    ) -> Compiled | None:
        if doc.switches is None:
            doc.switches = switches(doc.node)
        values = [(variables or {}).get(name) for name in doc.switches]
        name = operation.name.value if operation.name else None
        key = (name, orjson.dumps(values) if values else b"")
        found: dict[tuple[str | None, bytes], Compiled | None] = doc.compiled
        if key not in found:
            if len(found) >= _MAX_PLANS_PER_DOCUMENT:
                found.clear()
            found[key] = compile_operation(self.schema, doc.node, operation, coerced, self.reads)
        return found[key]

    def _visibility(self, ctx: Any) -> bytes:
        """What a compiled statement depends on about the caller: its read access (row
        rule with the caller's values in it, hidden fields, or none) to every entity.
        Callers who see the same share statements (every admin; one user across token
        renewals). Remembered on the verified identity, which is reused per token."""
        identity = ctx.identity
        if ctx.system:
            return b"system"
        memo: dict[str, Any] = self._anonymous if identity is None else identity.__dict__
        found = memo.get("_flowgen_visibility")
        if found is None:
            seen = [[n, ctx.seen(s.meta)] for n, s in sorted(ctx.registry.services.items())]
            found = memo["_flowgen_visibility"] = orjson.dumps(
                seen, option=orjson.OPT_SORT_KEYS, default=str
            )
        return bytes(found)

    async def run(self, plan: Plan, context: Any) -> dict[str, Any] | None:
        """The answer, or None: graphql-core runs the request."""
        return await self._run_sql(plan, context) if plan.use_sql else None

    async def _run_sql(self, plan: Plan, ctx: Any) -> dict[str, Any] | None:
        key = (*plan.sql_key, self._visibility(ctx))
        statements = self._statements
        if key in statements:
            statements.move_to_end(key)
            sql = statements[key]
        else:
            try:
                sql = compile_sql(plan, ctx, ctx.db.read_engine.dialect)
            except BadValue:
                return None  # this request's value only: the services report it
            statements[key] = sql
            if len(statements) > _MAX_STATEMENTS:
                statements.popitem(last=False)
        if sql is None:
            return None
        try:
            params = sql.bind(plan.variables.coerced)
        except Exception:  # noqa: BLE001 - a value the services refuse (and report)
            return None
        try:
            text = await ctx.db.driver_value(sql.sql, *params)
        except Exception:  # the database refuses it: the services answer (and report)
            if not sql.lifted:  # else a value may be at fault (an id out of range...)
                log.warning("compiled SQL failed; falling back", exc_info=True)
                statements[key] = None
            return None
        try:
            data = orjson.loads(text)
            complete = finish(plan.root, data, sql.cursors)
        except Exception:  # an answer of unexpected shape: a bug, but the services answer
            log.warning("compiled SQL answer not understood; falling back", exc_info=True)
            return None
        return {"data": data} if complete else None
