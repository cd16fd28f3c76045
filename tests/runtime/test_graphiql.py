"""The GraphiQL page is served from this package's files (no CDN); they are the vendored
ones (manifest hashes), cached by URL; its first query comes from the schema. The browser
test (tests/browser) runs the page in Chromium."""

from __future__ import annotations

import hashlib
import json
import re

import httpx
from flowgen_runtime.core.settings import Settings
from flowgen_runtime.graphql import graphiql
from flowgen_runtime.graphql.app import create_app
from graphql import build_schema

from generated.registry import REGISTRY


def test_the_vendored_files_are_those_the_manifest_pins() -> None:
    manifest = json.loads((graphiql.STATIC / "manifest.json").read_text())
    assert set(manifest) == {
        "react", "react-dom", "graphiql", "@graphiql/plugin-explorer", "graphiql-explorer",
    }  # fmt: skip
    for package, entry in manifest.items():
        assert entry["integrity"].startswith("sha512-"), package
        assert (graphiql.STATIC / entry["license_file"]).read_text().startswith("MIT License")
        for name, sha256 in entry["files"].items():
            data = (graphiql.STATIC / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha256, f"{name} is not {package}'s"
    assert set(graphiql.assets()) == {
        *(n for e in manifest.values() for n in e["files"]), "flowgen-graphiql.js",
    }  # fmt: skip


async def test_the_page_loads_only_files_of_this_server() -> None:
    app = create_app(REGISTRY, Settings(jwt_secret="x" * 40))
    transport = httpx.ASGITransport(app=app)  # no lifespan: neither route needs a database
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "unpkg" not in page.text and "cdn" not in page.text.lower()
        assert "default-src 'self'" in page.text  # the CSP: nothing from other origins
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        urls.remove("data:,")  # no favicon: the browser would ask for /favicon.ico
        assert len(urls) == 7 and all(
            u.startswith(f"graphiql/{graphiql.asset_tag()}/") for u in urls
        )
        for url in urls:
            asset = await client.get(f"/{url}")
            assert asset.status_code == 200, url
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
        wrong_tag = await client.get("/graphiql/000000000000/graphiql.min.js")
        not_listed = await client.get(f"/graphiql/{graphiql.asset_tag()}/manifest.json")
        escape = await client.get(f"/graphiql/{graphiql.asset_tag()}/..%2Fgraphiql.py")
        assert [r.status_code for r in (wrong_tag, not_listed, escape)] == [404, 404, 404]


def test_the_first_query_is_the_first_list_with_a_few_scalar_fields() -> None:
    schema = build_schema(
        """
        type Query { me: User  book(id: ID!): Book  books(first: Int): BookConnection! }
        type BookConnection { nodes: [Book!]! totalCount: Int! }
        type Book { id: ID! title: String! author: User! tags(first: Int!): [String!]!
                    kind: Kind  pages: Int  isbn: String  year: Int }
        type User { id: ID! }
        enum Kind { NOVEL ESSAY }
        """
    )
    query = graphiql.default_query(schema, title="Library GraphQL")
    assert query.startswith("# Library GraphQL: run this query")
    assert '{"Authorization": "Bearer <token>"}' in query
    body = query[query.index("\nquery ") + 1 :]
    assert body == (
        "query Books {\n  books(first: 10) {\n    nodes {\n      id\n      title\n      kind\n"
        "      pages\n      isbn\n    }\n  }\n}\n"
    )
    plain = build_schema("type Query { tags: [Tag!]! } type Tag { name: String }")
    assert graphiql.default_query(plain).endswith("query Tags {\n  tags {\n    name\n  }\n}\n")
    nothing = build_schema("type Query { ping(x: Int!): String }")
    assert graphiql.default_query(nothing).endswith("{\n  __typename\n}\n")


def test_the_example_app_opens_on_a_list_of_its_rows() -> None:
    query = graphiql.default_query(REGISTRY.schema)
    assert re.search(r"^query \w+ \{\n  \w+\(first: 10\) \{\n    nodes \{\n      id\n", query, re.M)
