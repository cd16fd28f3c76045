"""``gen dev``: build, migrate, then run the server and a worker; rebuild on edits.

The server and worker are child processes of this one, started with the same interpreter.
Ctrl-C, SIGTERM and SIGHUP (the terminal was closed) stop both, and then the embedded
Redis if ``gen dev`` started it and nothing else uses it (its data saved); the children
also get SIGTERM if this process is killed.

It never dies on a mistake in what it watches:

* a spec edit rebuilds, migrates and restarts both; a build refused (spec errors, a change
  that loses data, one that cannot be migrated) or a migration that fails prints why, the
  same words as ``gen build``, and leaves the previous app running. ``--allow-destructive``
  accepts changes that lose data, as for ``gen build``;
* an edit of the user's own code (``handlers/`` and ``extensions/`` beside the specs)
  restarts both (``extensions/`` can hold custom SDL: it rebuilds first);
* a server or worker that exits (an import error in a handler) is reported; the next edit
  starts them again.

The embedded database can be recreated with ``--reset`` (after ``git checkout specs
generated`` it may be at a revision that no longer exists, which the migration reports).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import click
from flowgen_runtime.core.processes import spawn_child, stop_signals

from .refusals import build_refusal
from .spec.loader import spec_files

POLL_SECONDS = 1.0
CODE_DIRS = ("handlers", "extensions")
DEV_ALLOW = (
    "the app keeps running the previous build. To accept the loss, stop gen dev and run "
    "`gen dev --allow-destructive`."
)
_MISSING_REVISION = "Can't locate revision"


def _say(message: str, *, err: bool = False) -> None:
    """Print; a closed terminal (SIGHUP) must not stop the shutdown that follows."""
    try:
        click.echo(message, err=err)
    except OSError:
        pass


class Watch:
    """What changed since the last look: the specs, or the user's code beside them."""

    def __init__(self, specs: Path, root: Path) -> None:
        self.specs = specs
        self.code = [root / d for d in CODE_DIRS]
        self.seen = self._look()

    def _look(self) -> dict[str, dict[str, float]]:
        specs = {str(p): p.stat().st_mtime for p in spec_files(self.specs)}
        found: dict[str, dict[str, float]] = {"specs": specs}
        for folder in self.code:
            files: dict[str, float] = {}
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = [d for d in dirnames if d != "__pycache__"]
                for name in filenames:
                    path = os.path.join(dirpath, name)
                    files[path] = os.stat(path).st_mtime
            found[folder.name] = files
        return found

    def changed(self) -> set[str]:
        """``{"specs", "handlers", "extensions"}``: those that changed since the last call."""
        try:
            now = self._look()
        except OSError:  # a file removed while we looked: look again next time
            return set()
        kinds = {kind for kind in now if now[kind] != self.seen.get(kind)}
        self.seen = now
        return kinds


def _build_and_migrate(specs: Path, out: Path, *, allow_destructive: bool) -> str:
    """Build and migrate: ``"ok"``, or what failed (``"build"``, ``"migrate"``), said why.
    Nothing running is replaced: a refused build writes nothing, and the running processes
    keep the code they loaded."""
    from .pipeline import build

    try:
        result = build(specs, out, allow_destructive=allow_destructive)
    except Exception as exc:
        refused = build_refusal(exc, allow=DEV_ALLOW)
        if refused is None:  # a bug, or the user's code failing at build time
            _say("".join(traceback.format_exception(exc)).rstrip(), err=True)
            _say("build failed; the app keeps running the previous build", err=True)
        else:
            _say(refused[0], err=True)
        return "build"
    _say(f"built {result.app.name} -> {out}")
    if result.migration.revision is not None:
        _say(f"new migration {result.migration.revision.path}")
    return "ok" if _migrate(out) else "migrate"


def _migrate(out: Path) -> bool:
    migrate = [sys.executable, "-m", "generator.cli", "migrate", "--app", out.name, "upgrade"]
    done = subprocess.run(
        migrate, cwd=out.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if done.stdout.strip():
        _say(done.stdout.rstrip())
    if done.returncode == 0:
        return True
    if _MISSING_REVISION in done.stdout:
        _say(
            "the dev database is at a migration that is no longer in "
            f"{out.name}/migrations (specs and {out.name} checked out from another commit?); "
            "`gen dev --reset` recreates it (its rows are lost)",
            err=True,
        )
    else:
        _say("migration failed; the app keeps running the previous build", err=True)
    return False


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
    _say(f"server and worker running (GraphiQL at http://127.0.0.1:{port or 8000}/graphql)")
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
            p.wait()


def _dev_secret() -> None:
    """Sign tokens with a per-checkout development secret unless JWT_SECRET is set."""
    from flowgen_runtime.auth.tokens import dev_secret
    from flowgen_runtime.core.settings import get_settings

    settings = get_settings()
    if settings.jwt_secret:
        return
    os.environ["JWT_SECRET"] = dev_secret(settings, create=True) or ""
    _say("development JWT secret in .flowgen/dev-jwt-secret: `gen token --sub 1 --role admin`")


def reset_database() -> bool:
    """``--reset``: delete the embedded SQLite database and the embedded Redis's data (its
    cache and queues describe the old rows). A ``DATABASE_URL`` is the user's to drop."""
    from flowgen_runtime.core.redis import stop_embedded_redis
    from flowgen_runtime.core.settings import get_settings

    settings = get_settings()
    if not settings.is_embedded_db:
        _say(
            "gen dev --reset recreates only the embedded SQLite database; DATABASE_URL is set: "
            "drop and create that database yourself, then run gen dev",
            err=True,
        )
        return False
    database = Path(settings.sync_database_url().removeprefix("sqlite:///"))
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        path.unlink(missing_ok=True)
    if settings.is_embedded_redis:
        stop_embedded_redis(settings.data_dir)  # without saving: its data is dropped too
        (Path(settings.data_path) / "redis" / "dump.rdb").unlink(missing_ok=True)
    _say(f"reset: removed the dev database {database} and the embedded Redis's data")
    return True


def _embedded_redis_to_stop() -> str | None:
    """The data directory of the embedded Redis if this run will be the one to start it
    (no ``REDIS_URL``, not running yet): ``gen dev`` then stops it on exit."""
    from flowgen_runtime.core.redis import embedded_redis_running
    from flowgen_runtime.core.settings import get_settings

    settings = get_settings()
    if settings.redis_url or embedded_redis_running(settings.data_dir):
        return None
    return settings.data_dir


def _start_embedded_redis(data_dir: str) -> None:
    """Start it before the children: each ``gen serve`` would otherwise stop an embedded
    Redis it had started when gen dev restarts it, under the worker's feet; one that runs
    already is gen dev's to stop, not theirs."""
    from flowgen_runtime.core.redis import start_embedded_redis

    try:
        start_embedded_redis(data_dir)
    except RuntimeError as exc:  # the children will fail on it too, and be reported
        _say(str(exc), err=True)


def _stop_embedded_redis(data_dir: str | None) -> None:
    if data_dir is None:
        return
    from flowgen_runtime.core.redis import stop_embedded_redis_if_idle

    if stop_embedded_redis_if_idle(data_dir):
        _say(f"stopped the embedded Redis (its data saved under {data_dir}/redis)")
    else:
        _say("left the embedded Redis running: another process uses it")


def run_dev(
    specs: Path,
    out: Path,
    *,
    port: int | None = None,
    allow_destructive: bool = False,
    reset: bool = False,
) -> int:
    _dev_secret()
    if reset and not reset_database():
        return 1
    redis_dir = _embedded_redis_to_stop()
    if redis_dir is not None:
        _start_embedded_redis(redis_dir)
    procs: list[subprocess.Popen[bytes]] = []
    with stop_signals():
        try:
            watch = Watch(specs, out.parent)
            built = _build_and_migrate(specs, out, allow_destructive=allow_destructive)
            if built == "ok":
                procs = _start(out, port)
            elif built == "build" and (out / "registry.py").is_file() and _migrate(out):
                _say(f"serving the previous build in {out.name}/ until the specs build")
                procs = _start(out, port)
            else:
                _say("gen dev waits for an edit of the specs or code, then tries again")
            _loop(watch, specs, out, procs, port=port, allow_destructive=allow_destructive)
        except KeyboardInterrupt:
            return 0
        finally:
            _stop(procs)
            _stop_embedded_redis(redis_dir)
    return 0  # pragma: no cover (the loop ends by a signal)


def _loop(
    watch: Watch,
    specs: Path,
    out: Path,
    procs: list[subprocess.Popen[bytes]],
    *,
    port: int | None,
    allow_destructive: bool,
) -> None:
    """Watch forever; ``procs`` is updated in place (the caller stops what it holds)."""
    while True:
        time.sleep(POLL_SECONDS)
        if procs and any(p.poll() is not None for p in procs):
            _say("the server or the worker exited (see above); the next edit restarts them", err=True)  # fmt: skip
            _stop(procs)
            procs.clear()
        changed = watch.changed()
        if not changed:
            continue
        if changed & {"specs", "extensions"}:
            _say(f"{' and '.join(sorted(changed))} changed: rebuilding")
            if _build_and_migrate(specs, out, allow_destructive=allow_destructive) != "ok":
                continue
        else:
            _say("handlers changed: restarting the server and the worker")
        _stop(procs)
        procs[:] = _start(out, port)
