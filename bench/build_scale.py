"""Benchmark: cold `gen build` time vs entity count, plus a no-op rebuild.

    /tmp/venv/bin/python bench/build_scale.py [--sizes 10,100,500] [--repeat 3] [--json]

Writes N synthetic (seeded) entity specs + 2 queues per size N; medians of --repeat runs of:

* cold: the real CLI in a subprocess (`python -m generator.cli build`) into a fresh out dir;
* stages: the same build in-process with the pipeline's steps wrapped by timers;
* no-op: the CLI again on an up-to-date out dir; fails if any file's mtime changed.

Goals (issue): 500 entities cold < 5 s, no-op rebuild < 1 s, cost growing linearly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator import migrations, pipeline  # noqa: E402
from generator.render import engine  # noqa: E402

GOAL_COLD_S, GOAL_NOOP_S, GOAL_LINEAR = 5.0, 1.0, 1.5
STAGES = ("load+validate", "model", "render", "format", "snapshot", "migration", "write")

EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "notes": {"type": "text", "nullable": True},
    "quantity": {"type": "int", "min": 0, "max": 10000, "default": 0},
    "ratio": {"type": "float", "nullable": True, "min": 0, "max": 1},
    "active": {"type": "bool", "default": True},
    "due_on": {"type": "date", "nullable": True},
    "settings": {"type": "json", "nullable": True},
    "external_ref": {"type": "uuid", "nullable": True},
    "rank": {"type": "int", "min": 1, "index": True},
}
FIXED = """
app.yaml: {app: benchapp, description: Synthetic benchmark app.}
jobs/bulk.yaml:
  queue: bulk
  concurrency: 4
  defaults: {attempts: 3, backoff: {type: exponential, delay_ms: 1000}}
  jobs:
    reindex: {handler: handlers.bulk.reindex, payload: {since: datetime}}
    export:
      handler: handlers.bulk.export
      payload: {format: {type: enum, values: [csv, json]}}
      options: {timeout_ms: 60000}
jobs/notify.yaml:
  queue: notify
  rate_limit: {max: 50, duration_ms: 1000}
  jobs: {send: {handler: handlers.notify.send, payload: {item_id: int}}}
"""


def entity_spec(i: int, rng: random.Random) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": {"type": "id", "kind": "uuid"} if i % 7 == 3 else {"type": "id"},
        "code": {"type": "string", "unique": True, "max_length": 64, "pattern": "^[a-z0-9-]+$"},
        "name": {"type": "string", "min_length": 1, "max_length": 200},
        "status": {"type": "enum", "values": ["draft", "active", "archived"], "default": "draft"},
        "amount": {"type": "decimal", "precision": 12, "scale": 2, "min": 0, "default": "0.00"},
        "created_at": {"type": "datetime", "default": "now"},
    }
    for name in rng.sample(sorted(EXTRA_FIELDS), rng.randint(0, 4)):
        fields[name] = EXTRA_FIELDS[name]
    spec: dict[str, Any] = {
        "entity": f"Item{i:04d}",
        "table": f"item{i:04d}s",
        "description": f"Synthetic entity number {i}.",
        "fields": fields,
        "relations": {},
        "cache": {"ttl": rng.choice([30, 60, 300])} if i % 4 else "off",
    }
    if i % 5 == 0:
        spec["indexes"] = [["status", "created_at"]]
    if i % 25 == 24:
        spec["operations"] = {"update": {"queued": True, "queue": "bulk"}}
    return spec


def synthetic_specs(n: int, seed: int = 42) -> dict[str, dict[str, Any]]:
    """``{relative path: spec}``: n entities, two queues and the app file."""
    rng = random.Random(seed)
    ents = [entity_spec(i, rng) for i in range(n)]
    for i, e in enumerate(ents[1:], start=1):
        targets = rng.sample(range(i), min(i, rng.choice([1, 1, 2])))
        for t in targets:
            rel, nullable = f"item{t:04d}", rng.random() < 0.3
            e["relations"][rel] = {
                "belongs_to": ents[t]["entity"],
                "nullable": nullable,
                "on_delete": "set_null" if nullable else rng.choice(["cascade", "restrict"]),
            }
            if rng.random() < 0.7:  # the inverse side
                ents[t]["relations"][e["table"]] = {"has_many": e["entity"], "inverse": rel}
        if i % 10 == 0:  # a composite unique over a field and a relation
            e["unique"] = [["name", f"item{targets[0]:04d}"]]
        if i % 10 == 7:  # occasional many_to_many with a named join table
            t, join = rng.randrange(i), f"{e['table']}_peers"
            e["relations"]["peers"] = {"many_to_many": ents[t]["entity"], "through": join}
            ents[t]["relations"][join] = {"many_to_many": e["entity"], "inverse": "peers"}
    files = {f"entities/item{i:04d}.yaml": e for i, e in enumerate(ents)}
    return {**files, **yaml.safe_load(FIXED)}


def write_specs(root: Path, n: int) -> None:
    for rel, spec in synthetic_specs(n).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


# (module, attribute, stage): every place the pipeline looks a step up by name.
PATCHES = [
    (pipeline, "load_specs", "load+validate"),
    (pipeline, "build_app", "model"),
    (pipeline, "render_app", "render"),
    (engine, "format_python", "format"),
    (pipeline, "format_python", "format"),  # the new revision file
    (pipeline, "plan_migration", "migration"),
    (migrations, "load_models", "snapshot"),
    (pipeline, "write", "write"),
    (pipeline, "scaffold_handlers", "write"),
]


@contextlib.contextmanager
def stage_timers() -> Iterator[dict[str, float]]:
    """Time each step *exclusive* of the steps it calls (render excludes format, etc.)."""
    totals = dict.fromkeys(STAGES, 0.0)
    stack: list[float] = []  # time spent in children of each open step

    def timed(fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            stack.append(0.0)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                totals[stage] += elapsed - stack.pop()
                if stack:
                    stack[-1] += elapsed

        return wrapper

    saved = [(mod, attr, getattr(mod, attr)) for mod, attr, _ in PATCHES]
    for (mod, attr, stage), (_, _, fn) in zip(PATCHES, saved, strict=True):
        setattr(mod, attr, timed(fn, stage))
    try:
        yield totals
    finally:
        for mod, attr, fn in saved:
            setattr(mod, attr, fn)


def run(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{args} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return elapsed, proc.stdout


def cli_build(specs: Path, out: Path) -> tuple[float, str]:
    return run("-m", "generator.cli", "build", str(specs), "--out", str(out))


def inprocess_build(specs: Path, out: Path) -> dict[str, float]:
    with stage_timers() as totals:
        start = time.perf_counter()
        pipeline.build(specs, out)
        total = time.perf_counter() - start
    return {**totals, "other": total - sum(totals.values()), "total": total}


def mtimes(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def measure(n: int, repeat: int, tmp: Path) -> dict[str, Any]:
    specs = tmp / f"n{n}" / "specs"
    write_specs(specs, n)
    cold, stages, noop, noop_stages = [], [], [], []
    for k in range(repeat):
        out = tmp / f"n{n}" / f"cli{k}" / "generated"
        cold.append(cli_build(specs, out)[0])
        stages.append(inprocess_build(specs, tmp / f"n{n}" / f"inproc{k}" / "generated"))
    out = tmp / f"n{n}" / "cli0" / "generated"
    files = sum(1 for p in out.rglob("*") if p.is_file())
    before = mtimes(out.parent)
    for _ in range(repeat):  # CLI and in-process no-op rebuilds must not touch a file
        elapsed, stdout = cli_build(specs, out)
        noop.append(elapsed)
        noop_stages.append(inprocess_build(specs, out))
        after = mtimes(out.parent)
        if after != before or "(0 file(s) changed)" not in stdout:
            changed = sorted(set(after.items()) ^ set(before.items()))[:5]
            sys.exit(f"no-op rebuild at N={n} changed {changed} (generator/ edited?)")
    med = statistics.median
    result = {"n": n, "files": files, "cold_s": med(cold), "noop_s": med(noop)}
    result |= {"cold_runs_s": cold, "noop_runs_s": noop}
    for key, runs in (("stages_cold_s", stages), ("stages_noop_s", noop_stages)):
        result[key] = {k: med(r[k] for r in runs) for k in runs[0]}
    return result


def startup_s(repeat: int) -> float:
    """Interpreter start + importing the CLI (paid by every `gen build`)."""
    runs = [run("-c", "import generator.cli, generator.pipeline")[0] for _ in range(repeat)]
    return statistics.median(runs)


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    by_n = {r["n"]: r for r in results}
    for r in results:
        r["per_entity_ms"] = r["cold_s"] / r["n"] * 1000
    lo, hi = min(by_n), max(by_n)
    goals: dict[str, Any] = {}
    if 500 in by_n:
        goals["cold_500_under_5s"] = by_n[500]["cold_s"] < GOAL_COLD_S
        goals["noop_500_under_1s"] = by_n[500]["noop_s"] < GOAL_NOOP_S
    if len(by_n) >= 3:
        mid = sorted(by_n)[-2]
        slope = lambda a, b: (by_n[b]["cold_s"] - by_n[a]["cold_s"]) / (b - a)  # noqa: E731
        marginal = slope(mid, hi) / slope(lo, mid)
        goals["marginal_cost_ratio"] = marginal
        goals["linear"] = marginal <= GOAL_LINEAR
    ratio = by_n[hi]["per_entity_ms"] / by_n[lo]["per_entity_ms"] if hi != lo else 1.0
    return {"per_entity_ratio": ratio, "ratio_sizes": [hi, lo], "goals": goals}


def print_report(results: list[dict[str, Any]], summary: dict[str, Any], start: float) -> None:
    print(f"{'N':>5} {'files':>6} {'cold s':>8} {'ms/entity':>10} {'no-op s':>8}")
    for r in results:
        print(f"{r['n']:>5} {r['files']:>6} {r['cold_s']:>8.2f} ", end="")
        print(f"{r['per_entity_ms']:>10.1f} {r['noop_s']:>8.2f}")
    hi, lo = summary["ratio_sizes"]
    print(f"\nper-entity cost ratio N={hi} vs N={lo}: {summary['per_entity_ratio']:.2f}")
    print(f"process start + imports (in every CLI run): {start:.2f} s")
    cols = [*STAGES, "other", "total"]
    print("\nin-process stage breakdown, median s (cold | no-op):")
    print(f"{'N':>5} " + " ".join(f"{c:>13}" for c in cols))
    for r in results:
        for label in ("cold", "noop"):
            cells = " ".join(f"{r[f'stages_{label}_s'][c]:>13.3f}" for c in cols)
            print(f"{r['n']:>5} {cells}  {label}")
    goals = summary["goals"]
    print()
    for key, text in [
        ("cold_500_under_5s", f"cold build of 500 entities < {GOAL_COLD_S:g} s"),
        ("noop_500_under_1s", f"no-op rebuild of 500 entities < {GOAL_NOOP_S:g} s"),
        ("linear", f"linear growth (marginal cost largest/smaller step <= {GOAL_LINEAR})"),
    ]:
        state = "n/a (size not measured)" if key not in goals else "MET" if goals[key] else "MISSED"
        print(f"goal {text}: {state}")
    if "marginal_cost_ratio" in goals:
        print(f"  marginal cost ratio: {goals['marginal_cost_ratio']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,500", help="comma-separated entity counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    with tempfile.TemporaryDirectory(prefix="flowgen-bench-") as tmp:
        results = [measure(n, args.repeat, Path(tmp)) for n in sizes]
    start = startup_s(args.repeat)
    summary = summarize(results)
    machine = {"nproc": os.cpu_count(), "python": platform.python_version()}
    if args.json:
        doc = {"machine": machine, "repeat": args.repeat, "startup_s": start}
        print(json.dumps({**doc, **summary, "results": results}, indent=2))
    else:
        print(f"nproc={machine['nproc']} python={machine['python']} repeat={args.repeat}\n")
        print_report(results, summary, start)


if __name__ == "__main__":
    main()
