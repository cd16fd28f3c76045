"""Shared fixtures of the runtime tests: real PostgreSQL and Redis, or skip.

A service that cannot be reached skips the tests needing it, except under
``CI=true``, where it fails them: CI must never go green by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import REPO_ROOT, service_unavailable  # noqa: F401  (re-exported)


@pytest.fixture
def unique_name() -> str:
    """A name no other test (or concurrent test run) uses: for tables and key prefixes."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def embedded_data_dir(tmp_path: Path) -> Iterator[str]:
    """A fresh data_dir whose embedded Redis server, if one was started, is stopped after."""
    from flowgen_runtime.core.redis import stop_embedded_redis

    data_dir = str(tmp_path / "data")
    yield data_dir
    stop_embedded_redis(data_dir)


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """Environment for child Python processes that import flowgen_runtime."""
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}
