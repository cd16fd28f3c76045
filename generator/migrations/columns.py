"""Column changes of a table that exists before and after: add, drop, rename, alter.

Pure functions over two ``sa.Table`` objects; they append Alembic ops to a :class:`Diff`.
Every change that can lose data is recorded in ``Diff.destructive`` with what it loses.

>>> widening("VARCHAR(80)", "VARCHAR(200)"), widening("VARCHAR(200)", "VARCHAR(80)")
(True, False)
>>> widening("INTEGER", "BIGINT"), widening("NUMERIC(10, 2)", "NUMERIC(12, 2)")
(True, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from .customops import (
    AlterColumnOp,
    AlterEnumOp,
    DataCheckOp,
    EnumCheckOp,
    FillNullsOp,
    RenameEnumOp,
    RequireNoNullsOp,
    UndoOnly,
    check_call,
)
from .renames import Renames
from .snapshot import column_default, type_sql


@dataclass
class Diff:
    """Ordered upgrade ops, a summary line per change, and the destructive changes."""

    ops: list[ops.MigrateOperation] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    enums_up: dict[str, tuple[str, ...]] = field(default_factory=dict)  # create before upgrade
    enums_down: dict[str, tuple[str, ...]] = field(default_factory=dict)  # before downgrade


@dataclass
class _TableOps:
    pre: list[ops.MigrateOperation] = field(default_factory=list)
    early: list[ops.MigrateOperation] = field(default_factory=list)
    batch: list[ops.MigrateOperation] = field(default_factory=list)
    late: list[ops.MigrateOperation] = field(default_factory=list)
    post: list[ops.MigrateOperation] = field(default_factory=list)


_WIDER = {
    ("SMALLINT", "INTEGER"), ("SMALLINT", "BIGINT"), ("INTEGER", "BIGINT"),
    ("INTEGER", "FLOAT"), ("REAL", "FLOAT"), ("VARCHAR", "TEXT"), ("DATE", "TIMESTAMP"),
}  # fmt: skip
_INT_DIGITS = {"SMALLINT": 5, "INTEGER": 10, "BIGINT": 19}  # digits of the largest value
_INTS = set(_INT_DIGITS)
_TEXTS = {"VARCHAR", "TEXT"}
_NUMBERS = {*_INTS, "NUMERIC", "FLOAT", "REAL"}
_SQL = re.compile(r"^([A-Z ]+?)\s*(?:\(([\d, ]+)\))?(?: WITH(?:OUT)? TIME ZONE)?$")


def _parse(sql: str) -> tuple[str, list[int]] | None:
    m = _SQL.match(sql)
    if not m:
        return None
    kind, args = m.groups()
    return kind, [int(x) for x in (args or "").replace(" ", "").split(",") if x]


def widening(old: str, new: str) -> bool:
    """Whether every value of SQL type ``old`` fits type ``new`` unchanged.

    >>> widening("INTEGER", "VARCHAR(11)"), widening("INTEGER", "VARCHAR(5)")
    (True, False)
    >>> widening("INTEGER", "NUMERIC(12, 2)"), widening("INTEGER", "NUMERIC(8, 2)")
    (True, False)
    """
    a, b = _parse(old), _parse(new)
    if not a or not b:
        return False
    (ka, na), (kb, nb) = a, b
    if ka in _INTS and kb in _TEXTS:  # the longest value is the minimum, with its sign
        return not nb or nb[0] >= _INT_DIGITS[ka] + 1
    if ka in _INTS and kb == "NUMERIC":
        return not nb or nb[0] - (nb[1] if len(nb) > 1 else 0) >= _INT_DIGITS[ka]
    if ka != kb:
        return (ka, kb) in _WIDER
    if ka == "NUMERIC" and len(na) == 2 and len(nb) == 2:
        return nb[1] >= na[1] and nb[0] - nb[1] >= na[0] - na[1]
    return not nb or (bool(na) and all(y >= x for x, y in zip(na, nb, strict=False)))


def fit_check(old: str, new: str, table: str, column: str) -> str | None:
    """The data check (a rendered ``fg.require_*`` call) that refuses the change of
    ``table.column`` from SQL type ``old`` to ``new`` while a value would not fit, or None.

    >>> fit_check("VARCHAR(80)", "VARCHAR(20)", "users", "name")
    "fg.require_max_length('users', 'name', 20)"
    >>> fit_check("INTEGER", "NUMERIC(8, 2)", "items", "n")
    "fg.require_numeric_range('items', 'n', 8, 2)"
    """
    a, b = _parse(old), _parse(new)
    if not a or not b or widening(old, new):
        return None
    (ka, _), (kb, nb) = a, b
    if kb == "VARCHAR" and nb and (ka in _TEXTS or ka in _NUMBERS):
        return check_call("require_max_length", table, column, nb[0])
    if kb == "NUMERIC" and len(nb) == 2 and ka in _NUMBERS:
        return check_call("require_numeric_range", table, column, nb[0], nb[1])
    if kb in _INTS and ka in _TEXTS:
        return check_call("require_integers", table, column)
    return None


def plain_column(col: sa.Column[Any], *, nullable: bool | None = None) -> sa.Column[Any]:
    """A copy of ``col`` without foreign keys or indexes (they get their own ops)."""
    return sa.Column(
        col.name,
        col.type,
        nullable=col.nullable if nullable is None else nullable,
        server_default=col.server_default,
        comment=col.comment,
    )


def _enum(col: sa.Column[Any]) -> sa.Enum | None:
    return col.type if isinstance(col.type, sa.Enum) and col.type.name else None


def diff_columns(old: sa.Table, new: sa.Table, renames: Renames, d: Diff) -> None:
    """Append the column ops turning ``old`` into ``new`` (already renamed) to ``d``."""
    t = _TableOps()
    mapped = set()
    for col in new.columns:
        before = renames.old_column(new.name, col.name)
        if before in old.columns:
            mapped.add(before)
            _alter(old.columns[before], col, (old.name, new.name), t, d)
        else:
            _add(col, (old.name, new.name), t, d)
    for col in old.columns:
        if col.name not in mapped:
            t.batch.append(
                ops.DropColumnOp.from_column_and_tablename(None, new.name, plain_column(col))
            )
            d.summary.append(f"drop column {new.name}.{col.name}")
            d.destructive.append(
                f"drop column {new.name}.{col.name}: its value in every row is lost"
            )
            if (e := _enum(col)) is not None:
                d.enums_down[str(e.name)] = tuple(e.enums)
                t.batch.append(EnumCheckOp(_enum_check(old.name, col, e), None, reversible=False))
    d.ops += t.pre
    if t.early:
        d.ops.append(ops.ModifyTableOps(new.name, t.early))
    if t.batch:
        d.ops.append(ops.ModifyTableOps(new.name, t.batch))
    if t.late:
        d.ops.append(ops.ModifyTableOps(new.name, t.late))
    d.ops += t.post


def _add(col: sa.Column[Any], tables: tuple[str, str], t: _TableOps, d: Diff) -> None:
    """Add ``col`` to the table (``tables``: its old and new names)."""
    was, table = tables
    d.summary.append(f"add column {table}.{col.name}")
    if (e := _enum(col)) is not None:
        d.enums_up[str(e.name)] = tuple(e.enums)
        check = _enum_check(table, col, e)
        t.batch.append(UndoOnly(EnumCheckOp(check, None, reversible=False)))
    if col.nullable or col.server_default is not None:
        t.batch.append(ops.AddColumnOp(table, plain_column(col)))
        return
    d.destructive.append(
        f"add NOT NULL column {table}.{col.name} without a default: existing rows have no "
        "value for it, so the migration stops if the table is not empty"
    )
    t.batch.append(ops.AddColumnOp(table, plain_column(col, nullable=True)))
    reason = f"the new column {col.name} is NOT NULL without a default"
    t.pre.append(RequireNoNullsOp(was, col.name, reason, new_column=True))
    t.late.append(
        AlterColumnOp(
            table, col.name, existing_type=col.type, existing_nullable=True, modify_nullable=False
        )
    )


def _alter(
    old: sa.Column[Any], new: sa.Column[Any], tables: tuple[str, str], t: _TableOps, d: Diff
) -> None:
    """Turn column ``old`` into ``new`` (``tables``: the table's old and new names)."""
    was, table = tables
    where = f"{table}.{new.name}"
    kw: dict[str, Any] = {}
    if old.name != new.name:
        kw["modify_name"] = new.name
        d.summary.append(f"rename column {table}.{old.name} to {new.name}")
    _alter_type(old, new, tables, kw, t, d)
    if column_default(old) != column_default(new):
        kw["modify_server_default"] = new.server_default
        d.summary.append(f"change default of {where} to {column_default(new)}")
    if old.nullable != new.nullable:
        kw["modify_nullable"] = new.nullable
        d.summary.append(f"make {where} {'NULL' if new.nullable else 'NOT NULL'}")
        if not new.nullable:
            _fill_or_require(old, new, tables, t, d)
    if (old.comment or None) != (new.comment or None):
        kw["modify_comment"] = new.comment
        d.summary.append(f"change comment of {where}")
    if not kw:
        return
    using_back = kw.pop("using_back", None)
    existing_default = old.server_default
    if "postgresql_using" in kw:
        existing_default = _default_around_cast(old, new, tables, kw, t)
    alter = AlterColumnOp(
        table,
        old.name,
        existing_type=old.type,
        existing_server_default=existing_default,
        existing_nullable=old.nullable,
        existing_comment=old.comment,
        **kw,
    )
    alter.using_back = using_back
    t.batch.append(alter)


def _default_around_cast(
    old: sa.Column[Any], new: sa.Column[Any], tables: tuple[str, str],
    kw: dict[str, Any], t: _TableOps,
) -> Any:  # fmt: skip
    """A cast to another kind of type: PostgreSQL cannot cast a default such as ``'0'`` to
    an integer, and keeps ``'x'::character varying`` on a TEXT column. So the old default is
    dropped before (a batch of its own), and the new one set after; both ways."""
    _was, table = tables
    kw.pop("modify_server_default", None)
    if old.server_default is not None:
        t.early.append(
            AlterColumnOp(
                table, old.name, existing_type=old.type, existing_nullable=old.nullable,
                existing_server_default=old.server_default, modify_server_default=None,
            )
        )  # fmt: skip
    if new.server_default is not None:
        t.late.append(
            AlterColumnOp(
                table, new.name, existing_type=new.type, existing_nullable=new.nullable,
                existing_server_default=None, modify_server_default=new.server_default,
            )
        )  # fmt: skip
    return None


def _fill_or_require(
    old: sa.Column[Any], new: sa.Column[Any], tables: tuple[str, str], t: _TableOps, d: Diff
) -> None:
    was, table = tables
    default = column_default(new)
    if default is not None:
        t.pre.append(FillNullsOp(table, old.name, default))
        return
    t.pre.append(RequireNoNullsOp(was, old.name, f"{new.name} becomes NOT NULL"))
    d.destructive.append(
        f"make {table}.{new.name} NOT NULL without a default: rows holding NULL have no value "
        "to take, so the migration stops if there are any"
    )


def _alter_type(
    old: sa.Column[Any], new: sa.Column[Any], tables: tuple[str, str],
    kw: dict[str, Any], t: _TableOps, d: Diff,
) -> None:  # fmt: skip
    was, table = tables
    eo, en = _enum(old), _enum(new)
    where = f"{table}.{new.name}"
    if eo is not None and en is not None:
        checks = _enum_check(was, old, eo), _enum_check(table, new, en, eo.enums)
        if checks[0] != checks[1]:
            t.batch.append(EnumCheckOp(*checks))
        if eo.name != en.name:
            t.pre.append(RenameEnumOp(str(eo.name), str(en.name)))
            d.summary.append(f"rename enum type {eo.name} to {en.name}")
        if list(eo.enums) != list(en.enums):
            t.post.append(
                AlterEnumOp(
                    table, new.name, str(en.name), tuple(eo.enums), tuple(en.enums),
                    column_default(old), column_default(new),
                )
            )  # fmt: skip
            d.summary.append(f"change values of enum {where}: {', '.join(en.enums)}")
            removed = [v for v in eo.enums if v not in en.enums]
            if removed:
                d.destructive.append(
                    f"remove value(s) {', '.join(removed)} from enum {where}: the migration "
                    "stops if any row still uses them"
                )
        return
    before, after = type_sql(old), type_sql(new)
    if before == after:
        return
    kw["modify_type"] = new.type
    d.summary.append(f"change type of {where} from {before} to {after}")
    if _kind(before) != _kind(after):  # PostgreSQL casts only some types by itself
        kw["postgresql_using"] = f"{_quote(old.name)}::{after}"
        kw["using_back"] = f"{_quote(new.name)}::{before}"
    up = fit_check(before, after, was, old.name)
    down = fit_check(after, before, table, new.name)
    if up or down:
        t.pre.append(DataCheckOp(up, down))
    if widening(before, after):
        return
    d.destructive.append(
        f"change type of {where} from {before} to {after}: {_loss(before, after, up)}"
    )


def _loss(before: str, after: str, check: str | None) -> str:
    """What a narrowing type change does to the values that do not fit.

    >>> _loss("NUMERIC(10, 4)", "NUMERIC(10, 2)", "fg.require_numeric_range(...)")
    'values are rounded to 2 decimal places; the migration stops if a value does not fit'
    """
    a, b = _parse(before), _parse(after)
    fewer = bool(a and b and len(a[1]) == 2 and len(b[1]) == 2 and b[1][1] < a[1][1])
    rounded = f"values are rounded to {b[1][1]} decimal places; " if fewer and b else ""
    if check:
        return rounded + "the migration stops if a value does not fit"
    return rounded + "values that do not fit the new type are truncated or make the migration fail"


def _enum_check(
    table: str, col: sa.Column[Any], enum: sa.Enum, values: Any = None
) -> tuple[str, str]:
    """The name and SQL text of the CHECK an enum column has on SQLite."""
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values or enum.enums)
    return f"ck_{table}_{enum.name}", f"{col.name} IN ({listed})"


def _kind(sql: str) -> str:
    parsed = _parse(sql)
    return parsed[0] if parsed else sql


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'
