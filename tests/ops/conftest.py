"""Fixtures of the operations tests: promtool (skip locally, fail under CI=true)."""

from __future__ import annotations

import shutil

import pytest

from ..conftest import service_unavailable


@pytest.fixture(scope="session")
def promtool() -> str:
    """The ``promtool`` binary (Debian package ``prometheus``; ``.ci/run`` installs it)."""
    path = shutil.which("promtool")
    if path is None:
        service_unavailable("promtool", "PATH", "not installed (apt-get install prometheus)")
    return path
