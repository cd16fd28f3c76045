"""Write-once Alembic revisions from the difference of two schema snapshots.

The operations are Alembic's own ops objects (``CreateTableOp``, ``AddColumnOp`` ...),
rendered with Alembic's public ``render_python_code``; downgrades come from ``reverse()``.
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


class UnsupportedChange(Exception):
    """A schema change this version cannot migrate automatically (listed one per line)."""


@dataclass(frozen=True)
class Revision:
    id: str
    down: str | None
    message: str
    path: str
    text: str


def revision_id(number: int, snap: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(snap, sort_keys=True).encode()).hexdigest()[:10]
    return f"{number:04d}_{digest}"


def diff_ops(
    old: dict[str, Any] | None, new: dict[str, Any], metadata: sa.MetaData
) -> tuple[list[ops.MigrateOperation], list[str]]:
    """Upgrade operations from ``old`` to ``new`` and a human summary of each change."""
    old_tables = (old or {}).get("tables", {})
    upgrade: list[ops.MigrateOperation] = []
    summary: list[str] = []
    problems: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in old_tables:
            upgrade.append(ops.CreateTableOp.from_table(table))
            upgrade += [ops.CreateIndexOp.from_index(i) for i in _sorted_indexes(table)]
            summary.append(f"create table {table.name}")
        else:
            _diff_table(
                table, old_tables[table.name], new["tables"][table.name], upgrade, summary, problems
            )
    problems += [
        f"{n}: dropping a table is not supported yet" for n in old_tables if n not in new["tables"]
    ]
    if problems:
        raise UnsupportedChange("\n".join(problems))
    return upgrade, summary


def _sorted_indexes(table: sa.Table) -> list[sa.Index]:
    return sorted(table.indexes, key=lambda i: str(i.name))


def _diff_table(
    table: sa.Table, before: dict[str, Any], after: dict[str, Any],
    upgrade: list[ops.MigrateOperation], summary: list[str], problems: list[str],
) -> None:  # fmt: skip
    added = [c for c in after["columns"] if c not in before["columns"]]
    for name in added:
        col = table.columns[name]
        if not col.nullable and col.server_default is None:
            problems.append(
                f"{table.name}.{name}: a new NOT NULL column needs a default for existing rows"
            )
        upgrade.append(ops.AddColumnOp.from_column_and_tablename(None, table.name, col._copy()))
        summary.append(f"add column {table.name}.{name}")
    for name, spec in before["columns"].items():
        if name not in after["columns"]:
            problems.append(f"{table.name}.{name}: dropping a column is not supported yet")
        elif after["columns"][name] != spec:
            problems.append(f"{table.name}.{name}: changing a column is not supported yet")
    new_indexes = set(after["indexes"]) - set(before["indexes"])
    for index in _sorted_indexes(table):
        key = f"{index.name}:{','.join(c.name for c in index.columns)}:{bool(index.unique)}"
        if key in new_indexes:
            upgrade.append(ops.CreateIndexOp.from_index(index))
            summary.append(f"create index {index.name}")
    removed = set(before["constraints"]) - set(after["constraints"])
    unexplained = set(after["constraints"]) - set(before["constraints"]) - _implied(added, table)
    if removed or unexplained:
        problems.append(f"{table.name}: changing constraints is not supported yet")


def _implied(added: list[str], table: sa.Table) -> set[str]:
    names = set()
    for c in table.constraints:
        cols = {col.name for col in getattr(c, "columns", [])}
        if cols and cols <= set(added) and c.name is not None:
            names.add(str(c.name))
    return names


def _enum_drops(upgrade: list[ops.MigrateOperation]) -> list[str]:
    names = []
    for op in upgrade:
        cols = op.columns if isinstance(op, ops.CreateTableOp) else []
        for col in cols:
            if isinstance(col, sa.Column) and isinstance(col.type, sa.Enum) and col.type.name:
                names.append(col.type.name)
    return sorted(set(names))


def render_revision(
    number: int,
    down: str | None,
    snap: dict[str, Any],
    upgrade: list[ops.MigrateOperation],
    summary: list[str],
) -> Revision:
    rev = revision_id(number, snap)
    up_ops = ops.UpgradeOps(ops=list(upgrade))
    down_ops = up_ops.reverse()
    up_code = _body(render_python_code(up_ops, render_as_batch=True, **_no_prefix()))
    down_code = _body(render_python_code(down_ops, render_as_batch=True, **_no_prefix()))
    drops = _enum_drops(upgrade)
    if drops:
        down_code += "\n" + "\n".join(
            f"sa.Enum(name={n!r}).drop(op.get_bind(), checkfirst=True)" for n in drops
        )
    message = "initial schema" if number == 1 else "; ".join(summary)[:200]
    text = _TEMPLATE.format(
        version=__version__,
        message=message,
        rev=rev,
        down=repr(down),
        summary="\n".join(f"- {s}" for s in summary),
        upgrade=_indent(up_code),
        downgrade=_indent(down_code),
    )
    return Revision(rev, down, message, f"migrations/versions/{rev}.py", text)


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

revision: str = "{rev}"
down_revision: str | None = {down}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''
