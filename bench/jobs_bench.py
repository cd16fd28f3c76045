"""Jobs benchmark: Flowgen's enqueue paths and worker next to Node BullMQ, on one Redis.

Not a test: it prints a table of rates. Run from the repository root::

    .venv/bin/python bench/jobs_bench.py [--jobs 10000] [--redis-url redis://127.0.0.1:6379/0]
        [--only enqueue|processing]

It builds ``tests/e2e/jobs_app`` (its ``noop`` job is the trivial job) into a temp folder
and measures, each under its own key prefix:

* enqueue, every single-add figure with ``--parallel`` (50) adds in flight at once, so
  that like is compared with like: python bullmq ``Queue.add`` and ``addBulk`` (the raw
  floor), Flowgen's ``JobQueues.enqueue`` (validation + add), the GraphQL ``enqueueNoop``
  mutation in-process and over HTTP, and Node BullMQ's ``add``/``addBulk`` (``bench/node``,
  installed with ``npm install`` on first use);
* in-process GraphQL executes the mutation document parsed and validated once, as the
  server does (its ``DocumentCache``); each call has its own variables and request context;
* HTTP posts to the generated server (one process) from ``wrk`` (``-t1 -c<parallel>``, a
  Lua script giving each request its own ``n``), after a warm-up. An ``httpx`` client in
  this process was measured to be the bottleneck itself (226/s against 843/s from wrk on
  the same server), so it is used only when wrk is not installed;
* processing: the workers are started on a paused queue and given time to connect, then
  run ``--warmup-jobs`` (10,000) untimed jobs; the timed jobs are queued while the queue is
  paused again, and the clock runs from its resume until every job is completed: Flowgen's
  ``gen worker`` (one process, with and without per-job INFO logs, and ``--processes N``:
  a supervisor and N processes) and a Node BullMQ worker (one process); every worker
  process runs ``--concurrency`` (50) jobs at once.

Changed 2026-11-29: before, in-process GraphQL re-parsed and re-validated the document per
call (the server does not) and HTTP used the in-process httpx client; see
docs/benchmarks.md for figures measured both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import bullmq
import httpx
import redis as sync_redis
from flowgen_runtime.auth.access import Identity
from flowgen_runtime.auth.tokens import mint
from flowgen_runtime.core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
NODE_DIR = REPO / "bench" / "node"
JWT_SECRET = "flowgen-bench-secret-0123456789abcdef0123"
BENCH_USER = Identity("1", frozenset({"admin"}))  # enqueueing needs a signed-in caller
QUEUE = "work"
MUTATION = "mutation($i: NoopInput!) { enqueueNoop(input: $i) { id state } }"


def build_app(root: Path) -> None:
    for part in ("specs", "handlers"):
        shutil.copytree(REPO / "tests" / "e2e" / "jobs_app" / part, root / part)
    gen = [sys.executable, "-m", "generator.cli", "build", "specs", "--out", "generated"]
    subprocess.run(gen, cwd=root, env=child_env(root, {}), check=True, capture_output=True)
    # as a user would: the server's and workers' outbox relays need their table
    migrate = [sys.executable, "-m", "generator.cli", "migrate", "--app", "generated", "upgrade"]
    subprocess.run(migrate, cwd=root, env=child_env(root, {}), check=True, capture_output=True)


def child_env(root: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(REPO)])
    env["FLOWGEN_DATA_DIR"] = str(root / ".flowgen")
    return {**env, **extra}


def connection(url: str) -> dict[str, Any]:
    from flowgen_runtime.core.redis import redis_connection_kwargs

    return redis_connection_kwargs(url, for_worker=False)


async def rate(n: int, parallel: int, one: Callable[[int], Awaitable[Any]]) -> float:
    """Jobs per second of ``one(i)`` for i in range(n), ``parallel`` at a time."""
    started = time.perf_counter()
    for start in range(0, n, parallel):
        await asyncio.gather(*(one(i) for i in range(start, min(n, start + parallel))))
    return n / (time.perf_counter() - started)


async def python_enqueue(args: argparse.Namespace, root: Path) -> dict[str, float]:
    from flowgen_runtime.core.settings import Settings
    from flowgen_runtime.data.state import AppState
    from flowgen_runtime.jobs import JobQueues

    sys.path.insert(0, str(root))
    from inspect import isawaitable

    from graphql import execute, parse, validate

    from generated.registry import REGISTRY  # type: ignore[import-not-found]

    prefix = f"bench{uuid.uuid4().hex[:6]}"
    queue = bullmq.Queue(QUEUE, {"connection": connection(args.redis_url), "prefix": prefix})
    out: dict[str, float] = {}
    try:
        out["python bullmq add"] = await rate(
            args.jobs, args.parallel, lambda i: queue.add("noop", {"n": i})
        )
        started = time.perf_counter()
        for s in range(0, args.jobs, 1000):
            await queue.addBulk(
                [{"name": "noop", "data": {"n": i}} for i in range(s, min(args.jobs, s + 1000))]
            )
        out["python bullmq addBulk"] = args.jobs / (time.perf_counter() - started)
        qdef = REGISTRY.queues[QUEUE]
        async with JobQueues(args.redis_url, prefix=prefix) as jobs:
            out["Flowgen JobQueues.enqueue"] = await rate(
                args.jobs, args.parallel, lambda i: jobs.enqueue(qdef, "noop", {"n": i})
            )
        settings = Settings(redis_url=args.redis_url, queue_prefix=prefix, data_dir=str(root))
        state = AppState(REGISTRY, settings)
        await state.start()
        schema = REGISTRY.schema
        document = parse(MUTATION)
        assert not validate(schema, document)

        async def gql(i: int) -> None:
            ctx = state.context(request_id=f"bench-{i}", identity=BENCH_USER)
            result = execute(schema, document, variable_values={"i": {"n": i}}, context_value=ctx)
            if isawaitable(result):
                result = await result
            assert not result.errors, result.errors

        out["GraphQL enqueueNoop (in-process)"] = await rate(args.jobs, args.parallel, gql)
        await state.stop()
    finally:
        await queue.obliterate(force=True)
        await queue.close()
    return out


async def http_enqueue(args: argparse.Namespace, root: Path) -> dict[str, float]:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    port = 8000 + int(uuid.uuid4().int % 1000)
    env = child_env(
        root, {"REDIS_URL": args.redis_url, "QUEUE_PREFIX": prefix, "PORT": str(port),
               "LOG_LEVEL": "WARNING", "JWT_SECRET": JWT_SECRET},
    )  # fmt: skip
    token = mint(Settings(jwt_secret=JWT_SECRET), "1", ["admin"], ttl_s=3600)
    cmd = [sys.executable, "-m", "generated.server"]
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    auth = {"authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=auth) as client:
            for _ in range(100):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)

            check = await client.post(
                "/graphql", json={"query": MUTATION, "variables": {"i": {"n": 0}}}
            )
            assert check.status_code == 200 and "errors" not in check.json(), check.text
            if shutil.which("wrk") is not None:
                label = "GraphQL enqueueNoop (HTTP, 1 server process, wrk)"
                return {label: wrk_rate(args, url, auth, server, label)}

            async def post(i: int) -> None:
                r = await client.post(
                    "/graphql", json={"query": MUTATION, "variables": {"i": {"n": i}}}
                )
                assert r.status_code == 200 and "errors" not in r.json(), r.text

            n = max(1000, args.jobs // 4)
            return {
                "GraphQL enqueueNoop (HTTP, 1 server process, httpx)": await rate(
                    n, args.parallel, post
                )
            }
    finally:
        server.terminate()
        server.wait()
        await _obliterate(args.redis_url, prefix)


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")
local template = os.getenv("WRK_BODY")
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(template, n))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "seconds": %.3f, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk_rate(
    args: argparse.Namespace,
    url: str,
    auth: dict[str, str],
    server: subprocess.Popen[bytes],
    label: str,
) -> float:
    """Requests/s of ``wrk -t1 -c<parallel>`` posting the mutation, each with its own ``n``;
    also the server's and Redis's CPU per request during the timed run (into ``CPU``)."""
    body = json.dumps({"query": MUTATION, "variables": {"i": {"n": 12345}}})
    env = {**os.environ, "WRK_AUTH": auth["authorization"],
           "WRK_BODY": body.replace("%", "%%").replace("12345", "%d")}  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()

        def run(seconds: float) -> dict[str, Any]:
            cmd = ["wrk", "-t1", f"-c{args.parallel}", f"-d{seconds}s", "--timeout", "30s",
                   "-s", script.name, f"{url}/graphql"]  # fmt: skip
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
            assert not found["errors"], out.stdout
            return found

        run(1)  # warm-up
        redis = sync_redis.Redis.from_url(args.redis_url)
        cpu_before, redis_before = tree_cpu_s([server]), _cpu_s(redis.info("cpu"))
        found = run(args.http_seconds)
        cpu, redis_cpu = tree_cpu_s([server]) - cpu_before, _cpu_s(redis.info("cpu")) - redis_before
        redis.close()
    CPU[label] = (cpu / found["requests"] * 1e6, redis_cpu / found["requests"] * 1e6)
    return float(found["requests"] / found["seconds"])


def node_ready() -> bool:
    if (NODE_DIR / "node_modules" / "bullmq").exists():
        return True
    if shutil.which("npm") is None:
        return False
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    return True


def node_enqueue(args: argparse.Namespace) -> dict[str, float]:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    cmd = [
        "node",
        "bench.mjs",
        "enqueue",
        args.redis_url,
        prefix,
        QUEUE,
        str(args.jobs),
        str(args.parallel),
    ]
    found = json.loads(
        subprocess.run(cmd, cwd=NODE_DIR, check=True, capture_output=True, text=True).stdout
    )
    return {"Node BullMQ add": found["add"], "Node BullMQ addBulk": found["addBulk"]}


async def processing(
    args: argparse.Namespace, label: str, spawn: Callable[[str], list[subprocess.Popen[bytes]]]
) -> dict[str, float]:
    """Start the workers, run ``--warmup-jobs``, then time ``--jobs`` noop jobs to completion.

    Also the CPU time the worker processes (and their children) and Redis spent per job
    while the clock ran: on a machine shared with other work the rate varies from run to
    run, the CPU per job much less.
    """
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    queue = bullmq.Queue(QUEUE, {"connection": connection(args.redis_url), "prefix": prefix})
    await queue.pause()
    await _add_noops(queue, args.warmup_jobs)
    procs = spawn(prefix)
    try:
        await asyncio.sleep(args.warmup)
        # warm-up: V8 compiles Node's hot paths during its first few thousand jobs (without
        # this a 10,000-job run measured Node 15-25% below its steady rate)
        await queue.resume()
        await _until_completed(queue, args.warmup_jobs, procs, label)
        await queue.pause()
        await _add_noops(queue, args.jobs)
        cpu_before, redis_before = tree_cpu_s(procs), await redis_cpu_s(queue)
        started = time.perf_counter()
        await queue.resume()
        await _until_completed(queue, args.warmup_jobs + args.jobs, procs, label)
        elapsed = time.perf_counter() - started
        cpu = tree_cpu_s(procs) - cpu_before
        redis = await redis_cpu_s(queue) - redis_before
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        await queue.obliterate(force=True)
        await _drop_prefix(queue, prefix)
        await queue.close()
    CPU[label] = (cpu / args.jobs * 1e6, redis / args.jobs * 1e6)
    return {label: args.jobs / elapsed}


async def _add_noops(queue: bullmq.Queue, count: int) -> None:
    for s in range(0, count, 1000):
        batch = [{"name": "noop", "data": {"n": i}} for i in range(s, min(count, s + 1000))]
        await queue.addBulk(batch)


async def _until_completed(
    queue: bullmq.Queue, count: int, procs: list[subprocess.Popen[bytes]], label: str
) -> None:
    while (await queue.getJobCounts("completed"))["completed"] < count:
        assert all(p.poll() is None for p in procs), f"{label}: a worker exited"
        await asyncio.sleep(0.02)


CPU: dict[str, tuple[float, float]] = {}
"""Per label: (worker or server CPU µs per job, Redis CPU µs per job)."""


def tree_cpu_s(procs: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU seconds of ``procs`` and their descendants so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [p.pid for p in procs]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pending += [int(c) for c in children]
    return total


async def redis_cpu_s(queue: bullmq.Queue) -> float:
    return _cpu_s(await queue.client.info("cpu"))


def _cpu_s(info: Any) -> float:
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def flowgen_workers(args: argparse.Namespace, root: Path, count: int, log_level: str) -> Any:
    def spawn(prefix: str) -> list[subprocess.Popen[bytes]]:
        env = child_env(
            root, {"REDIS_URL": args.redis_url, "QUEUE_PREFIX": prefix, "LOG_LEVEL": log_level}
        )
        cmd = [sys.executable, "-m", "generated.worker", "--queues", QUEUE,
               "--concurrency", str(args.concurrency), "--processes", str(count)]  # fmt: skip
        return [subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL)]

    return spawn


def node_worker(args: argparse.Namespace) -> Any:
    def spawn(prefix: str) -> list[subprocess.Popen[bytes]]:
        cmd = ["node", "bench.mjs", "work", args.redis_url, prefix, QUEUE, str(args.concurrency)]
        return [subprocess.Popen(cmd, cwd=NODE_DIR)]

    return spawn


async def _obliterate(url: str, prefix: str) -> None:
    queue = bullmq.Queue(QUEUE, {"connection": connection(url), "prefix": prefix})
    await queue.obliterate(force=True)
    await _drop_prefix(queue, prefix)
    await queue.close()


async def _drop_prefix(queue: bullmq.Queue, prefix: str) -> None:
    """What obliterate leaves under ``prefix``: the workers' heartbeat set (no TTL)."""
    keys = [key async for key in queue.client.scan_iter(match=f"{prefix}:*", count=1000)]
    if keys:
        await queue.client.delete(*keys)


async def main(args: argparse.Namespace) -> None:
    results: dict[str, float] = {}
    has_node = node_ready()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_app(root)
        if args.only in (None, "enqueue"):
            results |= await python_enqueue(args, root)
            results |= await http_enqueue(args, root)
            if has_node:
                results |= node_enqueue(args)
        if args.only in (None, "processing"):
            if has_node:
                label = "Node BullMQ worker, 1 process"
                results |= await processing(args, label, node_worker(args))
            for count, level in [(1, "INFO"), (1, "WARNING"), (args.processes, "WARNING")]:
                label = f"Flowgen worker, {count} process(es), LOG_LEVEL={level}"
                results |= await processing(args, label, flowgen_workers(args, root, count, level))
    width = max(map(len, results))
    print(f"\n{args.jobs} jobs, parallel {args.parallel}, worker concurrency {args.concurrency}")
    for name, value in results.items():
        cpu = (
            "  (CPU per job: {} {:.0f} µs, Redis {:.0f} µs)".format(
                "server" if "HTTP" in name else "worker", *CPU[name]
            )
            if name in CPU
            else ""
        )
        print(f"{name:<{width}}  {value:8.0f} jobs/s{cpu}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    p.add_argument("--jobs", type=int, default=10000)
    p.add_argument("--parallel", type=int, default=50, help="Single adds in flight at once.")
    p.add_argument("--concurrency", type=int, default=50, help="Jobs at once per worker process.")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    p.add_argument("--warmup", type=float, default=4.0, help="Seconds for workers to connect.")
    p.add_argument(
        "--warmup-jobs", type=int, default=10000, help="Jobs each worker runs before the clock."
    )
    p.add_argument("--http-seconds", type=int, default=5, help="Seconds of each timed wrk run.")
    p.add_argument("--only", choices=["enqueue", "processing"], help="Run one half of the bench.")
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
