"""Build the example app into a temp folder and run its server and worker as processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
GEN = [sys.executable, "-m", "generator.cli"]


@contextmanager
def fresh_database(postgres_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database next to ``postgres_url`` (its URL), dropped afterwards."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def drop_keys(redis_url: str, prefix: str) -> None:
    """Delete what an app run left in Redis under ``prefix`` (queues, cache, heartbeats)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_example(root: Path) -> None:
    """Copy the example's specs and its own code (handlers, extensions) to ``root``."""
    shutil.copytree(REPO / "specs", root / "specs")
    for package in ("handlers", "extensions"):
        shutil.copytree(
            REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )


def build_example(root: Path) -> Path:
    """The example copied to ``root`` (:func:`copy_example`) and built into
    ``root/generated``."""
    copy_example(root)
    run(GEN + ["build", "specs", "--out", "generated"], cwd=root, env=os.environ.copy())
    return root / "generated"


def run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


JWT_SECRET = "e2e-test-secret-not-for-production-0123456789"


def token(sub: str = "1", *roles: str, ttl: int = 3600, **claims: Any) -> str:
    """A token the test servers accept (they run with ``JWT_SECRET``)."""
    from flowgen_runtime.auth.tokens import mint
    from flowgen_runtime.core.settings import Settings

    return mint(Settings(jwt_secret=JWT_SECRET), sub, list(roles), ttl, **claims)


ADMIN = token("1", "admin")


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["JWT_SECRET"] = JWT_SECRET
    env.update(extra)
    return env


@dataclass
class App:
    """A running generated app: a server process and a worker process."""

    root: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def migrate(self, *args: str) -> str:
        return run(GEN + ["migrate", *args], cwd=self.root, env=self.env)

    def start(self, *, worker: bool = True) -> None:
        env = {**self.env, "PORT": str(self.port)}
        self._spawn("server", [sys.executable, "-m", "generated.server"], env)
        if worker:
            self._spawn("worker", [sys.executable, "-m", "generated.worker"], env)
        self.wait_healthy()

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        log = self.root / f"{name}-{len(self.procs)}.log"
        fh = log.open("wb")
        self.procs.append(
            subprocess.Popen(cmd, cwd=self.root, env=env, stdout=fh, stderr=subprocess.STDOUT)
        )
        self.logs.append(log)

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(
                        f"process exited early ({p.returncode}):\n{self.log_text()}"
                    )
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not healthy after {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in self.logs
            if p.exists()
        )

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = ADMIN
    ) -> dict[str, Any]:
        """POST a query; ``as_`` is the bearer token (default: an admin; ``None``: anonymous)."""
        headers = {"authorization": f"Bearer {as_}"} if as_ else {}
        r = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=10,
        )
        assert r.status_code in (200, 400, 401), (r.status_code, r.text)
        body: dict[str, Any] = r.json()
        return body

    def data(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = ADMIN
    ) -> dict[str, Any]:
        body = self.gql(query, variables, as_=as_)
        assert not body.get("errors"), f"{body['errors']}\n{self.log_text()}"
        result: dict[str, Any] = body["data"]
        return result

    def wait_job(self, queue: str, job_id: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            status = self.data(
                "query($q: String!, $id: ID!) { jobStatus(queue: $q, id: $id) "
                "{ id state result failedReason attemptsMade } }",
                {"q": queue, "id": job_id},
            )["jobStatus"]
            if status and status["state"] in ("completed", "failed"):
                return status
            time.sleep(0.1)
        raise AssertionError(f"job {queue}/{job_id} not finished: {status}\n{self.log_text()}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@contextmanager
def embedded(root: Path, data_dir_name: str) -> Iterator[App]:
    """The built example on the embedded defaults (SQLite file + embedded Valkey) in its own data dir."""
    from flowgen_runtime.core.redis import stop_embedded_redis

    data_dir = root / data_dir_name
    app = App(root, child_env({"FLOWGEN_DATA_DIR": str(data_dir)}))
    try:
        app.migrate("upgrade")
        app.start()
        yield app
    finally:
        app.stop()
        stop_embedded_redis(str(data_dir))
