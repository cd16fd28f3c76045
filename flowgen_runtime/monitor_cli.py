"""``gen monitor``: queue counts, recent failures, and retry/clean/pause/resume actions."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from .jobs import JobQueues, clean, pause, queue_overview, resume, retry_failed
from .redis import resolve_redis_url
from .settings import get_settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gen monitor", description="Show and operate queues.")
    p.add_argument(
        "action", nargs="?", default="show", choices=["show", "retry", "clean", "pause", "resume"]
    )
    p.add_argument("queue", nargs="?", default=None)
    p.add_argument("--json", action="store_true", help="Print JSON.")
    return p


async def _run(registry: Any, args: argparse.Namespace) -> int:
    settings = get_settings()
    jobs = JobQueues(resolve_redis_url(settings), prefix=settings.queue_key_prefix)
    try:
        names = [args.queue] if args.queue else sorted(registry.queues)
        if args.action == "show":
            data = await queue_overview(jobs, names)
            if args.json:
                print(json.dumps(data, indent=2, default=str))
            else:
                for q in data:
                    counts = " ".join(f"{k}={v}" for k, v in sorted(q.get("counts", {}).items()))
                    print(f"{q['name']:<12} {'PAUSED ' if q.get('paused') else ''}{counts}")
                    for f in q.get("recentFailures", []):
                        print(f"    failed {f.get('id')} {f.get('name')}: {f.get('failedReason')}")
            return 0
        if not args.queue:
            print(f"{args.action} needs a queue name")
            return 2
        action = {"retry": retry_failed, "clean": clean, "pause": pause, "resume": resume}[
            args.action
        ]
        result = await action(jobs, args.queue)
        print(f"{args.action} {args.queue}: {result if result is not None else 'ok'}")
        return 0
    finally:
        await jobs.close()


def monitor_main(registry: Any, argv: list[str]) -> int:
    return asyncio.run(_run(registry, _parser().parse_args(argv)))
