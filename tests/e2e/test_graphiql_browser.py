"""GraphiQL in a real browser, offline: headless Chromium (Debian's ``chromium``) opens
``GET /graphql`` of a running server with no route to the internet, GraphiQL renders with
its explorer plugin, and a query typed into the page with a token in its Headers editor
answers with the rows. Every request the page made went to the server itself.

Without Chromium the test skips locally and fails under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cdp import Page, chromium_executable, offline_page
from .harness import ADMIN, REPO, App, child_env, drop_keys

pytestmark = pytest.mark.e2e


@pytest.fixture
def chromium() -> str:
    found = chromium_executable()
    if found is None:
        message = "chromium not found (Debian: apt-get install chromium; or set CHROMIUM)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true: the GraphiQL browser test must run", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def server(generated_pg: str, redis_url: str, tmp_path: Path) -> Iterator[App]:
    """The committed example (``generated/``) served on its own database and prefix."""
    prefix = f"giql{uuid.uuid4().hex[:8]}"
    env = child_env(
        {"DATABASE_URL": generated_pg, "REDIS_URL": redis_url, "QUEUE_PREFIX": prefix,
         "CACHE_PREFIX": prefix, "INTROSPECTION": "true"}
    )  # fmt: skip
    app = App(tmp_path, env)
    log = tmp_path / "server.log"
    app.logs.append(log)
    app.procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "generated.server"], cwd=REPO,
            env={**env, "PORT": str(app.port)}, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )
    )  # fmt: skip
    try:
        app.wait_healthy()
        yield app
    finally:
        app.stop()
        drop_keys(redis_url, prefix)


# CodeMirror 5 keeps its editor object on the element: the page's own editors, set as a
# user's typing would set them (GraphiQL listens to their change events).
_EDITOR = "document.querySelector({!r}).CodeMirror"
QUERY_EDITOR = _EDITOR.format(".graphiql-query-editor .CodeMirror")
HEADERS_EDITOR = _EDITOR.format(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
RESULT = _EDITOR.format(".result-window .CodeMirror")


def test_graphiql_renders_offline_and_runs_a_query_with_a_token(server: App, chromium: str) -> None:
    name = f"Browser {uuid.uuid4().hex[:6]}"
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    server.data(f'mutation {{ createUser(input: {{email: "{email}", name: "{name}"}}) {{ id }} }}')

    with offline_page(f"{server.url}/graphql", executable=chromium) as page:
        page.wait_for("!!document.querySelector('.graphiql-container')", what="GraphiQL rendered")
        # the explorer plugin is open and lists the schema's root fields (from introspection)
        page.wait_for(
            "!!document.querySelector('.graphiql-explorer-root') && "
            "document.querySelector('.graphiql-plugin').innerText.includes('courses')",
            what="the explorer plugin, showing the schema",
        )
        assert page.errors == [], page.errors  # no script error, no file refused by the CSP
        # the first query is the schema's first list, not a generic comment
        assert "courses(first: 10)" in page.evaluate(f"{QUERY_EDITOR}.getValue()")

        page.evaluate(
            f"{HEADERS_EDITOR}.setValue({json.dumps(json.dumps({'Authorization': f'Bearer {ADMIN}'}))})"
        )
        query = f'{{ users(where: {{email: {{eq: "{email}"}}}}) {{ nodes {{ name email }} }} }}'
        page.evaluate(f"{QUERY_EDITOR}.setValue({json.dumps(query)})")
        text = _run(page)
        assert json.loads(text) == {"data": {"users": {"nodes": [{"name": name, "email": email}]}}}

        # anonymous: the same query from the page is refused (the token above was used)
        page.evaluate(f"{HEADERS_EDITOR}.setValue('{{}}')")
        refused = _run(page)
        assert "nodes" not in refused and "errors" in refused, refused

    assert page.requests, "the page made no request at all"
    # data: URLs (GraphiQL's fonts) are inline, not requests to anywhere
    outside = [u for u in page.requests if not u.startswith((f"{server.url}/", "data:"))]
    assert outside == [], f"requests that left the server: {outside}"


def _run(page: Page) -> str:
    """Press the run button; the result panel's text. GraphiQL reads the operation's name
    from the edited query after a short debounce: until then a run names the previous
    query's operation ("Unknown operation named"), as a user clicking at once would see."""
    deadline = time.monotonic() + 10
    while True:
        page.evaluate(f"{RESULT}.setValue('')")
        page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        text: str = page.wait_for(
            f"(() => {{ const t = {RESULT}.getValue(); return t.trim() && t; }})()",
            what="a result in the page",
        )
        if "Unknown operation named" not in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)
