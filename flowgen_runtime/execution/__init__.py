"""A compiled executor for queries: plans built once per document, run without
graphql-core, and on PostgreSQL compiled further into a single SQL statement.

:class:`Executor` keeps the plans of each cached :class:`~flowgen_runtime.documents.Document`
(per operation and variables) and runs each request the fastest way that gives exactly
graphql-core's answer:

1. :mod:`.sql` - one statement returning the whole result as JSON (PostgreSQL, queries whose
   reads are all generated ones; documents answered from the cache keep step 2, where
   the entity cache and its single flight live);
2. :mod:`.run` - the plan run breadth first over the services;
3. None - graphql-core executes (errors, introspection, interfaces...).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import orjson
from graphql import GraphQLSchema

from .plan import Plan, compile_plan
from .run import run
from .sql import SqlPlan, compile_sql, finish

__all__ = ["Executor", "Plan", "compile_plan", "run"]

log = logging.getLogger("flowgen.execution")
_MAX_PLANS_PER_DOCUMENT = 64
_MAX_SQL_PER_PLAN = 64


class Executor:
    def __init__(self, schema: GraphQLSchema, *, cache_enabled: bool = False) -> None:
        self.schema = schema
        self.cache_enabled = cache_enabled

    def plan(self, doc: Any, operation_name: str | None, variables: Any) -> Plan | None:
        """The plan of ``doc`` (a parsed, validated Document) for these inputs, cached."""
        key = orjson.dumps([operation_name, variables], option=orjson.OPT_SORT_KEYS)
        plans: dict[bytes, Plan | None] = doc.plans
        if key in plans:
            return plans[key]
        if len(plans) >= _MAX_PLANS_PER_DOCUMENT:  # bounded: variables vary per request
            plans.clear()
        found = compile_plan(self.schema, doc.node, operation_name, variables)
        if found is not None:
            cached = self.cache_enabled and doc.cache_ttl.get(operation_name) is not None
            found = dataclasses.replace(found, use_sql=not cached)
        plans[key] = found
        return found

    async def run(self, plan: Plan, context: Any) -> dict[str, Any] | None:
        if plan.use_sql:
            result = await self._run_sql(plan, context)
            if result is not None:
                return result
        result = await run(plan, context)
        if result is None and hasattr(context, "forget_loaders"):
            context.forget_loaders()  # graphql-core starts over with empty DataLoaders
        return result

    async def _run_sql(self, plan: Plan, ctx: Any) -> dict[str, Any] | None:
        identity = ctx.identity
        caller = (
            b"anon"
            if identity is None
            else orjson.dumps(
                [identity.id, sorted(identity.roles), identity.claims],
                option=orjson.OPT_SORT_KEYS, default=str,
            )
        )  # fmt: skip
        statements: dict[bytes, SqlPlan | None] = plan.sql
        if caller in statements:
            sql = statements[caller]
        else:
            if len(statements) >= _MAX_SQL_PER_PLAN:
                statements.clear()
            sql = statements[caller] = compile_sql(plan, ctx, ctx.db.read_engine.dialect)
        if sql is None:
            return None
        try:
            text = await ctx.db.driver_value(sql.sql, *sql.params)
        except Exception:  # a statement the database refuses: the services answer instead
            log.warning("compiled SQL failed; falling back", exc_info=True)
            statements[caller] = None
            return None
        data = orjson.loads(text)
        if not finish(plan.root, data, sql.cursors):
            return None
        return {"data": data}
