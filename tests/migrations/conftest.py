"""Fixtures of the evolution tests: a fresh PostgreSQL database per run (shared with e2e), and
per test a spec folder migrated on a new SQLite file and a new PostgreSQL database."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import pg_database
from tests.e2e.harness import fresh_database

from .evolve import Project

__all__ = ["pg_database", "project"]


@pytest.fixture
def project(tmp_path: Path, postgres_url: str) -> Iterator[Project]:
    with fresh_database(postgres_url, "flowgen_evo") as pg:
        urls = {"sqlite": f"sqlite:///{tmp_path / 'app.db'}", "postgres": Project.url_for(pg)}
        yield Project(tmp_path, urls)
