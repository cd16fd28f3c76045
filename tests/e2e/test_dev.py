"""`gen dev` (the quickstart's main command): build, migrate, serve, work, and rebuild on edit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from flowgen_runtime.core.processes import process_running

from .harness import ADMIN, REPO, child_env, copy_example, free_port

pytestmark = pytest.mark.e2e


def _gql(port: int, query: str) -> dict:
    headers = {"authorization": f"Bearer {ADMIN}"}
    r = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query}, headers=headers, timeout=5
    )
    body: dict = r.json()
    return body


def _wait(predicate, timeout: float, what: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout}s:\n{log.read_text()[-4000:]}")


def test_gen_dev_serves_works_and_rebuilds_on_spec_change(tmp_path: Path) -> None:
    from flowgen_runtime.core.redis import embedded_redis_running, stop_embedded_redis

    copy_example(tmp_path)
    port = free_port()
    env = child_env({"FLOWGEN_DATA_DIR": str(tmp_path / ".flowgen")})
    log = tmp_path / "dev.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator.cli", "dev", "specs", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's process group, for the Ctrl-C below
            preexec_fn=_default_sigint,
        )  # fmt: skip
    try:
        _wait(
            lambda: httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200,
            60,
            "health",
            log,
        )
        user = _gql(port, 'mutation { createUser(input: {email: "d@x.io", name: "Dev"}) { id } }')
        uid = user["data"]["createUser"]["id"]
        job = _gql(
            port, f"mutation {{ enqueueSendWelcomeEmail(input: {{userId: {uid}}}) {{ id }} }}"
        )
        jid = job["data"]["enqueueSendWelcomeEmail"]["id"]

        def job_done() -> bool:
            st = _gql(port, f'{{ jobStatus(queue: "user", id: "{jid}") {{ state result }} }}')
            return st["data"]["jobStatus"]["state"] == "completed"

        _wait(job_done, 30, "welcome job completed by the dev worker", log)

        spec = tmp_path / "specs" / "entities" / "user.yaml"
        spec.write_text(
            spec.read_text().replace(
                "  bio: {type: text, nullable: true}\n",
                "  bio: {type: text, nullable: true}\n  nickname: {type: string, nullable: true}\n",
            )
        )

        def new_field_served() -> bool:
            body = _gql(port, "{ users { nodes { name nickname } } }")
            return body.get("data") == {"users": {"nodes": [{"name": "Dev", "nickname": None}]}}

        _wait(new_field_served, 60, "nickname served after the rebuild (old row kept)", log)
        assert (
            len(list((tmp_path / "generated" / "migrations" / "versions").glob("0002_*.py"))) == 1
        )
        _refused_edits_keep_the_app(proc, port, spec, log)
        _handler_edit_reloads(tmp_path, port, uid, log)
        children = _children(proc.pid)
        assert len(children) == 2, children  # the server and the worker
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        assert proc.wait(timeout=30) == 0
        _wait(
            lambda: not any(process_running(pid) for pid in children), 10, "children stopped", log
        )
        # one graceful stop: gen dev's own SIGTERM must not reach a worker already stopping
        # on the terminal's SIGINT, which takes a second signal for "cancel active jobs"
        assert "cancelling active jobs" not in log.read_text()
        assert "finishing active jobs" in log.read_text()
        # it started the embedded Redis (its children did), so it stopped it, saving first
        assert not embedded_redis_running(str(tmp_path / ".flowgen"))
        assert (tmp_path / ".flowgen" / "redis" / "dump.rdb").exists()
    finally:
        if proc.poll() is None:
            proc.kill()  # its children get SIGTERM (test_children_of_a_killed_gen_dev_stop)
            proc.wait()
        stop_embedded_redis(str(tmp_path / ".flowgen"))


def _refused_edits_keep_the_app(
    proc: subprocess.Popen[bytes], port: int, spec: Path, log: Path
) -> None:
    """A change that loses data, then a spec error: each is refused with gen build's words
    and how to go on, gen dev stays up and the app keeps answering (its last build)."""
    good = spec.read_text()
    seen = len(log.read_text())
    spec.write_text(good.replace("  bio: {type: text, nullable: true}\n", ""))
    _wait(lambda: "these changes lose data" in log.read_text()[seen:], 60, "refusal", log)
    refusal = log.read_text()[seen:]
    assert "drop column users.bio" in refusal or "users.bio" in refusal, refusal
    assert "gen dev --allow-destructive" in refusal and "Traceback" not in refusal
    assert _gql(port, "{ users { nodes { bio } } }")["data"] == {
        "users": {"nodes": [{"bio": None}]}
    }

    seen = len(log.read_text())
    spec.write_text(good.replace("  name: {type: string,", "  name: {type: strin,"))
    _wait(lambda: "user.yaml:" in log.read_text()[seen:], 60, "the spec error at file:line", log)
    assert "Traceback" not in log.read_text()[seen:]
    assert proc.poll() is None
    assert _gql(port, "{ users { nodes { name } } }")["data"] == {
        "users": {"nodes": [{"name": "Dev"}]}
    }

    seen = len(log.read_text())
    spec.write_text(good)  # fixed: rebuilt (nothing new to migrate) and restarted
    _wait(lambda: "server and worker running" in log.read_text()[seen:], 60, "restart", log)
    assert "new migration" not in log.read_text()[seen:]


def _handler_edit_reloads(root: Path, port: int, uid: int, log: Path) -> None:
    """An edit of a job handler (user code, not a spec) restarts the worker with it."""
    handler = root / "handlers" / "user.py"
    handler.write_text(
        handler.read_text().replace('return {"sent": True, "user_id": user["id"]}',
                                    'return {"sent": True, "user_id": user["id"], "edited": 1}')
    )  # fmt: skip
    seen = len(log.read_text())
    _wait(lambda: "handlers changed" in log.read_text()[seen:], 30, "handler change seen", log)
    _wait(lambda: httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200, 60, "up", log)

    def edited_result() -> bool:
        enq = f"mutation {{ enqueueSendWelcomeEmail(input: {{userId: {uid}}}) {{ id }} }}"
        jid = _gql(port, enq)["data"]["enqueueSendWelcomeEmail"]["id"]
        for _ in range(100):
            st = _gql(port, f'{{ jobStatus(queue: "user", id: "{jid}") {{ state result }} }}')
            if st["data"]["jobStatus"]["state"] == "completed":
                return '"edited"' in str(st["data"]["jobStatus"]["result"]).replace("'", '"')
            time.sleep(0.2)
        return False

    _wait(edited_result, 60, "the edited handler's result", log)


def _default_sigint() -> None:
    """In gen dev's process: Ctrl-C's default, which a shell's background job (a test run
    in the background) would otherwise pass down as ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def test_children_of_a_killed_gen_dev_stop(tmp_path: Path) -> None:
    """SIGKILL gives ``gen dev`` no chance to stop its server and worker: Linux sends them
    SIGTERM when it dies (``spawn_child``), instead of leaving them serving and working."""
    script = (
        "import sys, time\n"
        "from flowgen_runtime.core.processes import spawn_child\n"
        "child = spawn_child([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, env=child_env({}), stdout=subprocess.PIPE
    )
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert process_running(child)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while process_running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_running(child)
    finally:
        if parent.poll() is None:
            parent.kill()
        if child and process_running(child):  # the test failed: do not leave it behind
            os.kill(child, signal.SIGKILL)


def test_gen_dev_stops_only_an_embedded_redis_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An embedded Redis already running when ``gen dev`` starts may serve other processes
    (a worker in another terminal): ``gen dev`` leaves it running. With ``REDIS_URL`` set
    there is nothing of its own to stop."""
    from flowgen_runtime.core.redis import start_embedded_redis, stop_embedded_redis
    from flowgen_runtime.core.settings import get_settings

    from generator.dev import _embedded_redis_to_stop

    data_dir = str(tmp_path / ".flowgen")
    monkeypatch.setenv("FLOWGEN_DATA_DIR", data_dir)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert _embedded_redis_to_stop() == data_dir
        start_embedded_redis(data_dir)
        try:
            assert _embedded_redis_to_stop() is None
        finally:
            stop_embedded_redis(data_dir)
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
        get_settings.cache_clear()
        assert _embedded_redis_to_stop() is None
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
