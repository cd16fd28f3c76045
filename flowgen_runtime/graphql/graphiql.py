"""The GraphiQL page of ``GET /graphql``, served from files shipped in this package.

React, ReactDOM, GraphiQL and its explorer plugin are vendored from the npm registry by
``tools/vendor_graphiql.py`` into ``static/graphiql/`` (versions, integrity hashes and
licenses in ``manifest.json`` and ``licenses/``), so the page works without internet and
loads nothing from another origin (its Content-Security-Policy says so to the browser).
``flowgen-graphiql.js`` (ours) mounts GraphiQL with the explorer plugin on, the headers
editor open for a token, subscriptions over ``ws(s)://<host>/graphql`` (the headers are
sent as the connection parameters) and a first query built from the schema
(:func:`default_query`).

The files are answered at ``/graphiql/<tag>/<name>``, where the tag is a digest of their
contents: a new release changes the URL, so browsers may cache them for a year::

    >>> page = LocalGraphiQL(registry.schema, title="School GraphQL")  # doctest: +SKIP
    >>> GraphQL(schema, explorer=page)                                    # GET /graphql
    >>> routes = [*asset_routes()]                                        # the files
"""

from __future__ import annotations

import hashlib
import html
import json
from functools import cache
from pathlib import Path
from typing import Any

from ariadne.explorer import Explorer
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).parent / "static" / "graphiql"
OWN_FILES = ("flowgen-graphiql.js",)
"""Files of ours next to the vendored ones (not in the manifest)."""
_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_CACHE_FOREVER = "public, max-age=31536000, immutable"
_SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-plugin-explorer.umd.js",
    "flowgen-graphiql.js",
)
_STYLES = ("graphiql.min.css", "graphiql-plugin-explorer.css")
# Nothing from another origin; ws:/wss: for subscriptions on this host ('self' covers
# them in current browsers, the explicit schemes in older ones). React and GraphiQL set
# inline styles; CodeMirror's fonts and icons come as data: URLs.
_CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:"
)
_FIELDS_SHOWN = 5


@cache
def assets() -> dict[str, Path]:
    """The files the page may load, by name (nothing else under ``static/`` is served)."""
    manifest = json.loads((STATIC / "manifest.json").read_text(encoding="utf-8"))
    names = [name for pkg in manifest.values() for name in pkg["files"]]
    return {name: STATIC / name for name in sorted([*names, *OWN_FILES])}


@cache
def asset_tag() -> str:
    """A digest of every served file: part of the URLs, so a change of any is a new URL."""
    digest = hashlib.sha256()
    for name, path in assets().items():
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


async def _asset(request: Request) -> Response:
    path = assets().get(request.path_params["name"])
    if path is None or request.path_params["tag"] != asset_tag():
        return PlainTextResponse("Not Found", status_code=404)
    headers = {"cache-control": _CACHE_FOREVER, "x-content-type-options": "nosniff"}
    return FileResponse(path, media_type=_MEDIA[path.suffix], headers=headers)


def asset_routes() -> list[Route]:
    """``GET /graphiql/<tag>/<name>``: the page's scripts and styles."""
    return [Route("/graphiql/{tag}/{name}", _asset, methods=["GET", "HEAD"])]


class LocalGraphiQL(Explorer):
    """Ariadne's explorer hook: the page's HTML, rendered once."""

    def __init__(self, schema: GraphQLSchema, *, title: str) -> None:
        self.page = render_page(title=title, query=default_query(schema, title=title))

    def html(self, request: Any) -> str:
        return self.page


def render_page(*, title: str, query: str) -> str:
    """The HTML: vendored files by relative URL (so a mounted app works too), the settings
    for ``flowgen-graphiql.js`` as JSON (no inline script: the CSP forbids it)."""
    base = f"graphiql/{asset_tag()}/"
    config = json.dumps({"query": query}).replace("<", "\\u003c")
    styles = "\n".join(f'<link rel="stylesheet" href="{base}{name}">' for name in _STYLES)
    scripts = "\n".join(f'<script src="{base}{name}"></script>' for name in _SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
{styles}
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="flowgen-graphiql-config" type="application/json">{config}</script>
{scripts}
</body>
</html>
"""


def default_query(schema: GraphQLSchema, *, title: str = "") -> str:
    """A first query to run: the schema's first list (a connection's ``nodes``, else a
    list of objects) with a few of its scalar fields; a comment says how to add a token.

    For ``type Query { books(first: Int): BookConnection! }`` (``nodes: [Book!]!``)::

        query Books {
          books(first: 10) {
            nodes {
              id
              title
            }
          }
        }
    """
    header = (
        f"# {title}: run this query with Ctrl-Enter or the ▶ button.\n"
        '# Signed in: in Headers (below) put {"Authorization": "Bearer <token>"};\n'
        "# in development `gen token --sub 1 --role admin` prints one.\n"
        "# The Explorer (left) builds a query from the schema by clicking fields.\n"
    )
    query = schema.query_type
    if query is None:
        return header
    for name, field in query.fields.items():
        if any(is_non_null_type(a.type) for a in field.args.values()):
            continue
        target = get_named_type(field.type)
        if not is_object_type(target):
            continue
        assert isinstance(target, GraphQLObjectType)
        nodes = target.fields.get("nodes")
        args = "(first: 10)" if "first" in field.args else ""
        if nodes is not None and is_object_type(get_named_type(nodes.type)):
            body = _selection(get_named_type(nodes.type), 2)
            if body:
                inner = f"    nodes {{\n{body}\n    }}"
                return f"{header}query {_title(name)} {{\n  {name}{args} {{\n{inner}\n  }}\n}}\n"
        elif "[" in str(field.type) and (body := _selection(target, 1)):
            return f"{header}query {_title(name)} {{\n  {name}{args} {{\n{body}\n  }}\n}}\n"
    return f"{header}{{\n  __typename\n}}\n"


def _selection(obj: Any, depth: int) -> str:
    indent = "  " * (depth + 1)
    leaves = [
        name
        for name, f in obj.fields.items()
        if is_leaf_type(get_named_type(f.type))
        and not any(is_non_null_type(a.type) for a in f.args.values())
    ]
    return "\n".join(f"{indent}{name}" for name in leaves[:_FIELDS_SHOWN])


def _title(field: str) -> str:
    return field[:1].upper() + field[1:]
