"""Child processes that do not outlive their parent (``gen dev``'s server and worker, the
worker processes of ``gen worker --processes N``), whether a process still runs, and the
stop signals of a command run in a terminal (:func:`stop_signals`)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

_PR_SET_PDEATHSIG = 1


def spawn_child(cmd: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(cmd, **popen)`` for a child that gets SIGTERM when this process
    dies, on Linux (``PR_SET_PDEATHSIG``).

    The parent stops its children itself on Ctrl-C or SIGTERM; this covers the deaths it
    cannot handle (SIGKILL, an IDE or a CI runner killing it), which otherwise leave a
    server holding its port and workers taking jobs, with nobody to stop them.
    """
    parent = os.getpid()
    return subprocess.Popen(cmd, preexec_fn=lambda: _die_with(parent), **popen)  # noqa: PLW1509


def _die_with(parent: int) -> None:
    """In the child, before exec: ask Linux for SIGTERM once ``parent`` exits."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request: nobody will send the signal
        os.kill(os.getpid(), signal.SIGTERM)


def process_running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited. An exited process stays a zombie
    until its parent (or init, for a daemon) reaps it, which may take a while: on Linux a
    zombie counts as stopped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within the block SIGTERM raises ``KeyboardInterrupt``, as Ctrl-C does, and SIGHUP (the
    terminal was closed) is taken for SIGTERM; so ``finally`` blocks run (stopping children
    and the embedded Redis) instead of the process dying where it stands.

    A library that installs its own SIGTERM handler meanwhile (uvicorn does while it
    serves) gets the SIGHUP too, as its SIGTERM: it shuts down gracefully, then re-raises
    the signal, which lands here once it has restored this handler.
    """

    def terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    def hangup(_signum: int, _frame: Any) -> None:
        signal.raise_signal(signal.SIGTERM)

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, terminate),
        signal.SIGHUP: signal.signal(signal.SIGHUP, hangup),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
