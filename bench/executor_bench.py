"""What the compiled SQL path is worth: the same server two ways, on the same data.

Not a test: it prints request rates and ratios. Run from the repository root::

    .venv/bin/python bench/executor_bench.py [--duration 8] [--connections 32] [--repeat 2]

The compiled executor (``flowgen_runtime.graphql.execution``) answers a PostgreSQL query
whose reads are all generated ones with one SQL statement (``tosql.py``); graphql-core
runs everything else. Each scenario runs the example app's server with

* ``core``: ``COMPILED_EXECUTION=false`` - graphql-core executes every request;
* ``sql``: the default - one SQL statement where it applies, graphql-core for the rest;

and prints ``sql/core``. Scenarios (random ids as variables, ``bench/wrk/random.lua``):

* ``sqlite-user``, ``sqlite-page``: SQLite (no SQL path: both modes should be equal);
  a page is 20 users whose e-mail ends with a random digit, with 5 exams each;
* ``pg-user``, ``pg-page``: PostgreSQL, cache off (the SQL path answers both);
* ``pg-cache-user``: PostgreSQL, cache on, 100,000 users (misses run on graphql-core);
* ``pg-update``: PostgreSQL, ``updateUser`` of a random user (a mutation: graphql-core).

A plan runner that ran the rest on plans (``full``) was measured here against ``sql`` at
0.90-1.22x and removed (``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import (  # noqa: E402
    BENCH,
    JWT_SECRET,
    REPO,
    Server,
    admin_auth,
    child_env,
    create_database,
    drop_database,
    post,
)
from _bench import (
    wrk as run_wrk,
)

RANDOM = BENCH / "wrk" / "random.lua"
USER = '{"query": "query($id: ID!) { user(id: $id) { id email name role } }", "variables": {"id": "__ID__"}}'
PAGE = (
    '{"query": "query($e: String!) { users(first: 20, where: {email: {endsWith: $e}},'
    ' orderBy: [{field: ID}]) { nodes { id name exams(first: 5) { nodes { id title } } } } }",'
    ' "variables": {"e": "__ID__@example.com"}}'
)
UPDATE = (
    '{"query": "mutation($id: ID!) { updateUser(id: $id, input: {bio: \\"hi\\"}) { id bio } }",'
    ' "variables": {"id": "__ID__"}}'
)
MODES = {
    "core": {"COMPILED_EXECUTION": "false"},
    "sql": {},
}


def wrk(url: str, body: str, max_id: int, duration: int, connections: int, auth: str) -> float:
    """Requests per second of one wrk run with random ids up to ``max_id``."""
    env = {"WRK_MAX_ID": str(max_id)}
    return float(run_wrk(url, body, duration, connections, auth, script=RANDOM, env=env)["rps"])


def sqlite_database(tmp: Path, users: int, exams: int) -> str:
    """The example app migrated on a SQLite file and seeded like ``SEED_SQL``."""
    import sqlalchemy as sa

    path = tmp / "bench.db"
    url = f"sqlite:///{path}"
    gen = [sys.executable, "-m", "generator.cli", "migrate", "upgrade"]
    env = child_env({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    subprocess.run(gen, cwd=REPO, env=env, check=True, capture_output=True)
    roles = ("student", "teacher", "admin")
    # SQLAlchemy's engine: its SQLite connections know REGEXP (the app's pattern CHECKs)
    with sa.create_engine(url).begin() as con:
        con.exec_driver_sql(
            "INSERT INTO users (email, name, role) VALUES (?, ?, ?)",
            [(f"user{g}@example.com", f"User {g}", roles[g % 3]) for g in range(1, users + 1)],
        )
        con.exec_driver_sql(
            "INSERT INTO exams (slug, title, status, duration_minutes, pass_mark, author_id,"
            " settings) VALUES (?, ?, 'published', 60, 50, ?, '{\"shuffle\": true}')",
            [(f"exam-{g}", f"Exam number {g}", 1 + (g - 1) % users) for g in range(1, exams + 1)],
        )
        con.exec_driver_sql("ANALYZE")
    return url


def measure(
    args: argparse.Namespace, name: str, db: str, cache: bool, body: str, max_id: int
) -> dict[str, float]:
    """Median rate of each mode; the servers run side by side and are measured in
    turn, round after round, so a change in the machine's load hits both alike."""
    logdir = Path(tempfile.mkdtemp(prefix="executor-bench-"))
    servers: dict[str, Server] = {}
    try:
        for mode, extra in MODES.items():
            env = {"DATABASE_URL": db, "REDIS_URL": args.redis_url, "CACHE_ENABLED": str(cache).lower(),
                   "CACHE_PREFIX": f"exb-{uuid.uuid4().hex[:8]}", "LOG_LEVEL": "WARNING",
                   "JWT_SECRET": JWT_SECRET, **extra}  # fmt: skip
            cmd = [sys.executable, "-m", "generated.server"]
            servers[mode] = Server(f"{name}-{mode}", cmd, child_env(env)).start(logdir)
        auth = admin_auth()
        for server in servers.values():
            post(server.url, json.loads(body.replace("__ID__", "1")), auth)  # the answer is right
            wrk(server.url, body, max_id, 2, args.connections, auth)  # warm-up
        rates: dict[str, list[float]] = {mode: [] for mode in servers}
        for _ in range(args.repeat):
            for mode, server in servers.items():
                rates[mode].append(
                    wrk(server.url, body, max_id, args.duration, args.connections, auth)
                )
        return {mode: statistics.median(found) for mode, found in rates.items()}
    finally:
        for server in servers.values():
            server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument(
        "--admin-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    p.add_argument("--only", default="", help="comma-separated scenario names")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="executor-bench-db-"))
    pg = create_database(args.admin_url, "flowgen_exbench", 1000, 10000)
    pg_big = None
    scenarios = []
    try:
        sqlite = sqlite_database(tmp, 1000, 10000)
        scenarios = [
            ("sqlite-user", sqlite, False, USER, 1000),
            ("sqlite-page", sqlite, False, PAGE, 9),
            ("pg-user", pg, False, USER, 1000),
            ("pg-page", pg, False, PAGE, 9),
            ("pg-cache-user", None, True, USER, 100000),
            ("pg-update", pg, False, UPDATE, 1000),
        ]
        only = {s for s in args.only.split(",") if s}
        print(f"{'scenario':<15} {'core':>8} {'sql':>8} {'sql/core':>9}")
        for name, db, cache, body, max_id in scenarios:
            if only and name not in only:
                continue
            if db is None:
                pg_big = pg_big or create_database(
                    args.admin_url, "flowgen_exbench_big", 100000, 1000
                )
                db = pg_big
            r = measure(args, name, db, cache, body, max_id)
            print(f"{name:<15} {r['core']:>8.0f} {r['sql']:>8.0f} {r['sql'] / r['core']:>9.2f}",
                  flush=True)  # fmt: skip
    finally:
        drop_database(args.admin_url, "flowgen_exbench")
        if pg_big:
            drop_database(args.admin_url, "flowgen_exbench_big")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
