"""Child processes that do not outlive their parent: ``gen dev``'s server and worker, and
the worker processes of ``gen worker --processes N``."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
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
