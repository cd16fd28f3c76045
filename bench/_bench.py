"""Helpers of ``bench/graphql_bench.py``: the bench database, server processes, wrk, and
counting the SQL statements one request sends (from the PostgreSQL server log)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
PG_DIR = BENCH / "postgraphile"
WRK_SCRIPT = BENCH / "wrk" / "post.lua"

SEED_SQL = """
INSERT INTO users (email, name, role)
  SELECT 'user' || g || '@example.com', 'User ' || g, (ARRAY['student', 'teacher', 'admin'])[1 + g % 3]::user_role
  FROM generate_series(1, {users}) g;
INSERT INTO exams (slug, title, status, duration_minutes, pass_mark, author_id, settings)
  SELECT 'exam-' || g, 'Exam number ' || g, 'published', 60, 50, 1 + (g - 1) % {users}, '{{"shuffle": true}}'
  FROM generate_series(1, {exams}) g;
ANALYZE;
"""  # noqa: E501


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def db_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def psql(url: str, sql: str) -> str:
    cmd = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, **extra}


def create_database(admin_url: str, name: str, users: int, exams: int) -> str:
    """A fresh database ``name`` migrated with the example app and seeded; returns its URL."""
    psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(admin_url, f'CREATE DATABASE "{name}"')
    url = db_url(admin_url, name)
    gen = [sys.executable, "-m", "generator.cli", "migrate", "upgrade"]
    env = child_env({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    subprocess.run(gen, cwd=REPO, env=env, check=True, capture_output=True)
    psql(url, SEED_SQL.format(users=users, exams=exams))
    return url


def drop_database(admin_url: str, name: str) -> None:
    psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def npm_ready() -> None:
    """Install PostGraphile into ``bench/postgraphile/node_modules`` on first use."""
    if (PG_DIR / "node_modules" / ".bin" / "postgraphile").exists():
        return
    if shutil.which("npm") is None:
        sys.exit("npm not found: PostGraphile needs Node and npm")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PG_DIR, check=True)


@dataclass
class Server:
    """A server process group on its own port; ``stop()`` ends the whole group."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    auth: str | None = None
    """``Authorization`` header value to send (Flowgen's example app needs a token)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self, logdir: Path, timeout: float = 60) -> Server:
        self.log = logdir / f"{self.name}-{self.port}.log"
        cmd = [c.replace("{port}", str(self.port)) for c in self.cmd]
        env = {**self.env, "PORT": str(self.port)}
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if httpx.post(self.url, json={"query": "{ __typename }"}).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log else ""

    def pids(self) -> list[int]:
        """The process and its children (uvicorn / cluster workers), for profilers."""
        assert self.proc is not None
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


JWT_SECRET = "flowgen-bench-secret-0123456789abcdef0123"


def admin_auth() -> str:
    """A bearer token of an admin for the bench servers (they run with ``JWT_SECRET``)."""
    from flowgen_runtime.auth.tokens import mint
    from flowgen_runtime.core.settings import Settings

    return "Bearer " + mint(Settings(jwt_secret=JWT_SECRET), "1", ["admin"], ttl_s=24 * 3600)


def post(url: str, body: dict[str, Any], auth: str | None = None) -> dict[str, Any]:
    headers = {"authorization": auth} if auth else {}
    r = httpx.post(url, json=body, headers=headers, timeout=10)
    data: dict[str, Any] = r.json()
    if r.status_code != 200 or data.get("errors"):
        raise RuntimeError(f"{url}: {r.status_code} {json.dumps(data)[:500]}")
    return data


def wrk(
    url: str, body: str, duration: int, connections: int, auth: str | None = None,
    *, script: Path = WRK_SCRIPT, env: dict[str, str] | None = None,
) -> dict[str, float]:  # fmt: skip
    """One wrk run (1 thread); the Lua script's ``done()`` prints a JSON summary.
    ``script`` posts ``body`` (``post.lua``, or ``random.lua`` with ``WRK_MAX_ID`` in ``env``).

    The 30 s timeout (wrk's default is 2 s) lets slow scenarios queue instead of failing.
    """
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s"]
    cmd += ["-s", str(script), url]
    out = subprocess.run(
        cmd,
        env={**os.environ, "WRK_BODY": body, "WRK_AUTH": auth or "", **(env or {})},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    summary: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if summary["errors"]:
        raise RuntimeError(f"wrk saw {summary['errors']} errors / non-2xx on {url}:\n{out}")
    return summary


_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")  # log_line_prefix starts with %m
_STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)")


def count_statements(pg_log: Path, dbname: str, send: Callable[[], Any]) -> list[str]:
    """The SQL statements logged for database ``dbname`` while ``send()`` runs.

    Needs ``log_statement = 'all'`` on that database (set before the server connects) and
    read access to the PostgreSQL server log; a multi-line statement is one entry.
    """
    start = pg_log.stat().st_size
    send()
    time.sleep(1.0)  # backends write the log on their own
    with pg_log.open("rb") as fh:
        fh.seek(start)
        text = fh.read().decode(errors="replace")
    statements: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if _ENTRY.match(line):
            match = _STATEMENT.search(line)
            current = [match.group(1)] if match and f"@{dbname} " in line else None
            if current is not None:
                statements.append("")
        elif current is not None:
            current.append(line.strip())
        if current is not None:
            statements[-1] = " ".join(current).strip()
    return statements
