"""``gen dev`` after ``git checkout specs generated``: the dev database is at a migration
that no longer exists. gen dev says so and how to go on (``--reset``), without dying;
``gen dev --reset`` recreates the database and serves. Real processes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from flowgen_runtime.core.redis import stop_embedded_redis

from .harness import ADMIN, GEN, child_env, copy_example, free_port, run

pytestmark = pytest.mark.e2e


def _dev(root: Path, env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], Path, int]:
    port = free_port()
    log = root / f"dev-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.cli", "dev", "specs", "--port", str(port), *args],
        cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    return proc, log, port


def _until(predicate, what: str, log: Path, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout}s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


def test_a_database_ahead_of_the_checkout_is_reported_and_reset(tmp_path: Path) -> None:
    copy_example(tmp_path)
    data_dir = tmp_path / ".flowgen"
    env = child_env({"FLOWGEN_DATA_DIR": str(data_dir)})
    run([*GEN, "build", "specs"], cwd=tmp_path, env=env, timeout=300)
    run([*GEN, "migrate", "upgrade"], cwd=tmp_path, env=env)
    checkout = tmp_path / "checkout"  # what `git checkout specs generated` brings back
    for folder in ("specs", "generated"):
        shutil.copytree(tmp_path / folder, checkout / folder)
    spec = tmp_path / "specs" / "entities" / "user.yaml"
    spec.write_text(spec.read_text().replace("  bio: {type: text, nullable: true}\n",
                                             "  bio: {type: text, nullable: true}\n  nick: {type: string, nullable: true}\n"))  # fmt: skip
    run([*GEN, "build", "specs"], cwd=tmp_path, env=env, timeout=300)
    run([*GEN, "migrate", "upgrade"], cwd=tmp_path, env=env)  # the database is at 0002
    for folder in ("specs", "generated"):
        shutil.rmtree(tmp_path / folder)
        shutil.copytree(checkout / folder, tmp_path / folder)

    proc: subprocess.Popen[bytes] | None = None
    try:
        proc, log, _ = _dev(tmp_path, env)
        _until(lambda: "gen dev --reset" in log.read_text(), "the advice to reset", log)
        text = log.read_text()
        assert "no longer in generated/migrations" in text and "Traceback" not in text, text
        time.sleep(1.5)  # still waiting for an edit, not dead
        assert proc.poll() is None, log.read_text()
        assert _stop(proc) == 0

        proc, log, port = _dev(tmp_path, env, "--reset")
        url = f"http://127.0.0.1:{port}"
        _until(lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200, "up", log)
        answer = httpx.post(
            f"{url}/graphql", json={"query": "{ users { nodes { id } } }"},
            headers={"authorization": f"Bearer {ADMIN}"}, timeout=10,
        ).json()  # fmt: skip
        assert answer == {"data": {"users": {"nodes": []}}}, answer
        assert "reset: removed the dev database" in log.read_text()
        assert _stop(proc) == 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        stop_embedded_redis(str(data_dir))


def test_reset_refuses_a_database_of_the_user(tmp_path: Path) -> None:
    """With DATABASE_URL set the database is not gen dev's to drop."""
    env = child_env({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/never", "FLOWGEN_DATA_DIR": str(tmp_path)})  # fmt: skip
    done = subprocess.run(
        [*GEN, "dev", "specs", "--reset"], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "DATABASE_URL is set: drop and create that database yourself" in done.stderr
