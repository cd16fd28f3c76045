"""``POST /graphql``: the hot path, kept short.

1. parse + static validation come from :class:`~.documents.DocumentCache`;
2. a cacheable query is answered from the response cache when nothing was written since
   it was stored (one Redis round trip), before any GraphQL execution;
3. otherwise the compiled executor (:mod:`.execution`) answers it - one SQL statement on
   PostgreSQL, or its plan over the services - and Ariadne executes what the executor
   gives back (errors, introspection...); when it succeeded without errors, the JSON
   bytes are stored for the next caller with the same request body and scope.
``GET /graphql`` (the GraphiQL explorer) is served by Ariadne's ASGI app.

A POST is answered in raw ASGI (:meth:`GraphQLEndpoint.post`), without Starlette's
request and response objects, and the app dispatches it before its middleware stack
(:class:`~.app.FlowgenApp`): the endpoint does what :class:`~.http_ops.RequestMiddleware`
does for other routes itself - the request id in and out, the GraphQL metrics, and one
log line with the traceback (and a plain 500) for an error that escapes. A cache hit then
costs: read the body, parse the JSON, a dict lookup for the caller's token
(:class:`~.auth.IdentityCache`) and one for the document, one hash, one ``MGET``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

import orjson
from ariadne import graphql
from flowgen_runtime.auth.tokens import IdentityCache
from flowgen_runtime.core import metrics
from flowgen_runtime.core.errors import UNAVAILABLE, UnauthenticatedError
from flowgen_runtime.core.logging import request_id as request_id_var
from flowgen_runtime.data.context import caller_scope, claims_read
from flowgen_runtime.graphql.documents import Document, DocumentCache
from flowgen_runtime.graphql.ops import incoming_request_id
from graphql import DocumentNode, GraphQLError, GraphQLSchema, TypeInfo
from graphql.validation import ASTValidationRule
from starlette.requests import Request

JSON = "application/json"
_JSON_HEADER = (b"content-type", b"application/json")
log = logging.getLogger("flowgen.http")
_NOT_JSON = object()


def _error(message: str, status: int = 400, code: str = "BAD_REQUEST") -> tuple[int, bytes]:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return status, orjson.dumps(body)


class GraphQLEndpoint:
    """The POST handler; ``explorer`` answers everything else (GET with GraphiQL)."""

    def __init__(
        self,
        state: Any,
        documents: DocumentCache,
        *,
        rules: Callable[[Any], list[Any]],
        formatter: Callable[..., Any],
        debug: bool,
        explorer: Any,
        logger: str,
        executor: Any = None,
    ) -> None:
        self.state = state
        self.documents = documents
        self.rules = rules
        self.formatter = formatter
        self.debug = debug
        self.explorer = explorer
        self.logger = logger
        self.executor = executor
        """A compiled :class:`~.execution.Executor` tried first; graphql-core otherwise."""
        self.identities = IdentityCache(state.settings)
        self._meters: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["method"] != "POST":
            await self.explorer(scope, receive, send)
            return
        await self.post(scope, receive, send)

    async def post(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer a POST in raw ASGI, with the request id, metrics and error logging."""
        started = time.perf_counter()
        auth = rid_header = None
        header_bytes = 0
        for name, value in scope["headers"]:
            header_bytes += len(name) + len(value) + 4
            if name == b"authorization":
                auth = value.decode("latin-1")
            elif name == b"x-request-id":
                rid_header = value.decode("latin-1")
        rid = incoming_request_id(rid_header)
        token = request_id_var.set(rid)
        status, operation, responded = 500, "invalid", False
        try:
            settings = self.state.settings
            if header_bytes > settings.max_header_bytes:
                status, responded = 431, True
                message = f"The request headers exceed {settings.max_header_bytes} bytes."
                await _respond(send, status, _error(message, 431, "HEADERS_TOO_LARGE")[1], rid)
                return
            raw = await _body(receive, settings.max_body_bytes)
            if raw is None:
                status, responded = 413, True
                message = f"The request body exceeds {settings.max_body_bytes} bytes."
                await _respond(send, status, _error(message, 413, "BODY_TOO_LARGE")[1], rid)
                return
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                data = _NOT_JSON
            else:
                operation = metrics.operation_label(data)
            status, body = await self.answer(raw, data, auth, rid, scope)
            responded = True
            await _respond(send, status, body, rid)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if not responded:
                status = 500
                refusal = {"error": "Internal server error", "requestId": rid}
                await _respond(send, status, orjson.dumps(refusal), rid)
        finally:
            self._measure(operation, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _measure(self, operation: str, status: int, elapsed: float) -> None:
        # the labelled children are looked up once (labels() takes a lock and builds a key);
        # operation labels are bounded by metrics.operation_label, statuses by HTTP
        meters = self._meters.get((operation, status))
        if meters is None:
            meters = self._meters[(operation, status)] = (
                metrics.GRAPHQL_LATENCY.labels(operation),
                metrics.GRAPHQL_REQUESTS.labels(operation, str(status)),
            )
        meters[0].observe(elapsed)
        meters[1].inc()
        if metrics.pool_sample_due():
            metrics.sample_pool(self.state.db)

    async def answer(
        self, raw: bytes, data: Any, auth: str | None, rid: str, scope: Any
    ) -> tuple[int, bytes]:
        """``(HTTP status, JSON body)`` for the request body ``raw``, parsed as ``data``."""
        if data is _NOT_JSON:
            return _error("The request body is not valid JSON.")
        if not isinstance(data, dict) or not isinstance(data.get("query"), str):
            return _error("The request needs a JSON object with a string `query`.")
        variables = data.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return _error("`variables` must be a JSON object.")
        try:
            identity = self.identities.authenticate(auth)
        except UnauthenticatedError as exc:
            refusal = {"errors": [{"message": exc.message, "extensions": exc.extensions}]}
            return 401, orjson.dumps(refusal)
        doc = self.documents.get(data["query"])
        op_name = data.get("operationName")
        ttl = (
            doc.cache_ttl.get(op_name)
            if doc.node is not None and isinstance(op_name, str | None)
            else None
        )
        key, version = "", b""
        if ttl is not None and self.state.cache.redis is not None:
            # the raw body holds the query, operation name and variables: the same bytes
            # mean the same request (a body that differs only in spacing simply misses)
            key = _response_key(
                raw, caller_scope(identity, claims=claims_read(self.state.registry))
            )
            body, version = await self.state.cache.response_get(key)
            if body is not None:
                return 200, body
        ctx = self.state.context(
            request_factory=lambda: Request(_with_request_id(scope, rid)), request_id=rid,
            identity=identity,
        )  # fmt: skip
        success, result = await self._execute(doc, data, ctx, variables)
        body = orjson.dumps(result)
        errors = result.get("errors")
        if key and ttl is not None and success and not errors:
            await self.state.cache.response_set(key, version, body, ttl)
        if errors and any((e.get("extensions") or {}).get("code") == UNAVAILABLE for e in errors):
            return 503, body  # the database is away: retry later
        return (200 if success else 400), body

    async def _execute(
        self, doc: Document, data: dict[str, Any], ctx: Any, variables: Any
    ) -> tuple[bool, Any]:
        if self.executor is not None and doc.node is not None and not self.state.db.is_sqlite:
            op_name = data.get("operationName")
            plan = (
                self.executor.plan(doc, op_name, variables)
                if isinstance(op_name, str | None)
                and self.executor.runs(doc, op_name)
                and not self.documents.validate(doc, variables, self.rules)
                else None
            )
            if plan is not None:
                result = await self.executor.run(plan, ctx)
                if result is not None:
                    return True, result

        def parser(_context: Any, _data: Any) -> DocumentNode:
            if doc.parse_error is not None:
                raise doc.parse_error
            assert doc.node is not None
            return doc.node

        def validator(
            schema: GraphQLSchema,
            document_ast: DocumentNode,
            rules: Collection[type[ASTValidationRule]] | None = None,
            max_errors: int | None = None,
            type_info: TypeInfo | None = None,
        ) -> list[GraphQLError]:
            return self.documents.validate(doc, variables, self.rules)

        return await graphql(
            self.documents.schema, data, context_value=ctx, query_parser=parser,
            query_validator=validator, error_formatter=self.formatter,
            debug=self.debug, logger=self.logger,
        )  # fmt: skip


def _response_key(raw: bytes, scope: str) -> str:
    """The response cache key of a request body for a caller scope."""
    digest = hashlib.blake2b(raw, digest_size=20)
    digest.update(b"\0" + scope.encode())
    return digest.hexdigest()


async def _body(receive: Any, limit: int) -> bytes | None:
    """The request body, or None once it grows past ``limit`` bytes (the rest unread)."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body if len(body) <= limit else None
    chunks, size = [body], len(body)
    while message.get("more_body", False):
        if size > limit:
            return None
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks) if size <= limit else None


async def _respond(send: Any, status: int, body: bytes, rid: str) -> None:
    headers = [
        _JSON_HEADER,
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", rid.encode("latin-1")),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_request_id(scope: Any, rid: str) -> Any:
    """``scope`` whose ``X-Request-ID`` header is ``rid`` (what the context's request shows)."""
    headers = [item for item in scope.get("headers") or () if item[0] != b"x-request-id"]
    return {**scope, "headers": [*headers, (b"x-request-id", rid.encode("latin-1"))]}
