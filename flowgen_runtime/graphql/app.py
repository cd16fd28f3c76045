"""The ASGI app: GraphQL (with the GraphiQL explorer on GET) at ``/graphql`` and the
explorer's files at ``/graphiql/...`` (:mod:`.graphiql`), ``/health``, and the job routes
of :mod:`.http_jobs` (job events stream, queue monitor).

>>> app = create_app(REGISTRY)            # doctest: +SKIP
>>> serve(app)                            # uvicorn on HOST:PORT
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from ariadne.asgi import GraphQL
from flowgen_runtime.core.errors import format_error
from flowgen_runtime.core.logging import configure_logging
from flowgen_runtime.core.settings import Settings, get_settings
from flowgen_runtime.data.state import AppState
from flowgen_runtime.graphql.documents import DocumentCache
from flowgen_runtime.graphql.endpoint import GraphQLEndpoint
from flowgen_runtime.graphql.execution import Executor
from flowgen_runtime.graphql.graphiql import LocalGraphiQL, asset_routes
from flowgen_runtime.graphql.ops import install as install_operations
from flowgen_runtime.graphql.schema import (
    connection_cost_map,
    cost_rule,
    depth_limit,
    field_limit,
)
from flowgen_runtime.jobs.http import JOB_ROUTES
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

log = logging.getLogger("flowgen.app")
_SILENT_LOGGER = "flowgen.graphql.ariadne"


class FlowgenApp(Starlette):
    """Starlette, with ``POST /graphql`` handed to the GraphQL endpoint before the
    middleware stack and the router: the endpoint keeps the request id, metrics and error
    logging itself (see :mod:`.http_graphql`), at a fraction of the cost. Middleware added
    after :func:`create_app` turns this off, so every request passes through it."""

    graphql_post: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        post = self.graphql_post
        if (
            post is not None
            and scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] == "POST"
            and not scope.get("root_path")
        ):
            scope["app"] = self
            await post(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        super().add_middleware(middleware_class, *args, **kwargs)
        self.graphql_post = None


def create_app(registry: Any, settings: Settings | None = None) -> Starlette:
    """Build the Starlette app for a generated ``REGISTRY``."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger(_SILENT_LOGGER).setLevel(logging.CRITICAL + 1)
    state = AppState(registry, settings)

    def formatter(error: Any, debug: bool = False) -> dict[str, Any]:
        return format_error(error, settings.debug)

    cost_map = connection_cost_map(registry.schema)

    def cost_rules(variables: Any) -> list[Any]:
        return [
            cost_rule(
                maximum_cost=settings.max_query_cost, default_page_size=registry.default_page_size,
                cost_map=cost_map, variables=variables if isinstance(variables, dict) else None,
            )
        ]  # fmt: skip

    # GET /graphql: Ariadne serves only the GraphiQL page (GET queries are not executed),
    # from the files this package ships (graphiql.py); every POST goes through GraphQLEndpoint
    page = LocalGraphiQL(registry.schema, title=f"{registry.name} GraphQL")
    explorer = GraphQL(registry.schema, explorer=page)

    ttls = {name: service.meta.cache_ttl for name, service in registry.services.items()}
    static_rules = [depth_limit(settings.max_query_depth), field_limit(settings.max_query_fields)]
    if not settings.introspection_on:
        static_rules.append(NoSchemaIntrospectionCustomRule)
    documents = DocumentCache(
        registry.schema, ttls, static_rules, max_bytes=settings.document_cache_bytes
    )
    endpoint = GraphQLEndpoint(
        state, documents, rules=cost_rules, formatter=formatter, debug=settings.debug,
        explorer=explorer, logger=_SILENT_LOGGER,
        executor=(
            Executor(
                registry.schema, reads=registry.reads, cache_enabled=settings.cache_enabled
            )
            if settings.compiled_execution
            else None
        ),
    )  # fmt: skip

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "app": registry.name})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await state.start()
        log.info("serving %s", registry.name, extra={"database": state.db.url.split("@")[-1]})
        try:
            yield
        finally:
            await state.stop()

    app = FlowgenApp(
        routes=[
            Route("/health", health),
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            *asset_routes(),
            *JOB_ROUTES,
        ],
        lifespan=lifespan,
    )
    app.state.flowgen = state
    install_operations(app)  # request ids, /metrics, /ready
    app.graphql_post = endpoint.post  # after the middleware: see FlowgenApp
    return app


def serve(app: Any, *, host: str | None = None, port: int | None = None) -> None:
    settings = get_settings()
    # no access log: POST /graphql keeps its own request ids and metrics, and uvicorn's
    # access logger formats every request before the level filter drops the line
    uvicorn.run(
        app, host=host or settings.host, port=port or settings.port, log_level="warning",
        access_log=False,
    )  # fmt: skip


def serve_package(
    target: str, *, host: str | None = None, port: int | None = None, workers: int = 1
) -> None:
    """Run ``"pkg.server:app"``; several ``workers`` are separate processes (stateless)."""
    settings = get_settings()
    uvicorn.run(
        target, host=host or settings.host, port=port or settings.port, workers=workers,
        log_level="warning", factory=False, access_log=False,
    )  # fmt: skip
