"""GraphQL read benchmark: Flowgen's generated server next to PostGraphile v4 (issue 4).

Not a test: it prints a table of request rates and ratios. Run from the repository root::

    /tmp/venv/bin/python bench/graphql_bench.py [--duration 10] [--connections 32] [--repeat 3]

It creates a fresh PostgreSQL database (``flowgen_bench``), migrates it with the example
app (``gen migrate upgrade``) and seeds 1,000 users and 10,000 exams (10 per user). On that
database it starts, one at a time on its own port: the generated server (``python -m
generated.server``, or ``gen serve --workers N``) with the cache on and off, PostGraphile
v4 (``bench/postgraphile``, installed with ``npm ci`` on first use), and the "ceiling", a
bare Starlette app returning one Redis GET (``bench/ceiling.py``). Each is measured with
``wrk -t1`` (``bench/wrk/post.lua`` posts one fixed query) after its answer is checked:

* P1 primary-key read, Flowgen's cache hit, against PostGraphile and against the ceiling;
* P2 the same read with Flowgen's cache off (PostGraphile has no cache: same run as P1);
* P3 20 users, each with their first 5 exams, cache off;
* P4 SQL statements of one P3 request, counted in the PostgreSQL server log
  (``log_statement = 'all'`` on the bench database, fresh servers, after a warm-up request).

Everything runs for 1 process per server and again for ``--workers`` processes (Flowgen
``gen serve --workers``, PostGraphile ``--cluster-workers``, ceiling uvicorn workers).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import (  # noqa: E402
    JWT_SECRET,
    PG_DIR,
    REPO,
    Server,
    admin_auth,
    child_env,
    count_statements,
    create_database,
    drop_database,
    npm_ready,
    post,
    psql,
    wrk,
)

DB_NAME = "flowgen_bench"
USER_ID = 500
FIELDS = "id email name role createdAt"
QUERIES = {
    "flowgen": {
        "pk": f"{{ user(id: {USER_ID}) {{ {FIELDS} }} }}",
        "list": "{ users(first: 20, orderBy: [{field: ID}]) { nodes { id name "
        "exams(first: 5, orderBy: [{field: ID}]) { nodes { id title status } } } } }",
    },
    "postgraphile": {
        "pk": f"{{ userById(id: {USER_ID}) {{ {FIELDS} }} }}",
        "list": "{ allUsers(first: 20, orderBy: PRIMARY_KEY_ASC) { nodes { id name "
        "examsByAuthorId(first: 5, orderBy: PRIMARY_KEY_ASC) { nodes { id title status } } } } }",
    },
}
PG_FLAGS = [
    "--schema", "public", "--host", "127.0.0.1", "--port", "{port}",
    "--disable-graphiql", "--disable-query-log", "--simple-collections", "omit",
    "--no-setof-functions-contain-nulls", "--no-ignore-rbac", "--no-ignore-indexes",
    "--dynamic-json", "--legacy-relations", "omit", "--max-pool-size", "10",
]  # fmt: skip


def check(kind: str, data: dict[str, Any]) -> None:
    """The answer is the seeded data: user 500, or users 1..20 with 5 exams each."""
    if kind == "pk":
        user = next(iter(data["data"].values()))
        assert user["name"] == f"User {USER_ID}", user
        return
    nodes = next(iter(data["data"].values()))["nodes"]
    assert [u["name"] for u in nodes] == [f"User {i}" for i in range(1, 21)], nodes
    for u in nodes:
        exams = next(v for k, v in u.items() if k.startswith("exams"))["nodes"]
        assert len(exams) == 5, u


class Bench:
    def __init__(self, args: argparse.Namespace, logdir: Path, db_url: str) -> None:
        self.args, self.logdir, self.db_url = args, logdir, db_url
        self.prefix = f"fgbench-{uuid.uuid4().hex[:8]}"
        self.ceiling_key = f"{self.prefix}:ceiling"

    def flowgen(self, procs: int, cache: bool) -> Server:
        py = [sys.executable, "-m"]
        cmd = py + ["generated.server"] if procs == 1 else py + ["generator.cli", "serve"]
        env = {
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.args.redis_url,
            "CACHE_ENABLED": str(cache).lower(),
            "CACHE_PREFIX": self.prefix,
            "LOG_LEVEL": "WARNING",
            "JWT_SECRET": JWT_SECRET,
        }
        workers = ["--workers", str(procs)] if procs > 1 else []
        name = f"flowgen-{procs}p-cache-{cache}"
        return Server(name, cmd + workers, child_env(env), auth=admin_auth())

    def postgraphile(self, procs: int) -> Server:
        cmd = [str(PG_DIR / "node_modules" / ".bin" / "postgraphile"), "-c", self.db_url]
        cluster = ["--cluster-workers", str(procs)] if procs > 1 else []
        return Server(f"postgraphile-{procs}p", cmd + PG_FLAGS + cluster, dict(os.environ))

    def ceiling(self, procs: int) -> Server:
        env = {
            "REDIS_URL": self.args.redis_url,
            "CEILING_KEY": self.ceiling_key,
            "WEB_CONCURRENCY": str(procs),
        }
        cmd = [sys.executable, str(REPO / "bench" / "ceiling.py")]
        return Server(f"ceiling-{procs}p", cmd, child_env(env))

    @contextlib.contextmanager
    def running(self, server: Server) -> Iterator[Server]:
        server.start(self.logdir)
        try:
            yield server
        finally:
            server.stop()

    def rate(self, server: Server, body: dict[str, Any], kind: str) -> dict[str, Any]:
        """Check the answer, warm up, then the median of ``--repeat`` wrk runs."""
        check(kind, post(server.url, body, server.auth))
        a, text, auth = self.args, json.dumps(body), server.auth
        wrk(server.url, text, a.warmup, a.connections, auth)
        runs = [wrk(server.url, text, a.duration, a.connections, auth) for _ in range(a.repeat)]
        out = {"rps": statistics.median(r["rps"] for r in runs), "runs": runs}
        out["load1"] = round(os.getloadavg()[0], 2)  # other work on the machine skews rates
        print(f"  {server.name:28} {kind:4} {out['rps']:9.0f} req/s", file=sys.stderr)
        return out

    def measure(self, procs: int) -> dict[str, Any]:
        fg, pg = QUERIES["flowgen"], QUERIES["postgraphile"]
        r: dict[str, Any] = {}
        only_p1 = self.args.only == "p1"
        with self.running(self.flowgen(procs, cache=True)) as s:
            r["p1_flowgen"] = self.rate(s, {"query": fg["pk"]}, "pk")
            answer = httpx.post(
                s.url, json={"query": fg["pk"]}, headers={"authorization": s.auth or ""}
            ).content
        redis.from_url(self.args.redis_url).set(self.ceiling_key, answer)
        with self.running(self.ceiling(procs)) as s:
            r["p1_ceiling"] = self.rate(s, {"query": fg["pk"]}, "pk")
        if not only_p1:
            with self.running(self.flowgen(procs, cache=False)) as s:
                r["p2_flowgen"] = self.rate(s, {"query": fg["pk"]}, "pk")
                r["p3_flowgen"] = self.rate(s, {"query": fg["list"]}, "list")
        with self.running(self.postgraphile(procs)) as s:
            r["pk_postgraphile"] = self.rate(s, {"query": pg["pk"]}, "pk")
            if not only_p1:
                r["p3_postgraphile"] = self.rate(s, {"query": pg["list"]}, "list")
        return r

    def statements(self) -> dict[str, Any]:
        """P4: statements of one request on fresh 1-process servers (cache off)."""
        pg_log = Path(self.args.pg_log)
        if not os.access(pg_log, os.R_OK):
            return {"error": f"cannot read the PostgreSQL log {pg_log} (--pg-log)"}
        psql(self.args.database_url, f"ALTER DATABASE {DB_NAME} SET log_statement = 'all'")
        out: dict[str, Any] = {}
        try:
            for name, server in (
                ("flowgen", self.flowgen(1, cache=False)),
                ("postgraphile", self.postgraphile(1)),
            ):
                with self.running(server) as s:
                    for kind, query in QUERIES[name].items():
                        body = {"query": query}
                        post(s.url, body, s.auth)  # connect, introspect types, prepare
                        send = functools.partial(post, s.url, body, s.auth)
                        sql = count_statements(pg_log, DB_NAME, send)
                        data = [q for q in sql if q.lower().startswith(("select", "with"))]
                        out[f"{kind}_{name}"] = {"selects": len(data), "all": len(sql), "sql": sql}
        finally:
            psql(self.args.database_url, f"ALTER DATABASE {DB_NAME} RESET log_statement")
        return out

    def cleanup_redis(self) -> None:
        client = redis.from_url(self.args.redis_url)
        for key in client.scan_iter(f"{self.prefix}*", count=1000):
            client.delete(key)


def ratio_rows(r: dict[str, Any]) -> list[tuple[str, float, str, float, float]]:
    """(scenario, Flowgen req/s, reference name, reference req/s, goal)."""
    fg = {k: v["rps"] for k, v in r.items()}
    rows = [
        ("P1 PK read, cache hit", "p1_flowgen", "PostGraphile", "pk_postgraphile", 1.2),
        ("P1 PK read, cache hit", "p1_flowgen", "ceiling", "p1_ceiling", 0.9),
        ("P2 PK read, cache off", "p2_flowgen", "PostGraphile", "pk_postgraphile", 1.0),
        ("P3 20 users x 5 exams", "p3_flowgen", "PostGraphile", "p3_postgraphile", 1.0),
    ]
    return [(n, fg[a], ref, fg[b], goal) for n, a, ref, b, goal in rows if a in fg and b in fg]


def report(result: dict[str, Any]) -> str:
    a = result["meta"]["args"]
    lines = [
        f"GraphQL reads: wrk -t1 -c{a['connections']}, {a['duration']} s x {a['repeat']} "
        f"(median), commit {result['meta']['commit']}, {result['meta']['date']}",
        "",
        "| procs | scenario | Flowgen req/s | reference | ref req/s | ratio | goal | met |",
        "|---:|---|---:|---|---:|---:|---:|---|",
    ]
    for procs, r in result["runs"].items():
        for name, mine, ref, theirs, goal in ratio_rows(r):
            ratio = mine / theirs
            lines.append(
                f"| {procs} | {name} | {mine:,.0f} | {ref} | {theirs:,.0f} | {ratio:.2f} "
                f"| ≥ {goal} | {'yes' if ratio >= goal else '**no**'} |"
            )
    p4 = result.get("p4", {"error": "skipped (--only)"})
    if "error" in p4:
        lines.append(f"\nP4: not measured ({p4['error']})")
        return "\n".join(lines)
    lines += ["", "SQL statements per request (server log; goal for P3: ≤ 2 SELECTs):"]
    for key, c in p4.items():
        other = sorted({q.split()[0].rstrip(";").upper() for q in c["sql"]} - {"SELECT", "WITH"})
        lines.append(
            f"  {key:17} {c['selects']} SELECT, {c['all']} in all"
            + (f" (also {', '.join(other)})" if other else "")
            + (f"; goal {'met' if c['selects'] <= 2 else '**not met**'}" if "list" in key else "")
        )
    return "\n".join(lines)


def meta(args: argparse.Namespace) -> dict[str, Any]:
    def cmd(*c: str) -> str:
        return subprocess.run(c, cwd=REPO, capture_output=True, text=True).stdout.strip()

    pg_pkg = json.loads((PG_DIR / "node_modules" / "postgraphile" / "package.json").read_text())
    return {
        "commit": cmd("git", "rev-parse", "--short", "HEAD"),
        "dirty": cmd("git", "status", "--porcelain", "flowgen_runtime", "generated") != "",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
        "node": cmd("node", "--version"),
        "postgraphile": pg_pkg["version"],
        "args": vars(args),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per timed wrk run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of untimed wrk first")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workers", type=int, default=2, help="processes of the second round")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--exams", type=int, default=10000)
    p.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="an existing database to connect to for CREATE/DROP DATABASE",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--pg-log", default="/var/log/postgresql/postgresql-15-main.log")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument(
        "--only",
        choices=["p1"],
        help="p1: only the cache hit, the ceiling and PostGraphile's PK read (no P2-P4)",
    )
    args = p.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    npm_ready()

    result: dict[str, Any] = {"meta": meta(args), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="graphql-bench-") as tmp:
        db_url = create_database(args.database_url, DB_NAME, args.users, args.exams)
        bench = Bench(args, Path(tmp), db_url)
        try:
            for procs in sorted({1, args.workers}):
                print(f"{procs} process(es) per server:", file=sys.stderr)
                result["runs"][procs] = bench.measure(procs)
            if args.only is None:
                result["p4"] = bench.statements()
        finally:
            bench.cleanup_redis()
            drop_database(args.database_url, DB_NAME)
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
