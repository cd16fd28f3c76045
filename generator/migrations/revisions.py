"""Write-once Alembic revisions from the difference of two schema snapshots.

The operations (see :mod:`.diff`) are Alembic's own ops objects plus a few of ours
(:mod:`.customops`), rendered with Alembic's public ``render_python_code``; downgrades come
from each op's ``reverse()``. PostgreSQL enum types are created before an ``add_column``
needs them and dropped once no column uses them (Alembic does neither by itself).
Revision ids are deterministic: ``NNNN_<hash of the new snapshot>``.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops

from .. import __version__
from .columns import Diff
from .customops import (
    CUSTOM_OPS,
    DataCheckOp,
    NoOp,
    RequireNoNullsOp,
    render_checks,
    render_item,
)


class UnsupportedChange(Exception):
    """A schema change this version cannot migrate automatically (listed one per line)."""


class DestructiveChange(Exception):
    """Changes that lose data, refused without ``--allow-destructive`` (one per line)."""


@dataclass(frozen=True)
class Revision:
    id: str
    down: str | None
    message: str
    path: str
    text: str


def revision_id(number: int, snap: dict[str, Any]) -> str:
    """``NNNN_<hash>``: the hash covers the tables only, so the same schema gives the same id."""
    tables = {"tables": snap["tables"]}
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:10]
    return f"{number:04d}_{digest}"


def reverse_ops(upgrade: list[ops.MigrateOperation]) -> list[ops.MigrateOperation]:
    """The downgrade: the upgrade backwards, each op reversed (data checks dropped)."""
    out: list[ops.MigrateOperation] = []
    for op in reversed(upgrade):
        if not isinstance(op, NoOp):
            rev = _reverse(op)
            if not isinstance(rev, NoOp):
                out.append(rev)
    return out


def _reverse(op: ops.MigrateOperation) -> ops.MigrateOperation:
    """``op.reverse()``, without the full copy of the table (columns, constraints) that
    Alembic makes to reverse a create: a drop renders from its names alone, and the copies
    were half the time of a first revision with hundreds of tables."""
    if isinstance(op, ops.CreateTableOp):
        table_kw = {
            "comment": op.comment,
            "info": dict(op.info or {}),
            "prefixes": op.prefixes or [],
        }
        return ops.DropTableOp(
            op.table_name, schema=op.schema, table_kw={**table_kw, **op.kw}, _reverse=op
        )
    if isinstance(op, ops.CreateIndexOp) and op.index_name is not None:
        return ops.DropIndexOp(
            op.index_name,
            table_name=op.table_name,
            schema=op.schema,
            _reverse=op,
            unique=op.unique,
            **op.kw,
        )
    if isinstance(op, ops.ModifyTableOps):
        return _without_noops(op.reverse())
    return op.reverse()


def _without_noops(op: ops.MigrateOperation) -> ops.MigrateOperation:
    """A batch without the ops that do nothing in this direction (NoOp for an empty one)."""
    if not isinstance(op, ops.ModifyTableOps):
        return op
    kept = [o for o in op.ops if not isinstance(o, NoOp)]
    return ops.ModifyTableOps(op.table_name, kept, schema=op.schema) if kept else NoOp()


def enum_types(metadata: sa.MetaData | None) -> dict[str, tuple[str, ...]]:
    """``{enum type name: values}`` of every named Enum column."""
    found: dict[str, tuple[str, ...]] = {}
    for table in metadata.sorted_tables if metadata is not None else []:
        for col in table.columns:
            if isinstance(col.type, sa.Enum) and col.type.name:
                found[str(col.type.name)] = tuple(col.type.enums)
    return found


def _enum_lines(create: dict[str, tuple[str, ...]], drop: list[str]) -> tuple[list[str], list[str]]:
    before = [
        f"sa.Enum({', '.join(map(repr, values))}, name={name!r})"
        ".create(op.get_bind(), checkfirst=True)"
        for name, values in sorted(create.items())
    ]
    after = [f"sa.Enum(name={n!r}).drop(op.get_bind(), checkfirst=True)" for n in sorted(drop)]
    return before, after


def _code(op_list: list[ops.MigrateOperation], before: list[str], after: list[str]) -> str:
    before = render_checks(op_list) + before
    op_list = [
        kept
        for op in op_list
        if not isinstance(op, RequireNoNullsOp | DataCheckOp)
        and not isinstance(kept := _without_noops(op), NoOp)
    ]
    code = _body(
        render_python_code(
            ops.UpgradeOps(ops=op_list),
            render_as_batch=True,
            render_item=render_item,
            **_no_prefix(),
        )
    )
    if before:
        code = "\n".join(before) + "\n" + code
    if after:
        code += "\n" + "\n".join(after)
    return code


def render_revision(
    number: int,
    down: str | None,
    snap: dict[str, Any],
    diff: Diff,
    enums: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]],
) -> Revision:
    """The revision file for ``diff``; ``enums`` = the enum types before and after."""
    rev = revision_id(number, snap)
    old_enums, new_enums = enums
    up_create = {n: v for n, v in diff.enums_up.items() if n not in old_enums}
    down_create = {n: v for n, v in diff.enums_down.items() if n not in new_enums}
    up_code = _code(diff.ops, *_enum_lines(up_create, [n for n in old_enums if n not in new_enums]))
    down_code = _code(
        reverse_ops(diff.ops),
        *_enum_lines(down_create, [n for n in new_enums if n not in old_enums]),
    )
    summary = diff.summary
    message = "initial schema" if number == 1 else _message(summary)
    uses_fg = any(isinstance(op, CUSTOM_OPS) for op in diff.ops) or "fg." in up_code + down_code
    text = _TEMPLATE.format(
        version=__version__,
        message=message,
        rev=rev,
        down=repr(down),
        summary="\n".join(f"- {s}" for s in summary),
        fg="from flowgen_runtime import migrate as fg\n" if uses_fg else "",
        upgrade=_indent(up_code),
        downgrade=_indent(down_code),
    )
    return Revision(rev, down, message, f"migrations/versions/{rev}.py", text)


def _message(summary: list[str]) -> str:
    text = "; ".join(summary)
    return text if len(text) <= 72 else f"{summary[0]} and {len(summary) - 1} more change(s)"


def _no_prefix() -> dict[str, Any]:
    return {"sqlalchemy_module_prefix": "sa.", "alembic_module_prefix": "op."}


def _body(code: str) -> str:
    """Alembic's rendered code without its banner comments, dedented."""
    lines = [
        line.rstrip()
        for line in code.splitlines()
        if "### end Alembic commands" not in line and "commands auto generated" not in line
    ]
    return textwrap.dedent("\n".join(lines)).strip()


def _indent(code: str) -> str:
    return textwrap.indent(code, "    ") or "    pass"


_TEMPLATE = '''"""{message}

Written once by flowgen {version} (`gen build`); from now on this file is yours to edit.

Changes:
{summary}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql
{fg}
revision: str = "{rev}"
down_revision: str | None = {down}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''
