"""Operations Alembic has no op for, rendered as calls into :mod:`flowgen_runtime.migrate`.

They are ordinary Alembic ``MigrateOperation`` objects with a ``reverse()`` and a renderer
registered through Alembic's public ``renderers.dispatch_for``, so they sit in the same
operation list as Alembic's own ops and the downgrade is still computed, not written twice.
The rendered call does the dialect-specific work at migration time (a PostgreSQL enum type
swap, a SQLite batch table rebuild) and checks data before a change that could lose it.

>>> print(_render_alter_enum(None, AlterEnumOp("users", "role", "user_role", ("a",), ("a", "b"))))
fg.alter_enum('users', 'role', 'user_role', ['a'], ['a', 'b'], server_default=None)
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy.sql.elements import conv


class AlterEnumOp(ops.MigrateOperation):
    """Change the values of the enum type behind ``table.column`` (add and/or remove)."""

    def __init__(
        self,
        table: str,
        column: str,
        name: str,
        old: tuple[str, ...],
        new: tuple[str, ...],
        old_default: str | None = None,
        new_default: str | None = None,
    ) -> None:
        self.table, self.column, self.name = table, column, name
        self.old, self.new = old, new
        self.old_default, self.new_default = old_default, new_default

    def reverse(self) -> AlterEnumOp:
        return AlterEnumOp(
            self.table, self.column, self.name, self.new, self.old, self.new_default,
            self.old_default,
        )  # fmt: skip


class AlterColumnOp(ops.AlterColumnOp):
    """Alembic's alter op whose ``reverse()`` also undoes a rename (``new_column_name``)."""

    using_back: str | None = None  # the downgrade's ``postgresql_using`` (a cast back)

    def reverse(self) -> AlterColumnOp:
        rev = super().reverse()
        kw = {k: v for k, v in rev.kw.items() if k != "postgresql_using"}
        if self.using_back is not None:
            kw["postgresql_using"] = self.using_back
        out = AlterColumnOp(
            rev.table_name,
            self.modify_name or self.column_name,
            schema=rev.schema,
            existing_type=rev.existing_type,
            existing_server_default=rev.existing_server_default,
            existing_nullable=rev.existing_nullable,
            existing_comment=rev.existing_comment,
            modify_nullable=rev.modify_nullable,
            modify_comment=rev.modify_comment,
            modify_server_default=rev.modify_server_default,
            modify_name=self.column_name if self.modify_name else None,
            modify_type=rev.modify_type,
            **kw,
        )
        out.using_back = self.kw.get("postgresql_using")
        return out


class RenameTableOp(ops.RenameTableOp):
    """Rename a table and its primary key (and sequences): ``fg.rename_table``."""

    def __init__(self, old: str, new: str, primary_key: tuple[str, str] | None = None) -> None:
        super().__init__(old, new)
        self.primary_key = primary_key

    def reverse(self) -> RenameTableOp:
        pk = self.primary_key
        return RenameTableOp(self.new_table_name, self.table_name, pk and (pk[1], pk[0]))


class DataCheckOp(ops.MigrateOperation):
    """A check of the data before any change (rendered by :func:`render_checks` at the top of
    the migration): ``call`` for the upgrade, ``back`` for the downgrade, each a rendered
    ``fg.require_*`` call naming the table and columns as they are at that moment."""

    def __init__(self, call: str | None, back: str | None = None) -> None:
        self.call, self.back = call, back

    def reverse(self) -> DataCheckOp:
        return DataCheckOp(self.back, self.call)


class RenameEnumOp(ops.MigrateOperation):
    """Rename an enum type (PostgreSQL; nothing to do where enums are CHECK constraints)."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def reverse(self) -> RenameEnumOp:
        return RenameEnumOp(self.new, self.old)


class EnumCheckOp(ops.MigrateOperation):
    """SQLite keeps an enum as a CHECK named after its table and type (``ck_drivers_driver_kind``)
    whose text names the column: a renamed table, type or column replaces it in the same
    table rebuild (a rebuild with the old text would refer to a column gone). Nothing to do
    on PostgreSQL, where the enum is a type. ``old``/``new``: (constraint name, SQL text)."""

    def __init__(
        self,
        old: tuple[str, str] | None,
        new: tuple[str, str] | None,
        *,
        reversible: bool = True,
    ) -> None:
        self.old, self.new, self.reversible = old, new, reversible

    def reverse(self) -> EnumCheckOp | NoOp:
        # dropping the check of a dropped column: the column comes back with its check
        return EnumCheckOp(self.new, self.old) if self.reversible else NoOp()


class RequireNoNullsOp(ops.MigrateOperation):
    """Stop the migration with a clear message if ``table.column`` holds NULLs (rendered by
    :func:`render_checks` at the top of the migration, not in place)."""

    def __init__(self, table: str, column: str, reason: str, *, new_column: bool = False) -> None:
        self.table, self.column, self.reason = table, column, reason
        self.new_column = new_column  # then the table must be empty: checked up front

    def reverse(self) -> NoOp:
        return NoOp()


class FillNullsOp(ops.MigrateOperation):
    """``UPDATE table SET column = <default> WHERE column IS NULL`` before a NOT NULL."""

    def __init__(self, table: str, column: str, default_sql: str) -> None:
        self.table, self.column, self.default_sql = table, column, default_sql

    def reverse(self) -> NoOp:
        return NoOp()


class DeferredForeignKeyOp(ops.MigrateOperation):
    """A foreign key of a table cycle (``use_alter``), added once its tables exist (or
    dropped before they go). Where the dialect has no ALTER for constraints (SQLite), the
    CREATE TABLE already declared it, so the rendered code does nothing there."""

    def __init__(self, fk: sa.ForeignKeyConstraint, *, drop: bool = False) -> None:
        self.fk, self.drop = fk, drop

    def reverse(self) -> DeferredForeignKeyOp:
        return DeferredForeignKeyOp(self.fk, drop=not self.drop)


class NoOp(ops.MigrateOperation):
    """The reverse of a data check: nothing to undo (dropped from rendered code)."""

    def reverse(self) -> ops.MigrateOperation:
        return NoOp()


class UndoOnly(NoOp):
    """Nothing in the upgrade, ``op`` in the downgrade (e.g. the CHECK of an added enum
    column, which its ``add_column`` creates but the reverse ``drop_column`` leaves)."""

    def __init__(self, op: ops.MigrateOperation) -> None:
        self.op = op

    def reverse(self) -> ops.MigrateOperation:
        return self.op


def _args(*values: Any) -> str:
    return ", ".join(repr(list(v) if isinstance(v, tuple) else v) for v in values)


@renderers.dispatch_for(AlterEnumOp)
def _render_alter_enum(_ctx: Any, op: AlterEnumOp) -> str:
    args = _args(op.table, op.column, op.name, op.old, op.new)
    return f"fg.alter_enum({args}, server_default={op.new_default!r})"


_render_alembic_alter = renderers.dispatch(ops.AlterColumnOp)


@renderers.dispatch_for(AlterColumnOp)
def _render_alter_column(ctx: Any, op: AlterColumnOp) -> str:
    """Alembic's rendering plus ``postgresql_using``, which Alembic's leaves out."""
    text = str(_render_alembic_alter(ctx, op))
    using = op.kw.get("postgresql_using")
    return f"{text[:-1]}, postgresql_using={using!r})" if using else text


@renderers.dispatch_for(DeferredForeignKeyOp)
def _render_deferred_fk(_ctx: Any, op: DeferredForeignKeyOp) -> str:
    fk = op.fk
    table = fk.parent.name
    if op.drop:
        call = f"op.drop_constraint(op.f({fk.name!r}), {table!r}, type_='foreignkey')"
    else:
        cols = [c.name for c in fk.columns]
        refs = [e.column.name for e in fk.elements]
        call = (
            f"op.create_foreign_key(op.f({fk.name!r}), {table!r}, {fk.referred_table.name!r}, "
            f"{cols!r}, {refs!r}, ondelete={fk.ondelete!r})"
        )
    return f"if op.get_bind().dialect.supports_alter:  # else declared in CREATE TABLE\n    {call}"


@renderers.dispatch_for(RenameTableOp)
def _render_rename_table(_ctx: Any, op: RenameTableOp) -> str:
    pk = f", primary_key={op.primary_key!r}" if op.primary_key else ""
    return f"fg.rename_table({_args(op.table_name, op.new_table_name)}{pk})"


@renderers.dispatch_for(EnumCheckOp)
def _render_enum_check(_ctx: Any, op: EnumCheckOp) -> str:
    return f"fg.replace_sqlite_check(batch_op, {_args(op.old, op.new)})"


@renderers.dispatch_for(RenameEnumOp)
def _render_rename_enum(_ctx: Any, op: RenameEnumOp) -> str:
    return f"fg.rename_enum({_args(op.old, op.new)})"


class SqliteAutoincrementOp(ops.MigrateOperation):
    """Turn SQLite's AUTOINCREMENT of an existing table on or off (a table rebuild there)."""

    def __init__(self, table: str, on: bool) -> None:
        self.table, self.on = table, on

    def reverse(self) -> SqliteAutoincrementOp:
        return SqliteAutoincrementOp(self.table, not self.on)


@renderers.dispatch_for(SqliteAutoincrementOp)
def _render_sqlite_autoincrement(_ctx: Any, op: SqliteAutoincrementOp) -> str:
    return f"fg.sqlite_autoincrement({_args(op.table, op.on)})"


def render_checks(op_list: list[ops.MigrateOperation]) -> list[str]:
    """Data checks hoisted to the top of the migration, so a refusal changes nothing (SQLite
    DDL is not transactional, and PostgreSQL enum additions commit early)."""
    lines = []
    for op in op_list:
        if isinstance(op, RequireNoNullsOp) and op.new_column:
            lines.append(f"fg.require_empty({_args(op.table, op.reason)})")
        elif isinstance(op, RequireNoNullsOp):
            lines.append(f"fg.require_no_nulls({_args(op.table, op.column, op.reason)})")
        elif isinstance(op, DataCheckOp) and op.call is not None:
            lines.append(op.call)
        elif isinstance(op, AlterEnumOp) and (gone := [v for v in op.old if v not in op.new]):
            lines.append(f"fg.require_unused_values({_args(op.table, op.column, gone)})")
    return lines


@renderers.dispatch_for(FillNullsOp)
def _render_fill(_ctx: Any, op: FillNullsOp) -> str:
    return f"fg.fill_nulls({_args(op.table, op.column, op.default_sql)})"


CUSTOM_OPS = (
    AlterEnumOp,
    EnumCheckOp,
    RenameEnumOp,
    RequireNoNullsOp,
    FillNullsOp,
    DataCheckOp,
    RenameTableOp,
    SqliteAutoincrementOp,
)


def check_call(name: str, *args: Any) -> str:
    """A rendered ``fg.<name>(...)`` data check.

    >>> check_call("require_max_length", "users", "name", 40)
    "fg.require_max_length('users', 'name', 40)"
    """
    return f"fg.{name}({_args(*args)})"


def _pattern(constraint: Any) -> Any:
    """The ``pattern_match`` element of a CHECK constraint, or None."""
    from flowgen_runtime.data.ddl import PatternMatch

    sqltext = getattr(constraint, "sqltext", None)
    return sqltext if isinstance(sqltext, PatternMatch) else None


class AddPatternCheckOp(ops.CreateCheckConstraintOp):
    """A pattern CHECK, rendered as ``fg.pattern_match(...)`` so each dialect compiles it."""

    def reverse(self) -> DropPatternCheckOp:
        # conv(): the name is final (rendered as op.f), the naming convention must not apply twice
        name = conv(str(self.constraint_name))
        return DropPatternCheckOp(name, self.table_name, type_="check", pattern=self)


class DropPatternCheckOp(ops.DropConstraintOp):
    def __init__(self, name: Any, *args: Any, pattern: AddPatternCheckOp, **kw: Any) -> None:
        super().__init__(name, *args, **kw)
        self.constraint_name = name  # keep the conv() marker Alembic's __init__ drops
        self.pattern = pattern

    def reverse(self) -> AddPatternCheckOp:
        return self.pattern


def pattern_ops(constraint: Any, table: str) -> tuple[AddPatternCheckOp, DropPatternCheckOp] | None:
    """Add/drop ops for a pattern CHECK constraint (None for any other constraint)."""
    element = _pattern(constraint)
    if element is None:
        return None
    add = AddPatternCheckOp(str(constraint.name), table, element)
    return add, add.reverse()


def _pattern_call(element: Any) -> str:
    return f"fg.pattern_match({element.column!r}, {element.pattern!r})"


@renderers.dispatch_for(AddPatternCheckOp)
def _render_add_pattern(ctx: Any, op: AddPatternCheckOp) -> str:
    # pattern CHECKs are only ever added inside a ModifyTableOps (diff.py), which the
    # revisions render as a batch block when render_as_batch is on (always, revisions.py)
    batch = ctx is not None and bool(ctx.opts.get("render_as_batch"))
    prefix = "batch_op." if batch else "op."
    table = "" if batch else f"{op.table_name!r}, "
    return f"{prefix}create_check_constraint({prefix}f({op.constraint_name!r}), {table}{_pattern_call(op.condition)})"


def render_item(type_: str, obj: Any, _ctx: Any) -> str | Literal[False]:
    """Alembic ``render_item`` hook: pattern CHECKs inside ``create_table``."""
    element = _pattern(obj) if type_ == "check" else None
    if element is None:
        return False
    return f"sa.CheckConstraint({_pattern_call(element)}, name=op.f({obj.name!r}))"
