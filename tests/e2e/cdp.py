"""Headless Chromium driven over the Chrome DevTools Protocol, offline.

Why raw CDP rather than Playwright: the protocol is Chromium's own public, versioned
interface; it needs only ``websockets`` (already installed with uvicorn) and the Debian
``chromium`` binary, whereas Playwright adds a ~40 MB wheel with its own Node driver for the
four commands used here (open a page, evaluate JavaScript, watch its requests).

Offline: every host name resolves to nothing but 127.0.0.1 (``--host-resolver-rules``),
and every other address goes through a proxy that does not exist, so a request that
would leave the machine fails instead; :attr:`Page.requests` lists each URL the page
asked for, so a test also sees the attempt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

OFFLINE_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--proxy-server=http://127.0.0.1:9",  # discard port: nothing listens there
    "--proxy-bypass-list=127.0.0.1;localhost",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]


def chromium_executable() -> str | None:
    """``$CHROMIUM``, else Debian's ``chromium`` (or a ``chromium-browser``) on PATH."""
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


class Page:
    """One tab, attached over a browser-level connection (CDP's flat sessions)."""

    def __init__(self, ws: ClientConnection, session: str | None = None) -> None:
        self.ws, self.session = ws, session  # None: the browser itself
        self._next = 0
        self.requests: list[str] = []
        self.errors: list[str] = []
        """Uncaught exceptions and console errors of the page (CSP refusals among them)."""

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        self._next += 1
        ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if self.session is not None:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self._event(reply)

    def _event(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            self.requests.append(url[:40] + "..." if url.startswith("data:") else url)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20, what: str = "") -> Any:
        """Evaluate until the expression is truthy; its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(
            f"{what or expression} not true after {timeout}s (last {value!r}); "
            f"page errors: {self.errors}; requests: {self.requests}"
        )


@contextmanager
def offline_page(url: str, *, executable: str) -> Iterator[Page]:
    """A headless Chromium, offline, with one tab that opened ``url``."""
    profile = Path(tempfile.mkdtemp(prefix="flowgen-chromium-"))
    cmd = [
        executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", *OFFLINE_FLAGS, "about:blank",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ws_url = _devtools_url(profile, proc)
        with connect(ws_url, max_size=None, open_timeout=10) as ws:
            page = _open_tab(ws)
            for domain in ("Network", "Runtime", "Log", "Page"):
                page.send(f"{domain}.enable")
            _check_offline(page)
            page.send("Page.navigate", {"url": url})
            yield page
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


# by name (the resolver rules) and by address (the dead proxy); no-cors: a reachable host
# resolves the promise (an opaque response), an unreachable one rejects it
_REACH = "fetch({!r}, {{mode: 'no-cors'}}).then(() => 'reached', () => 'blocked')"
_OUTSIDE = ("https://registry.npmjs.org/", "https://unpkg.com/react", "http://1.1.1.1/")


def _check_offline(page: Page) -> None:
    """Before the test's page: prove that this browser reaches nothing outside."""
    for url in _OUTSIDE:
        assert page.evaluate(_REACH.format(url)) == "blocked", f"chromium reached {url}"
    page.requests.clear()
    page.errors.clear()


def _devtools_url(profile: Path, proc: subprocess.Popen[bytes]) -> str:
    """Chromium writes its port and the browser's path to DevToolsActivePort once it listens."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            assert proc.stderr is not None
            raise RuntimeError(
                f"chromium exited ({proc.returncode}): {proc.stderr.read()[-2000:]!r}"
            )
        lines = active.read_text().split() if active.exists() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise RuntimeError("chromium did not open its DevTools port in 30 s")


def _open_tab(ws: ClientConnection) -> Page:
    browser = Page(ws)
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    attached = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})
    page = Page(ws, attached["sessionId"])
    page._next = browser._next  # one id sequence per connection
    return page
