"""``gen monitor``: queue counts, throughput, recent failures, and retry/clean/pause/resume.

::

    gen monitor                          # every queue: counts, jobs finished in the last minute, failures
    gen monitor show exam --json         # the data of GET /monitor/queues?queue=exam
    gen monitor retry exam               # failed jobs back to waiting
    gen monitor clean exam --state completed --grace-ms 60000
    gen monitor pause exam | resume exam

A queue the app does not define, or a state that cannot be cleaned, is an error (exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from flowgen_runtime.core.redis import resolve_redis_url
from flowgen_runtime.core.settings import get_settings
from flowgen_runtime.jobs import JobQueues, clean, pause, queue_overview, resume, retry_failed
from flowgen_runtime.jobs.monitor import CLEANABLE_STATES

ACTIONS = ("show", "retry", "clean", "pause", "resume")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gen monitor", description="Show and operate queues.")
    p.add_argument("action", nargs="?", default="show", choices=ACTIONS)
    p.add_argument("queue", nargs="?", default=None, help="one queue (every queue for show)")
    p.add_argument("--json", action="store_true", help="print JSON (show)")
    p.add_argument(
        "--state", default="failed", choices=CLEANABLE_STATES, help="clean: jobs in this state"
    )
    p.add_argument("--grace-ms", type=int, default=0, help="clean: only jobs older than this (ms)")
    return p


def _print_overview(data: list[dict[str, Any]]) -> None:
    for q in data:
        counts = " ".join(f"{k}={v}" for k, v in sorted(q.get("counts", {}).items()))
        print(f"{q['name']:<12} {'PAUSED ' if q.get('paused') else ''}{counts}")
        print(
            f"{'':<12} last minute: completed={q.get('completedLastMinute', 0)}"
            f" failed={q.get('failedLastMinute', 0)}"
        )
        for f in q.get("recentFailures", []):
            print(f"    failed {f.get('id')} {f.get('name')}: {f.get('failedReason')}")


async def _run(registry: Any, args: argparse.Namespace) -> int:
    known = sorted(registry.queues)
    if args.queue is not None and args.queue not in known:
        print(f"unknown queue {args.queue!r} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    if args.action != "show" and args.queue is None:
        print(f"{args.action} needs a queue name (one of: {', '.join(known)})", file=sys.stderr)
        return 2
    settings = get_settings()
    jobs = JobQueues(resolve_redis_url(settings), prefix=settings.queue_key_prefix)
    try:
        if args.action == "show":
            data = await queue_overview(jobs, [args.queue] if args.queue else known)
            if args.json:
                print(json.dumps(data, indent=2, default=str))
            else:
                _print_overview(data)
            return 0
        if args.action == "clean":
            result: Any = await clean(jobs, args.queue, args.state, args.grace_ms)
            print(f"clean {args.queue}: removed {result} {args.state} job(s)")
            return 0
        if args.action == "retry":
            result = await retry_failed(jobs, args.queue)
            print(f"retry {args.queue}: {result} failed job(s) back to waiting")
            return 0
        await (pause if args.action == "pause" else resume)(jobs, args.queue)
        print(f"{args.action} {args.queue}: ok")
        return 0
    finally:
        await jobs.close()


def monitor_main(registry: Any, argv: list[str]) -> int:
    return asyncio.run(_run(registry, _parser().parse_args(argv)))
