"""``POST /graphql``: the hot path, kept short.

1. parse + static validation come from :class:`~.documents.DocumentCache`;
2. a cacheable query is answered from the response cache when nothing was written since
   it was stored (one Redis round trip), before any GraphQL execution;
3. otherwise Ariadne executes it and, when it succeeded without errors, the JSON bytes are
   stored for the next caller with the same document, variables and scope.
``GET /graphql`` (the GraphiQL explorer) is served by Ariadne's ASGI app.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection
from typing import Any

import orjson
from ariadne import graphql
from graphql import DocumentNode, GraphQLError, GraphQLSchema, TypeInfo
from graphql.validation import ASTValidationRule
from starlette.requests import Request
from starlette.responses import Response

from .auth import authenticate
from .documents import Document, DocumentCache
from .errors import UnauthenticatedError

JSON = "application/json"


def _error(message: str, status: int = 400) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)


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
    ) -> None:
        self.state = state
        self.documents = documents
        self.rules = rules
        self.formatter = formatter
        self.debug = debug
        self.explorer = explorer
        self.logger = logger

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["method"] != "POST":
            await self.explorer(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error("The request body is not valid JSON.")
        if not isinstance(data, dict) or not isinstance(data.get("query"), str):
            return _error("The request needs a JSON object with a string `query`.")
        variables = data.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return _error("`variables` must be a JSON object.")
        try:
            identity = authenticate(self.state.settings, request.headers.get("authorization"))
        except UnauthenticatedError as exc:
            refusal = {"errors": [{"message": exc.message, "extensions": exc.extensions}]}
            return Response(orjson.dumps(refusal), status_code=401, media_type=JSON)
        doc = self.documents.get(data["query"])
        ctx = self.state.context(
            request=request, request_id=request.headers.get("x-request-id") or uuid.uuid4().hex,
            identity=identity,
        )  # fmt: skip
        op_name = data.get("operationName")
        ttl = (
            doc.cache_ttl.get(op_name)
            if doc.node is not None and isinstance(op_name, str | None)
            else None
        )
        key, version = "", b""
        if ttl is not None:
            key = _response_key(data["query"], op_name, variables, ctx.scope)
            body, version = await self.state.cache.response_get(key)
            if body is not None:
                return Response(body, media_type=JSON)
        success, result = await self._execute(doc, data, ctx, variables)
        body = orjson.dumps(result)
        if ttl is not None and success and not result.get("errors"):
            await self.state.cache.response_set(key, version, body, ttl)
        return Response(body, status_code=200 if success else 400, media_type=JSON)

    async def _execute(
        self, doc: Document, data: dict[str, Any], ctx: Any, variables: Any
    ) -> tuple[bool, Any]:
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


def _response_key(query: str, op_name: Any, variables: Any, scope: str) -> str:
    material = orjson.dumps([query, op_name, variables, scope], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(material, digest_size=20).hexdigest()
