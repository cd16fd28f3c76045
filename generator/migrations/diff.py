"""The difference between the previous and the new models, as ordered Alembic operations.

Both sides are real ``sa.MetaData`` (the previous build's models are imported from the out
folder, checked against the committed snapshot), so every op carries full objects and its
``reverse()`` works: a dropped table comes back with its columns, constraints and indexes.

Order of the upgrade (the downgrade is the same list reversed, each op reversed):

1. drop indexes and constraints that go away or change (by the old names),
2. rename tables,
3. per table: add / rename / alter / drop columns (one batch, so SQLite rebuilds once),
4. create new tables with their indexes,
5. create the new constraints and indexes of existing tables,
6. drop removed tables (their indexes first).
"""

from __future__ import annotations

import re
from typing import Any, cast

import sqlalchemy as sa
from alembic.operations import ops

from .columns import Diff, diff_columns
from .customops import DataCheckOp, RenameTableOp, check_call, pattern_ops
from .renames import Renames

Constraint = sa.UniqueConstraint | sa.CheckConstraint | sa.ForeignKeyConstraint


def diff_metadata(old: sa.MetaData | None, new: sa.MetaData, renames: Renames) -> Diff:
    d = Diff()
    before = old.tables if old is not None else {}
    kept = [
        (before[renames.old_table(t.name)], t)
        for t in new.sorted_tables
        if renames.old_table(t.name) in before
    ]
    kept_old = {o.name for o, _ in kept}
    to_new = {o.name: n.name for o, n in kept}
    for o, n in kept:
        _drop_extras(o, n, to_new, renames, d)
    for o, n in kept:
        if o.name != n.name:
            pk = (str(o.primary_key.name), str(n.primary_key.name))
            d.ops.append(RenameTableOp(o.name, n.name, pk if o.primary_key.name else None))
            d.summary.append(f"rename table {o.name} to {n.name}")
    for o, n in kept:
        diff_columns(o, n, renames, d)
    _create_tables([t for t in new.sorted_tables if renames.old_table(t.name) not in before], d)
    for o, n in kept:
        _create_extras(o, n, to_new, renames, d)
    if old is not None:
        for table in reversed(old.sorted_tables):
            if table.name not in kept_old:
                d.ops += [ops.DropIndexOp.from_index(i) for i in _indexes(table)]
                d.ops.append(ops.DropTableOp.from_table(table))
                d.summary.append(f"drop table {table.name}")
                d.destructive.append(f"drop table {table.name}: every row of it is deleted")
    return d


def _create_tables(tables: list[sa.Table], d: Diff) -> None:
    """Create ``tables`` in order; a foreign key to one created later (two tables that point
    at each other) is added after all of them, in a batch (SQLite rebuilds the table)."""
    created: set[str] = set()
    later: list[tuple[sa.Table, sa.ForeignKeyConstraint]] = []
    names = {t.name for t in tables}
    for table in tables:
        waiting = [
            fk
            for fk in _constraints(table)
            if isinstance(fk, sa.ForeignKeyConstraint)
            and (target := fk.elements[0].column.table.name) in names
            and target not in created
            and target != table.name
        ]
        d.ops.append(CreateTableOp.from_table(_without(table, waiting) if waiting else table))
        d.ops += [CreateIndexOp.from_index(i) for i in _indexes(table)]
        d.summary.append(f"create table {table.name}")
        later += [(table, fk) for fk in waiting]
        created.add(table.name)
    for table, fk in later:
        d.ops.append(ops.ModifyTableOps(table.name, [ops.CreateForeignKeyOp.from_constraint(fk)]))
        d.summary.append(f"create foreign key {fk.name}")


def _without(table: sa.Table, fks: list[sa.ForeignKeyConstraint]) -> sa.Table:
    """A copy of ``table`` (in a metadata of its own) without the foreign keys ``fks``."""
    copy = table.to_metadata(sa.MetaData(naming_convention=table.metadata.naming_convention))
    for fk in [c for c in copy.constraints if isinstance(c, sa.ForeignKeyConstraint)]:
        if fk.name in {f.name for f in fks}:
            copy.constraints.remove(fk)
            for col in fk.columns:
                col.foreign_keys.clear()
    return copy


class CreateTableOp(ops.CreateTableOp):
    """Renders from the table it was made from. Alembic's own ``to_table()`` copies every
    column and constraint first: a quarter of rendering a revision with hundreds of tables."""

    _table: sa.Table

    @classmethod
    def from_table(
        cls, table: sa.Table, *, _namespace_metadata: sa.MetaData | None = None
    ) -> CreateTableOp:
        op = cast(CreateTableOp, super().from_table(table, _namespace_metadata=_namespace_metadata))
        op._table = table
        return op

    def to_table(self, migration_context: Any = None) -> sa.Table:
        return self._table


class CreateIndexOp(ops.CreateIndexOp):
    """Renders from its index, not from a copy on a stand-in table (see CreateTableOp)."""

    _index: sa.Index

    @classmethod
    def from_index(cls, index: sa.Index) -> CreateIndexOp:
        op = cast(CreateIndexOp, super().from_index(index))
        op._index = index
        return op

    def to_index(self, migration_context: Any = None) -> sa.Index:
        return self._index


def _indexes(table: sa.Table) -> list[sa.Index]:
    return sorted(table.indexes, key=lambda i: str(i.name))


def _constraints(table: sa.Table) -> list[Constraint]:
    """Named unique, check and foreign key constraints (not the ones an Enum type adds)."""
    found = [
        c
        for c in table.constraints
        if isinstance(c, Constraint) and c.name is not None and not getattr(c, "_type_bound", 0)
    ]
    return sorted(found, key=lambda c: str(c.name))


def _signature(item: Any, cols: list[str], to_new: dict[str, str]) -> tuple[Any, ...]:
    if isinstance(item, sa.Index):
        return ("ix", tuple(cols), bool(item.unique))
    if isinstance(item, sa.CheckConstraint):
        return ("ck", str(item.sqltext))
    if isinstance(item, sa.ForeignKeyConstraint):
        target = item.elements[0].column.table.name
        return ("fk", tuple(cols), to_new.get(target, target), str(item.ondelete))
    return ("uq", tuple(cols))


def _keyed(
    table: sa.Table, to_new: dict[str, str], renames: Renames | None, new_name: str
) -> dict[str, tuple[Any, tuple[Any, ...]]]:
    out = {}
    for item in [*_indexes(table), *_constraints(table)]:
        cols = [c.name for c in getattr(item, "columns", [])]
        if renames is not None:
            cols = [_new_column(renames, new_name, table, c) for c in cols]
        out[str(item.name)] = (item, _signature(item, cols, to_new))
    return out


def _new_column(renames: Renames, table: str, old: sa.Table, column: str) -> str:
    """The new name of ``old.column`` (renames are stored new -> old)."""
    for (t, new), was in renames.columns.items():
        if t == table and was == column:
            return new
    return column


def _drop_extras(
    old: sa.Table, new: sa.Table, to_new: dict[str, str], renames: Renames, d: Diff
) -> None:
    before = _keyed(old, to_new, renames, new.name)
    after = _keyed(new, to_new, None, new.name)
    batch: list[ops.MigrateOperation] = []
    for name, (item, sig) in sorted(before.items()):
        if name in after and after[name][1] == sig:
            continue
        d.summary.append(f"drop {_kind(item)} {name}")
        cols = [_new_column(renames, new.name, old, c.name) for c in _columns(item)]
        if _unique(item) and all(c in new.columns for c in cols):  # back in the downgrade
            d.ops.append(DataCheckOp(None, check_call("require_unique", new.name, cols, name)))
        if (check := _check_sql(item, new, renames, new)) is not None:
            d.ops.append(DataCheckOp(None, check_call("require_check", new.name, name, *check)))
        if isinstance(item, sa.Index):
            d.ops.append(ops.DropIndexOp.from_index(item))
        else:
            pattern = pattern_ops(item, old.name)
            batch.append(pattern[1] if pattern else ops.DropConstraintOp.from_constraint(item))
    if batch:
        d.ops.append(ops.ModifyTableOps(old.name, batch))


def _create_extras(
    old: sa.Table, new: sa.Table, to_new: dict[str, str], renames: Renames, d: Diff
) -> None:
    before = _keyed(old, to_new, renames, new.name)
    batch: list[ops.MigrateOperation] = []
    for name, (item, sig) in sorted(_keyed(new, to_new, None, new.name).items()):
        if name in before and before[name][1] == sig:
            continue
        d.summary.append(f"create {_kind(item)} {name}")
        cols = [renames.old_column(new.name, c.name) for c in _columns(item)]
        if _unique(item) and all(c in old.columns for c in cols):  # checked before any change
            d.ops.append(DataCheckOp(check_call("require_unique", old.name, cols, name)))
        if (check := _check_sql(item, new, renames, old)) is not None:
            d.ops.append(DataCheckOp(check_call("require_check", old.name, name, *check)))
        if isinstance(item, sa.Index):
            d.ops.append(ops.CreateIndexOp.from_index(item))
        else:
            pattern = pattern_ops(item, new.name)
            batch.append(pattern[0] if pattern else ops.AddConstraintOp.from_constraint(item))
    if batch:
        d.ops.append(ops.ModifyTableOps(new.name, batch))


def _check_sql(
    item: Any, table: sa.Table, renames: Renames, present: sa.Table
) -> tuple[str, list[str]] | None:
    """The SQL and the columns of a plain CHECK constraint of ``table`` whose rows can be tested before the
    migration (or the downgrade), when ``present`` is the table: every column it names is
    there. Not for pattern CHECKs (each dialect compiles them) nor in a table with renamed
    columns (the text names the columns as they are after the migration)."""
    if not isinstance(item, sa.CheckConstraint) or pattern_ops(item, table.name) is not None:
        return None
    if any(t == table.name for t, _ in renames.columns):
        return None
    sql = str(item.sqltext)
    named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)) & set(table.columns.keys())
    return (sql, sorted(named)) if named and named <= set(present.columns.keys()) else None


def _columns(item: Any) -> list[sa.Column[Any]]:
    return list(getattr(item, "columns", []))


def _unique(item: Any) -> bool:
    return isinstance(item, sa.UniqueConstraint) or (isinstance(item, sa.Index) and item.unique)


def _kind(item: Any) -> str:
    if isinstance(item, sa.Index):
        return "unique index" if item.unique else "index"
    if isinstance(item, sa.ForeignKeyConstraint):
        return "foreign key"
    return "check constraint" if isinstance(item, sa.CheckConstraint) else "unique constraint"
