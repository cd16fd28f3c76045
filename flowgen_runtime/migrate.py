"""Alembic, driven programmatically: ``gen migrate upgrade|downgrade|current|history|check``."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError

from .settings import get_settings


def alembic_config(registry: Any, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(registry.migrations_dir))
    cfg.set_main_option(
        "sqlalchemy.url", (url or get_settings().sync_database_url()).replace("%", "%%")
    )
    return cfg


def configure_context(context: Any, connection: Any, target_metadata: Any) -> None:
    """Called by the generated ``env.py``: batch mode on SQLite, type comparison on."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run(registry: Any, action: str, revision: str | None = None, *, url: str | None = None) -> int:
    cfg = alembic_config(registry, url)
    try:
        if action == "upgrade":
            command.upgrade(cfg, revision or "head")
        elif action == "downgrade":
            command.downgrade(cfg, revision or "-1")
        elif action == "current":
            command.current(cfg, verbose=True)
        elif action == "history":
            command.history(cfg)
        elif action == "check":
            command.check(cfg)
        else:
            raise CommandError(f"unknown action {action!r}")
    except CommandError as exc:
        print(f"migrate {action}: {exc}")
        return 1
    return 0
