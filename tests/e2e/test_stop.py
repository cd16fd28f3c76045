"""Stopping ``gen serve`` (Ctrl-C, SIGTERM, SIGHUP) and ``gen dev`` (SIGHUP: its terminal
was closed) leaves no embedded redis-server behind, unless another process still uses it
(#16). Real processes, real signals, the embedded defaults (SQLite + embedded Redis)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from flowgen_runtime.core.processes import process_running
from flowgen_runtime.core.redis import (
    embedded_redis_running,
    start_embedded_redis,
    stop_embedded_redis,
)

from .harness import GEN, child_env, copy_example, free_port, run

pytestmark = pytest.mark.e2e


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not healthy in 60 s:\n{log.read_text()[-3000:]}")


def _serve(root: Path, data_dir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    port = free_port()
    log = root / f"serve-{port}.log"
    env = child_env({"FLOWGEN_DATA_DIR": str(data_dir), "LOG_FORMAT": "console"})
    proc = subprocess.Popen(
        [*GEN, "serve", "--port", str(port)], cwd=root, env=env,
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    _wait_healthy(proc, port, log)
    # a query: the server has used the embedded Redis (the cache) by now
    httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=5)
    return proc, log


@pytest.fixture(scope="module")
def migrated(example_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built example with its SQLite file migrated, copied per test (own data dir)."""
    root = tmp_path_factory.mktemp("stop")
    shutil.copytree(example_root, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".flowgen*"))  # fmt: skip
    run([*GEN, "migrate", "upgrade"], cwd=root, env=child_env({"FLOWGEN_DATA_DIR": str(root / "db")}))  # fmt: skip
    return root


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP])  # SIGTERM: below
def test_gen_serve_stopped_stops_the_embedded_redis_it_started(
    migrated: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(migrated / "db", data_dir)
    proc, log = _serve(migrated, data_dir)
    try:
        assert embedded_redis_running(str(data_dir))
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == 0, log.read_text()
        assert not embedded_redis_running(str(data_dir)), log.read_text()
        assert (data_dir / "redis" / "dump.rdb").exists()  # saved before it stopped
    finally:
        if proc.poll() is None:
            proc.kill()
        stop_embedded_redis(str(data_dir))


def test_gen_serve_leaves_an_embedded_redis_another_process_uses(
    migrated: Path, tmp_path: Path
) -> None:
    """A worker in another terminal (here: a client of this test) still uses it; and one
    already running when gen serve started is not gen serve's to stop either."""
    data_dir = tmp_path / "data"
    shutil.copytree(migrated / "db", data_dir)
    proc, log = _serve(migrated, data_dir)
    other = redis.Redis.from_url(start_embedded_redis(str(data_dir)))
    try:
        other.ping()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
        assert other.ping()
        other.close()
        proc, log = _serve(migrated, data_dir)  # it runs already: not this one's
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
        assert embedded_redis_running(str(data_dir))
    finally:
        other.close()
        if proc.poll() is None:
            proc.kill()
        stop_embedded_redis(str(data_dir))


def test_gen_dev_stops_everything_on_sighup(tmp_path: Path) -> None:
    """Closing gen dev's terminal sends it SIGHUP (and its children, in their own session,
    nothing): it stops the server, the worker and the embedded Redis it started."""
    copy_example(tmp_path)
    port = free_port()
    data_dir = tmp_path / ".flowgen"
    log = tmp_path / "dev.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.cli", "dev", "specs", "--port", str(port)],
        cwd=tmp_path, env=child_env({"FLOWGEN_DATA_DIR": str(data_dir)}),
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    children: list[int] = []
    try:
        _wait_healthy(proc, port, log)
        children = _children(proc.pid)
        assert len(children) == 2, children
        deadline = time.monotonic() + 30  # the worker starts the embedded Redis, or the server
        while not embedded_redis_running(str(data_dir)) and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGHUP)
        assert proc.wait(timeout=60) == 0, log.read_text()
        assert not any(process_running(pid) for pid in children)
        assert not embedded_redis_running(str(data_dir)), log.read_text()
        assert "stopped the embedded Redis" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in children:
            if process_running(pid):
                os.kill(pid, signal.SIGKILL)
        stop_embedded_redis(str(data_dir))


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]
