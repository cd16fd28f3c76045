"""E2E fixtures: the example app built once, then run on PostgreSQL+Redis or embedded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import App, build_example, child_env, drop_keys, embedded, fresh_database


@pytest.fixture(scope="session")
def example_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    build_example(root)
    return root


@pytest.fixture(scope="session")
def pg_database(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    with fresh_database(postgres_url, "flowgen_e2e") as url:
        yield url


@pytest.fixture(scope="module")
def pg_app(example_root: Path, pg_database: str, redis_url: str) -> Iterator[App]:
    prefix = f"e2e{uuid.uuid4().hex[:8]}"
    env = child_env(
        {
            "DATABASE_URL": pg_database,
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": prefix,
            "CACHE_PREFIX": prefix,
            "FLOWGEN_DATA_DIR": str(example_root / ".flowgen-pg"),
        }
    )
    app = App(example_root, env)
    app.migrate("upgrade")
    app.start()
    try:
        yield app
    finally:
        app.stop()
        drop_keys(redis_url, prefix)


@pytest.fixture(scope="module")
def embedded_app(example_root: Path) -> Iterator[App]:
    with embedded(example_root, ".flowgen-embedded") as app:
        yield app


@pytest.fixture(scope="module")
def generated_pg(postgres_url: str) -> Iterator[str]:
    """A database of one module alone, migrated with ``generated/``'s revisions, for the
    in-process apps of the committed example.

    Not the session's ``pg_database``: the process-based apps migrate that one with the
    example built afresh in a temp dir, whose revision history is not ``generated/``'s,
    so whichever migrated it second failed ("Can't locate revision").
    """
    from flowgen_runtime.migrate import run as migrate

    from generated.registry import REGISTRY

    with fresh_database(postgres_url, "flowgen_gen") as url:
        migrate(REGISTRY, "upgrade", url=url.replace("postgresql://", "postgresql+psycopg2://", 1))
        yield url


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def example_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The committed example's database URL, migrated: PostgreSQL, then SQLite."""
    from flowgen_runtime.migrate import run as migrate

    from generated.registry import REGISTRY

    if request.param == "postgresql":
        yield request.getfixturevalue("generated_pg")
        return
    path = tmp_path_factory.mktemp("example-sqlite") / "app.db"
    migrate(REGISTRY, "upgrade", url=f"sqlite:///{path}")
    yield f"sqlite+aiosqlite:///{path}"
