"""``gen dev``: build, migrate, then run the server and a worker; rebuild on spec changes.

The server and worker are child processes of this one, started with the same interpreter;
Ctrl-C (or SIGTERM) stops both, and they get SIGTERM too if this process is killed. The
embedded Redis (no ``REDIS_URL``) is stopped as well, its data saved, unless it already ran
before ``gen dev`` started (another process may be using it). When a spec file changes, the app is rebuilt and migrated
and both processes are restarted; a build with spec errors leaves the running app alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flowgen_runtime.core.processes import spawn_child

from .migrations import UnsupportedChange
from .pipeline import build
from .spec import SpecErrors
from .spec.loader import spec_files

POLL_SECONDS = 1.0


def _fingerprint(specs: Path) -> tuple[tuple[str, float], ...]:
    return tuple((str(p), p.stat().st_mtime) for p in spec_files(specs))


def _build_and_migrate(specs: Path, out: Path) -> bool:
    try:
        result = build(specs, out)
    except SpecErrors as exc:
        click.echo(exc.report(), err=True)
        return False
    except UnsupportedChange as exc:
        click.echo(f"migration: {exc}", err=True)
        return False
    click.echo(f"built {result.app.name} -> {out}")
    migrate = [sys.executable, "-m", "generator.cli", "migrate", "--app", out.name, "upgrade"]
    return subprocess.run(migrate, cwd=out.parent, check=False).returncode == 0


def _start(out: Path, port: int | None) -> list[subprocess.Popen[bytes]]:
    env_port = ["--port", str(port)] if port else []
    server = [sys.executable, "-m", "generator.cli", "serve", "--app", out.name, *env_port]
    worker = [sys.executable, "-m", "generator.cli", "worker", "--app", out.name]
    # Readable log lines in a terminal; JSON (the production default) when LOG_FORMAT says so.
    env = {**os.environ, "LOG_FORMAT": os.environ.get("LOG_FORMAT") or "console"}
    env.setdefault("INTROSPECTION", "true")  # the GraphiQL explorer needs it
    # Their own session: a terminal's Ctrl-C reaches this process only, which stops each
    # child once (SIGTERM). Had they received the SIGINT too, that SIGTERM would be the
    # worker's second signal, which cancels its active jobs instead of finishing them.
    procs = [
        spawn_child(cmd, cwd=out.parent, env=env, start_new_session=True)
        for cmd in (server, worker)
    ]
    click.echo(f"server and worker running (GraphiQL at http://127.0.0.1:{port or 8000}/graphql)")
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def _dev_secret() -> None:
    """Sign tokens with a per-checkout development secret unless JWT_SECRET is set."""
    from flowgen_runtime.auth.tokens import dev_secret
    from flowgen_runtime.core.settings import get_settings

    settings = get_settings()
    if settings.jwt_secret:
        return
    os.environ["JWT_SECRET"] = dev_secret(settings, create=True) or ""
    click.echo(
        "development JWT secret in .flowgen/dev-jwt-secret: `gen token --sub 1 --role admin`"
    )


def _embedded_redis_to_stop() -> str | None:
    """The data directory of the embedded Redis if this run will be the one to start it
    (no ``REDIS_URL``, not running yet): ``gen dev`` then stops it on exit."""
    from flowgen_runtime.core.redis import embedded_redis_running
    from flowgen_runtime.core.settings import get_settings

    settings = get_settings()
    if settings.redis_url or embedded_redis_running(settings.data_dir):
        return None
    return settings.data_dir


def _stop_embedded_redis(data_dir: str | None) -> None:
    if data_dir is None:
        return
    from flowgen_runtime.core.redis import stop_embedded_redis

    stop_embedded_redis(data_dir, save=True)
    click.echo(f"stopped the embedded Redis (its data saved under {data_dir}/redis)")


def run_dev(specs: Path, out: Path, *, port: int | None = None) -> int:
    if not _build_and_migrate(specs, out):
        return 1
    _dev_secret()
    redis_dir = _embedded_redis_to_stop()
    procs = _start(out, port)
    seen = _fingerprint(specs)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            time.sleep(POLL_SECONDS)
            if any(p.poll() is not None for p in procs):
                click.echo("a child process exited; stopping", err=True)
                return 1
            now = _fingerprint(specs)
            if now != seen:
                seen = now
                click.echo("specs changed: rebuilding")
                if _build_and_migrate(specs, out):
                    _stop(procs)
                    procs = _start(out, port)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(procs)
        _stop_embedded_redis(redis_dir)
