"""Alembic, driven programmatically: ``gen migrate upgrade|downgrade|current|history|check``."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from flowgen_runtime.core.settings import get_settings
from flowgen_runtime.data.ddl import pattern_match

__all__ = ["pattern_match"]  # revisions call fg.pattern_match for pattern CHECKs


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


# Helpers called by generated revisions (``from flowgen_runtime import migrate as fg``) for
# the changes Alembic has no single operation for. Each works on PostgreSQL and SQLite.


def _quote(name: str) -> str:
    from alembic import op

    return str(op.get_bind().dialect.identifier_preparer.quote(name))


def require_no_nulls(table: str, column: str, reason: str) -> None:
    """Stop the migration (nothing applied) if ``table.column`` has NULLs; ``reason`` says why."""
    from alembic import op

    n = (
        op.get_bind()
        .exec_driver_sql(f"SELECT count(*) FROM {_quote(table)} WHERE {_quote(column)} IS NULL")
        .scalar()
    )
    if n:
        raise RuntimeError(
            f"{table}.{column}: {n} row(s) hold NULL but {reason}; fill them (or give the field a "
            "default) and run the migration again"
        )


def fill_nulls(table: str, column: str, default_sql: str) -> None:
    """Give existing NULLs the column's new default before it becomes NOT NULL."""
    from alembic import op

    op.execute(
        f"UPDATE {_quote(table)} SET {_quote(column)} = {default_sql} "
        f"WHERE {_quote(column)} IS NULL"
    )


def require_empty(table: str, reason: str) -> None:
    """Stop the migration (before it changes anything) if ``table`` has rows."""
    from alembic import op

    n = op.get_bind().exec_driver_sql(f"SELECT count(*) FROM {_quote(table)}").scalar()
    if n:
        raise RuntimeError(f"{table}: {n} row(s) exist but {reason}; nothing was changed")


def require_unused_values(table: str, column: str, values: list[str]) -> None:
    """Stop the migration if a row of ``table`` still has one of ``values`` in ``column``."""
    from alembic import op

    if not values:
        return
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    n = (
        op.get_bind()
        .exec_driver_sql(
            f"SELECT count(*) FROM {_quote(table)} WHERE {_quote(column)} IN ({listed})"
        )
        .scalar()
    )
    if n:
        raise RuntimeError(
            f"{table}.{column}: {n} row(s) still use the removed value(s) {values}; "
            "update them and run the migration again"
        )


def sqlite_autoincrement(table: str, on: bool) -> None:
    """SQLite: rebuild ``table`` with (or without) AUTOINCREMENT, so ids of deleted rows are
    never handed out again (the rows keep their ids; the counter starts at the largest).
    Nothing to do elsewhere: PostgreSQL sequences never go back."""
    from alembic import op

    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": on}):
        pass


def rename_enum(old: str, new: str) -> None:
    """Rename a PostgreSQL enum type (elsewhere enums are CHECK constraints: nothing to do)."""
    from alembic import op

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TYPE {_quote(old)} RENAME TO {_quote(new)}")


def alter_enum(
    table: str,
    column: str,
    name: str,
    old: list[str],
    new: list[str],
    *,
    server_default: str | None = None,
) -> None:
    """Change the values of the enum behind ``table.column``.

    Removing a value stops the migration if a row still uses it. On PostgreSQL added values
    use ``ALTER TYPE ... ADD VALUE`` (outside the transaction, as older servers require);
    a removal swaps the type (rename, create, ``USING column::text::type``, drop). On
    SQLite the column's CHECK constraint is replaced by a batch table rebuild.
    """
    import sqlalchemy as sa
    from alembic import op

    bind = op.get_bind()
    removed = [v for v in old if v not in new]
    require_unused_values(table, column, removed)
    if bind.dialect.name != "postgresql":
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                type_=sa.Enum(*new, name=name, create_constraint=True),
                existing_type=sa.Enum(*old, name=name, create_constraint=True),
            )
        return
    if not removed:
        _pg_add_values(name, old, new)
        return
    t, c, q = _quote(table), _quote(column), _quote(name)
    op.execute(f"ALTER TYPE {q} RENAME TO {_quote(name + '_old')}")
    sa.Enum(*new, name=name).create(bind)
    op.execute(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT")
    op.execute(f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {q} USING {c}::text::{q}")
    if server_default is not None:
        op.execute(f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {server_default}")
    op.execute(f"DROP TYPE {_quote(name + '_old')}")


def _pg_add_values(name: str, old: list[str], new: list[str]) -> None:
    from alembic import op

    with op.get_context().autocommit_block():
        for i, value in enumerate(new):
            if value in old:
                continue
            after = next((v for v in new[i + 1 :] if v in old), None)
            where = f" BEFORE '{after}'" if after else ""
            op.execute(f"ALTER TYPE {_quote(name)} ADD VALUE IF NOT EXISTS '{value}'{where}")
