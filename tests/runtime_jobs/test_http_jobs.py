"""The monitor API is off until MONITOR_TOKEN is set (the full routes run in tests/e2e)."""

from __future__ import annotations

from types import SimpleNamespace

from flowgen_runtime.core.settings import Settings
from flowgen_runtime.jobs.http import JOB_ROUTES
from starlette.applications import Starlette
from starlette.testclient import TestClient


def _client(token: str | None) -> TestClient:
    app = Starlette(routes=JOB_ROUTES)
    app.state.flowgen = SimpleNamespace(
        settings=Settings(monitor_token=token), registry=SimpleNamespace(queues={}), jobs=None
    )
    return TestClient(app)


def test_monitor_is_disabled_without_a_token() -> None:
    client = _client(None)
    for method, path in [("GET", "/monitor/queues"), ("POST", "/monitor/queues/q/pause")]:
        r = client.request(method, path, headers={"authorization": "Bearer anything"})
        assert r.status_code == 403 and "set MONITOR_TOKEN" in r.json()["error"]


def test_monitor_checks_the_bearer_token() -> None:
    client = _client("t0k")
    assert client.get("/monitor/queues", headers={"authorization": "t0k"}).status_code == 401
    ok = client.get("/monitor/queues", headers={"authorization": "Bearer t0k"})
    assert ok.status_code == 200 and ok.json() == []  # an app without queues
    unknown = client.post("/monitor/queues/nope/pause", headers={"authorization": "Bearer t0k"})
    assert unknown.status_code == 404
