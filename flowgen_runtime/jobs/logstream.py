"""A log stream for worker processes: the lines of one event-loop iteration, one write.

A worker logs a line per job ("job work/noop#17 completed in 0 ms" at INFO). Python's
stderr is line-buffered and ``logging.StreamHandler`` flushes after every record, so each
line is a ``write`` system call and, on a pipe, a wake-up of whatever reads it, which
costs a worker far more than formatting the line (``docs/benchmarks.md``, "Where the
figures quoted in the code went").

:class:`CoalescingStream` wraps the real stream. A line written from a thread running an
event loop is kept, and all lines kept during that loop iteration are written and flushed
together from a callback the iteration schedules (``call_soon``): they reach the stream
microseconds later, in order. A line written where no loop runs (another thread, start-up,
shutdown) first writes what is kept, then itself, at once. :meth:`CoalescingStream.close`
(or any flush outside a loop, as ``logging.shutdown`` does at exit) writes what is left, so
only a process killed with SIGKILL can lose lines, and only those of its last iteration.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TextIO

__all__ = ["CoalescingStream"]


class CoalescingStream:
    """A ``write``/``flush`` stream for a ``logging.StreamHandler``; see the module docstring."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._kept: list[str] = []
        self._scheduled = False
        self._lock = threading.Lock()
        self.writes = 0
        """Writes made to the wrapped stream (each one write system call, or more)."""

    def write(self, text: str) -> int:
        loop = _running_loop()
        with self._lock:
            self._kept.append(text)
            if loop is not None:
                if not self._scheduled:
                    self._scheduled = True
                    loop.call_soon(self._drain)
                return len(text)
        self._drain()
        return len(text)

    def flush(self) -> None:
        # The handler flushes after every record: inside a loop the scheduled drain does it.
        if _running_loop() is None:
            self._drain()

    def close(self) -> None:
        self._drain()

    def _drain(self) -> None:
        with self._lock:
            self._scheduled = False
            if not self._kept:
                return
            text = "".join(self._kept)
            self._kept.clear()
            self.writes += 1
            self.stream.write(text)
            self.stream.flush()

    def __getattr__(self, name: str) -> object:  # isatty, fileno, encoding ...
        return getattr(self.stream, name)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
