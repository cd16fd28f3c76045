"""Alembic, driven programmatically: ``gen migrate upgrade|downgrade|current|history|check``."""

from __future__ import annotations

import sys
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


class MigrationRefused(Exception):
    """A data check of a revision failed; nothing was changed (the message says what to do)."""


def run(registry: Any, action: str, revision: str | None = None, *, url: str | None = None) -> int:
    """Run one ``gen migrate`` action; a refusal or a database error is one paragraph, exit 1."""
    from sqlalchemy.exc import DBAPIError

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
    except (CommandError, MigrationRefused) as exc:
        print(f"migrate {action}: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split()) if exc.orig is not None else str(exc)
        removed = _drop_half_built(cfg.get_main_option("sqlalchemy.url") or "")
        print(
            f"migrate {action}: the database refused the migration: {reason} "
            f"(statement: {' '.join(str(exc.statement).split())[:200]})"
            + (f"; removed the half-built {', '.join(removed)}" if removed else ""),
            file=sys.stderr,
        )
        return 1
    return 0


def _drop_half_built(url: str) -> list[str]:
    """SQLite DDL is not transactional: a table rebuild that failed leaves its new copy
    (``_alembic_tmp_<table>``; the table itself is intact), and the next rebuild of that
    table would fail on it. Drop such copies; their names."""
    import sqlalchemy as sa

    if not url.startswith("sqlite"):
        return []
    engine = sa.create_engine(url.replace("%%", "%"))
    try:
        with engine.begin() as conn:
            names = [t for t in sa.inspect(conn).get_table_names() if t.startswith("_alembic_tmp_")]
            for name in names:
                conn.exec_driver_sql(f'DROP TABLE "{name}"')
        return names
    finally:
        engine.dispose()


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
        raise MigrationRefused(
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
        raise MigrationRefused(f"{table}: {n} row(s) exist but {reason}; nothing was changed")


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
        raise MigrationRefused(
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


def _rows(table: str, where: str, columns: list[str], limit: int = 5) -> tuple[int, str]:
    """How many rows of ``table`` match ``where`` and the first few, as ``(id=1, name='x')``."""
    from alembic import op

    bind = op.get_bind()
    n = bind.exec_driver_sql(f"SELECT count(*) FROM {_quote(table)} WHERE {where}").scalar()
    if not n:
        return 0, ""
    shown = ", ".join(_quote(c) for c in columns)
    found = bind.exec_driver_sql(
        f"SELECT {shown} FROM {_quote(table)} WHERE {where} LIMIT {limit}"
    ).fetchall()
    listed = "; ".join(
        "(" + ", ".join(f"{c}={_short(v)!r}" for c, v in zip(columns, row, strict=True)) + ")"
        for row in found
    )
    return int(n), listed + (" ..." if n > limit else "")


def _short(value: Any) -> Any:
    return value[:40] + "..." if isinstance(value, str) and len(value) > 43 else value


def _key_columns(table: str, column: str) -> list[str]:
    """The primary key columns of ``table`` (to name rows by), then ``column``."""
    import sqlalchemy as sa
    from alembic import op

    pk = sa.inspect(op.get_bind()).get_pk_constraint(table)["constrained_columns"]
    return [*pk, *([column] if column not in pk else [])]


def require_max_length(table: str, column: str, length: int) -> None:
    """Stop the migration (nothing changed) if a value of ``table.column`` (as text) is longer
    than ``length`` characters: a narrower VARCHAR would cut it (SQLite) or refuse it."""
    c = _quote(column)
    n, rows = _rows(
        table, f"length(CAST({c} AS TEXT)) > {int(length)}", _key_columns(table, column)
    )
    if n:
        raise MigrationRefused(
            f"{table}.{column} becomes at most {length} characters long but {n} row(s) hold "
            f"longer values: {rows}; shorten them and run the migration again (nothing was changed)"
        )


def require_numeric_range(table: str, column: str, precision: int, scale: int) -> None:
    """Stop the migration if a value of ``table.column`` does not fit ``NUMERIC(precision,
    scale)``: its absolute value must stay below ``10 ** (precision - scale)``."""
    limit = 10 ** (int(precision) - int(scale))
    c = _quote(column)
    n, rows = _rows(table, f"abs({c}) >= {limit}", _key_columns(table, column))
    if n:
        raise MigrationRefused(
            f"{table}.{column} becomes NUMERIC({precision}, {scale}) (values below {limit}) but "
            f"{n} row(s) hold larger values: {rows}; change them and run the migration again "
            "(nothing was changed)"
        )


def require_integers(table: str, column: str) -> None:
    """Stop the migration if a value of the text column ``table.column`` is not an integer."""
    from alembic import op

    c = _quote(column)
    if op.get_bind().dialect.name == "postgresql":
        where = f"{c} IS NOT NULL AND {c} !~ '^\\s*[-+]?[0-9]{{1,18}}\\s*$'"
    else:
        where = f"{c} IS NOT NULL AND CAST(CAST({c} AS INTEGER) AS TEXT) != trim({c}, ' ')"
    n, rows = _rows(table, where, _key_columns(table, column))
    if n:
        raise MigrationRefused(
            f"{table}.{column} becomes an integer but {n} row(s) hold other text: {rows}; "
            "change them and run the migration again (nothing was changed)"
        )


def require_unique(table: str, columns: list[str], name: str) -> None:
    """Stop the migration if rows of ``table`` share values of ``columns`` (about to become
    the unique constraint or index ``name``); rows with a NULL among them never clash."""
    cols = ", ".join(_quote(c) for c in columns)
    not_null = " AND ".join(f"{_quote(c)} IS NOT NULL" for c in columns)
    groups = (
        f"SELECT {cols} FROM {_quote(table)} WHERE {not_null} GROUP BY {cols} HAVING count(*) > 1"
    )
    from alembic import op

    found = op.get_bind().exec_driver_sql(groups + " LIMIT 6").fetchall()
    if found:
        listed = "; ".join(
            "(" + ", ".join(f"{c}={_short(v)!r}" for c, v in zip(columns, row, strict=True)) + ")"
            for row in found[:5]
        )
        raise MigrationRefused(
            f"{table}: {name} makes ({', '.join(columns)}) unique but several rows share "
            f"{listed}{' ...' if len(found) > 5 else ''}; make them differ and run the migration "
            "again (nothing was changed)"
        )


def require_check(table: str, name: str, condition: str, columns: list[str]) -> None:
    """Stop the migration if rows of ``table`` break ``condition``, the SQL of the CHECK
    constraint ``name`` about to be created (a new ``min``, ``max``, ``min_length``...) on
    ``columns``."""
    shown = _key_columns(table, columns[0]) + columns[1:]
    n, rows = _rows(table, f"NOT ({condition})", list(dict.fromkeys(shown)))
    if n:
        raise MigrationRefused(
            f"{table}: {n} row(s) break the new check {name} ({condition}): {rows}; change "
            "them and run the migration again (nothing was changed)"
        )


def rename_table(old: str, new: str, primary_key: tuple[str, str] | None = None) -> None:
    """Rename a table with what is named after it: its primary key (``pk_stations`` ->
    ``pk_stops``) and, on PostgreSQL, the sequences of its serial columns
    (``stations_id_seq`` -> ``stops_id_seq``), so it matches a table created as ``new``."""
    import sqlalchemy as sa
    from alembic import op

    op.rename_table(old, new)
    bind = op.get_bind()
    renamed_pk = primary_key is not None and primary_key[0] != primary_key[1]
    if bind.dialect.name != "postgresql":
        pk = sa.inspect(bind).get_pk_constraint(new)
        # an AUTOINCREMENT key is declared inline on SQLite and has no name to rename
        if renamed_pk and primary_key is not None and pk.get("name") == primary_key[0]:
            cols = pk["constrained_columns"]
            with op.batch_alter_table(new, recreate="always") as batch:
                batch.drop_constraint(primary_key[0], type_="primary")
                batch.create_primary_key(primary_key[1], cols)
        return
    if renamed_pk and primary_key is not None:
        op.execute(
            f"ALTER TABLE {_quote(new)} RENAME CONSTRAINT {_quote(primary_key[0])} "
            f"TO {_quote(primary_key[1])}"
        )
    for col in sa.inspect(bind).get_columns(new):
        seq = bind.exec_driver_sql(
            "SELECT pg_get_serial_sequence(%(t)s, %(c)s)", {"t": _quote(new), "c": col["name"]}
        ).scalar()
        if seq and seq.rsplit(".", 1)[-1].strip('"') == f"{old}_{col['name']}_seq":
            op.execute(f"ALTER SEQUENCE {seq} RENAME TO {_quote(new + '_' + col['name'] + '_seq')}")


def replace_sqlite_check(
    batch: Any, old: tuple[str, str] | None, new: tuple[str, str] | None
) -> None:
    """In a batch rebuild on SQLite, replace the CHECK of an enum column (``(name, SQL)``;
    either may be None: only drop, only create): its table, enum type or column was renamed,
    or the column dropped. Nothing on PostgreSQL: enums are types there."""
    import sqlalchemy as sa
    from alembic import op

    if op.get_bind().dialect.name != "sqlite":
        return
    if old is not None:  # f(): the names are final, the naming convention must not apply
        batch.drop_constraint(batch.f(old[0]), type_="check")
    if new is not None:
        batch.create_check_constraint(batch.f(new[0]), sa.text(new[1]))
