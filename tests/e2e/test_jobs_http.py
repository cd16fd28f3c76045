"""Jobs over HTTP with real processes: the job events stream (SSE), the monitor API, and a
worker killed with SIGKILL mid-job whose job another worker completes.

The app is ``tests/e2e/jobs_app`` (a slow job reporting progress, a failing job) built into a
temp folder and run on the real Redis (SQLite for the database: the jobs use none).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flowgen_runtime.core.processes import process_running

from .harness import ADMIN, GEN, App, child_env, drop_keys, run, token

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
TOKEN = "s3cret-monitor-token"


@pytest.fixture(scope="module")
def jobs_app(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[App]:
    root = tmp_path_factory.mktemp("jobsapp")
    for part in ("specs", "handlers"):
        shutil.copytree(HERE / "jobs_app" / part, root / part)
    run(GEN + ["build", "specs", "--out", "generated"], cwd=root, env=child_env({}))
    prefix = f"e2ejobs{uuid.uuid4().hex[:8]}"
    env = child_env(
        {
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": prefix,
            "CACHE_PREFIX": prefix,
            "FLOWGEN_DATA_DIR": str(root / ".flowgen"),
            "MONITOR_TOKEN": TOKEN,
            "WORKER_STALLED_INTERVAL_MS": "1000",
            "WORKER_LOCK_DURATION_MS": "2000",
            "JOB_EVENTS_MAX_S": "3",
            "JOB_EVENTS_HEARTBEAT_S": "0.5",
            "JOB_EVENTS_POLL_MS": "50",
            "LOG_LEVEL": "DEBUG",  # the SIGKILL test finds its victim by the "started" line
            "OUTBOX_RELAY_INTERVAL_S": "0.2",
            "OUTBOX_RELAY_AFTER_S": "0",
        }
    )
    app = App(root, env)
    app.migrate("upgrade")
    app.start()
    try:
        yield app
    finally:
        app.stop()
        drop_keys(redis_url, prefix)


def _enqueue(app: App, job: str, payload: dict[str, Any]) -> str:
    field = f"enqueue{job.capitalize()}"
    ref = app.data(
        f"mutation($i: {job.capitalize()}Input!) {{ {field}(input: $i) {{ id queue state }} }}",
        {"i": payload},
    )[field]
    job_id: str = ref["id"]
    return job_id


def _events(app: App, path: str, as_: str = ADMIN) -> list[tuple[str, Any]]:
    """Read a whole event stream: [(event name, data)], keep-alive comments as ("#", None)."""
    out: list[tuple[str, Any]] = []
    headers = {"authorization": f"Bearer {as_}"}
    with httpx.stream("GET", f"{app.url}{path}", headers=headers, timeout=15) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in r.iter_lines():
            if line.startswith(":"):
                out.append(("#", None))
            elif line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                out.append((name, json.loads(line[len("data: ") :])))
    return out


def test_job_events_stream_progress_until_completed(jobs_app: App) -> None:
    job_id = _enqueue(jobs_app, "slow", {"steps": 4, "stepMs": 150})
    events = _events(jobs_app, f"/jobs/work/{job_id}/events")
    data = [e for e in events if e[0] != "#"]
    assert data[0][0] == "state" and data[0][1]["id"] == job_id
    progress = [d["progress"] for kind, d in data if kind == "progress"]
    assert progress == sorted(progress) and progress[-1] >= 50, data  # followed live
    last_kind, last = data[-1]
    assert last_kind == "state" and last["state"] == "completed", data
    assert last["result"]["steps"] == 4 and last["progress"] == 100

    # the stream is the caller's own: a job of someone else looks exactly like a missing one
    other = httpx.get(f"{jobs_app.url}/jobs/work/{job_id}/events", timeout=5,
                      headers={"authorization": f"Bearer {token('99', 'student')}"})  # fmt: skip
    assert other.status_code == 404
    anonymous = httpx.get(f"{jobs_app.url}/jobs/work/{job_id}/events", timeout=5)
    assert anonymous.status_code == 404
    missing = httpx.get(f"{jobs_app.url}/jobs/work/nope/events", timeout=5)
    assert missing.status_code == 404 and "no job" in missing.json()["error"]
    assert httpx.get(f"{jobs_app.url}/jobs/nope/1/events", timeout=5).status_code == 404


def test_job_events_heartbeat_and_bounded_stream(jobs_app: App) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    pause = httpx.post(f"{jobs_app.url}/monitor/queues/work/pause", headers=auth, timeout=5)
    assert pause.status_code == 200
    try:
        job_id = _enqueue(jobs_app, "slow", {"steps": 1, "stepMs": 0})
        started = time.monotonic()
        events = _events(jobs_app, f"/jobs/work/{job_id}/events")
        took = time.monotonic() - started
    finally:
        httpx.post(f"{jobs_app.url}/monitor/queues/work/resume", headers=auth, timeout=5)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "state" and kinds[-1] == "timeout", kinds
    assert kinds.count("#") >= 3  # keep-alive every 0.5 s while nothing happens
    assert 2.5 < took < 6  # JOB_EVENTS_MAX_S=3
    assert jobs_app.wait_job("work", job_id)["state"] == "completed"


def test_monitor_api_needs_the_token_and_operates_queues(jobs_app: App) -> None:
    url = f"{jobs_app.url}/monitor/queues"
    assert httpx.get(url, timeout=5).status_code == 401
    wrong = httpx.get(url, headers={"authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    auth = {"authorization": f"Bearer {TOKEN}"}

    job_id = _enqueue(jobs_app, "fail", {"reason": "disk on fire"})
    assert jobs_app.wait_job("work", job_id)["state"] == "failed"
    [work] = httpx.get(url, headers=auth, timeout=5).json()
    assert work["name"] == "work" and work["counts"]["failed"] >= 1
    assert work["failedLastMinute"] >= 1
    assert {"id": job_id, "reason": "disk on fire"} in [
        {"id": f["id"], "reason": f["failedReason"]} for f in work["recentFailures"]
    ]

    def act(action: str, **params: str) -> Any:
        r = httpx.post(f"{url}/work/{action}", headers=auth, params=params, timeout=5)
        assert r.status_code == 200, r.text
        return r.json()["result"]

    failed = work["counts"]["failed"]
    assert act("retry") == failed  # back to waiting, and it fails again
    deadline = time.monotonic() + 10
    while jobs_app.wait_job("work", job_id)["attemptsMade"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert act("clean", state="failed") == failed
    assert httpx.get(url, headers=auth, timeout=5).json()[0]["counts"]["failed"] == 0
    act("pause")
    assert httpx.get(url, headers=auth, params={"queue": "work"}, timeout=5).json()[0]["paused"]
    act("resume")
    assert not httpx.get(url, headers=auth, timeout=5).json()[0]["paused"]
    bad = httpx.post(f"{url}/work/explode", headers=auth, timeout=5)
    assert bad.status_code == 404
    bad_state = httpx.post(f"{url}/work/clean", headers=auth, params={"state": "x"}, timeout=5)
    assert bad_state.status_code == 400 and "cannot clean state" in bad_state.json()["error"]


def _monitor(app: App, *args: str) -> subprocess.CompletedProcess[str]:
    """``gen monitor`` (the generated ``queue_monitor`` entry point) as a process."""
    return subprocess.run(
        [sys.executable, "-m", "generated.queue_monitor", *args],
        cwd=app.root, env=app.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_gen_monitor_shows_and_operates_queues(jobs_app: App) -> None:
    job_id = _enqueue(jobs_app, "fail", {"reason": "cli says no"})
    assert jobs_app.wait_job("work", job_id)["state"] == "failed"

    shown = _monitor(jobs_app)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("work ") and "failed=" in lines[0]
    throughput = re.fullmatch(r" +last minute: completed=\d+ failed=(\d+)", lines[1])
    assert throughput is not None and int(throughput[1]) >= 1, lines[1]
    assert f"    failed {job_id} fail: cli says no" in lines
    [data] = json.loads(_monitor(jobs_app, "show", "work", "--json").stdout)
    failed = data["counts"]["failed"]
    assert failed >= 1 and data["failedLastMinute"] >= 1

    retried = _monitor(jobs_app, "retry", "work")
    assert retried.stdout.strip() == f"retry work: {failed} failed job(s) back to waiting"
    deadline = time.monotonic() + 10
    while jobs_app.wait_job("work", job_id)["attemptsMade"] < 2:  # it ran, and failed again
        assert time.monotonic() < deadline
        time.sleep(0.1)
    cleaned = _monitor(jobs_app, "clean", "work", "--state", "failed")
    assert cleaned.stdout.strip() == f"clean work: removed {failed} failed job(s)"
    assert jobs_app.gql(f'{{ jobStatus(queue: "work", id: "{job_id}") {{ state }} }}')["data"] == {
        "jobStatus": None
    }

    assert _monitor(jobs_app, "pause", "work").stdout.strip() == "pause work: ok"
    assert json.loads(_monitor(jobs_app, "show", "work", "--json").stdout)[0]["paused"]
    assert "PAUSED" in _monitor(jobs_app, "show", "work").stdout
    assert _monitor(jobs_app, "resume", "work").stdout.strip() == "resume work: ok"
    assert not json.loads(_monitor(jobs_app, "show", "--json").stdout)[0]["paused"]

    unknown = _monitor(jobs_app, "retry", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "unknown queue 'nope' (known: work)"
    no_queue = _monitor(jobs_app, "pause")
    assert no_queue.returncode == 2 and "pause needs a queue name" in no_queue.stderr
    bad_state = _monitor(jobs_app, "clean", "work", "--state", "weird")
    assert bad_state.returncode == 2 and "invalid choice: 'weird'" in bad_state.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "0"], "argument --concurrency: 0 is below 1"),
        (["--concurrency", "many"], "argument --concurrency: 'many' is not an integer"),
        (["--processes", "-1"], "argument --processes: -1 is below 0"),
        (["--queues", "work,nope"], "unknown queue(s): nope (known: work)"),
    ],
)
def test_gen_worker_refuses_bad_arguments(jobs_app: App, args: list[str], message: str) -> None:
    """Before: ``--concurrency 0`` quietly ran the spec's concurrency, a negative value ran."""
    done = subprocess.run(
        [sys.executable, "-m", "generated.worker", *args],
        cwd=jobs_app.root, env=jobs_app.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr


def test_a_job_left_in_the_outbox_is_relayed_and_run(jobs_app: App) -> None:
    """A row of ``flowgen_outbox``, as a process that died between its commit and the
    ``add`` leaves it: the running processes' relay adds the job and the worker runs it."""
    import sqlite3

    job_id = f"orphan-{uuid.uuid4().hex[:8]}"
    data = json.dumps({"n": 7, "_meta": {"request_id": "req-orphan"}})
    with sqlite3.connect(jobs_app.root / ".flowgen" / "app.db") as db:
        db.execute(
            "INSERT INTO flowgen_outbox (queue, job_id, name, data, opts, held_at_ms)"
            " VALUES ('work', ?, 'noop', ?, ?, 0)",
            (job_id, data, json.dumps({"jobId": job_id})),
        )
    status = jobs_app.wait_job("work", job_id)
    assert status["state"] == "completed", status
    # The relay adds the job, then deletes the row and commits: the worker can finish the
    # job before that commit, so the row and the log line are waited for, not assumed.
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(jobs_app.root / ".flowgen" / "app.db") as db:
            left = db.execute("SELECT count(*) FROM flowgen_outbox").fetchone()
        logged = "outbox relay added 1 job(s)" in jobs_app.log_text()
        if (left == (0,) and logged) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert left == (0,)
    assert logged


def test_sigkilled_worker_job_is_completed_by_another_worker(jobs_app: App) -> None:
    env = {**jobs_app.env, "PORT": str(jobs_app.port)}
    jobs_app._spawn("worker", [sys.executable, "-m", "generated.worker"], env)
    workers = [(p, log) for p, log in zip(jobs_app.procs, jobs_app.logs, strict=True)]
    workers = [(p, log) for p, log in workers if log.name.startswith("worker")]
    assert len(workers) == 2
    time.sleep(1.5)  # the second worker is up

    job_id = _enqueue(jobs_app, "slow", {"steps": 30, "stepMs": 100})  # 3 s
    deadline = time.monotonic() + 10
    victim = None
    while victim is None:
        assert time.monotonic() < deadline, jobs_app.log_text()
        victim = next(
            (p for p, log in workers if f"#{job_id} started" in log.read_text(errors="replace")),
            None,
        )
        time.sleep(0.05)
    time.sleep(0.5)  # mid-job
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=5)

    done = jobs_app.wait_job("work", job_id, timeout=30)
    assert done["state"] == "completed", done
    assert done["result"]["pid"] != victim.pid  # finished by the surviving worker
    survivor_log = next(log for p, log in workers if p is not victim).read_text()
    assert f"#{job_id} started" in survivor_log and f"#{job_id} completed" in survivor_log


def test_worker_processes_share_the_queue_and_stop_together(jobs_app: App, redis_url: str) -> None:
    """``--processes 2``: a supervisor and two worker processes; SIGTERM stops all of them."""
    import asyncio

    import bullmq
    from flowgen_runtime.jobs.enqueue import _connection

    prefix = f"e2eprocs{uuid.uuid4().hex[:8]}"
    env = {**jobs_app.env, "QUEUE_PREFIX": prefix, "LOG_LEVEL": "INFO"}
    log = jobs_app.root / "supervisor.log"
    with log.open("wb") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "generated.worker", "--processes", "2"],
            cwd=jobs_app.root, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    async def scenario() -> list[Any]:
        queue = bullmq.Queue(
            "work", {"connection": _connection(redis_url, False), "prefix": prefix}
        )
        try:
            await asyncio.sleep(2)  # both processes are up
            jobs = [await queue.add("slow", {"steps": 10, "step_ms": 100}) for _ in range(8)]
            deadline = time.monotonic() + 20
            while (await queue.getJobCounts("completed"))["completed"] < len(jobs):
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.1)
            return [(await queue.getJob(job.id)).returnvalue["pid"] for job in jobs]
        finally:
            await queue.obliterate(force=True)
            await queue.close()

    try:
        pids = set(asyncio.run(scenario()))
        # 8 one-second jobs, 4 at once per process (the queue's concurrency): both took some
        assert len(pids) == 2 and supervisor.pid not in pids, log.read_text()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=15) == 0, log.read_text()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        drop_keys(redis_url, prefix)
    for pid in pids:  # the workers exited with their supervisor
        deadline = time.monotonic() + 5
        while process_running(pid):
            assert time.monotonic() < deadline, f"worker {pid} still running"
            time.sleep(0.05)
