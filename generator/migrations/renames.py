"""Renames declared in the spec (``renamed_from``), resolved to table and column names.

An entity's ``renamed_from`` names the *entity* it used to be; the previous build's models
say which table that entity had. A field's ``renamed_from`` names its previous column (a
``belongs_to`` relation renamed from ``owner`` gives its key column ``renamed_from="owner_id"``).
Renames are only honoured when the old name really exists in the previous schema and the
new one does not, so a rename left in the spec after it was migrated is harmless.

>>> r = Renames(tables={"people": "users"}, columns={("people", "full_name"): "name"})
>>> r.old_table("people"), r.old_column("people", "full_name"), r.old_column("people", "id")
('users', 'name', 'id')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from ..model import App


@dataclass(frozen=True)
class Renames:
    tables: dict[str, str] = field(default_factory=dict)  # new table -> old table
    columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (new table, new) -> old

    def old_table(self, new: str) -> str:
        return self.tables.get(new, new)

    def old_column(self, table: str, new: str) -> str:
        return self.columns.get((table, new), new)


def resolve_renames(
    app: App | None, old: sa.MetaData | None, old_classes: dict[str, str]
) -> Renames:
    """The renames of ``app`` that apply to the ``old`` metadata (the previous build)."""
    if app is None or old is None:
        return Renames()
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for entity in app.entities:
        old_name = old_classes.get(entity.renamed_from or "")
        if old_name and old_name in old.tables and entity.table not in old.tables:
            tables[entity.table] = old_name
        old_table = old.tables.get(tables.get(entity.table, entity.table))
        if old_table is None:
            continue
        for f in entity.fields:
            before = f.renamed_from
            if before and before in old_table.columns and f.column not in old_table.columns:
                columns[(entity.table, f.column)] = before
    return Renames(tables, columns)


def follow_renamed_targets(old: sa.MetaData, new: sa.MetaData, renames: Renames) -> Renames:
    """``renames`` plus what follows from a renamed table in the tables that point at it.

    A join table's key column is named after the entity (``station_id``), and a join table
    without ``through`` after the table (``stations_lines``): renaming ``Station`` to ``Stop``
    renames them too. A new table with no old one of its name is the rename of an old table
    gone from the new schema whose columns point at the same tables (renamed ones mapped);
    a new column is the rename of the one old column pointing at the old name of its target.
    """
    if not renames.tables:
        return renames
    to_new = {o: n for n, o in renames.tables.items()}
    tables, columns = dict(renames.tables), dict(renames.columns)
    gone = [t for t in old.tables.values() if t.name not in new.tables and t.name not in to_new]
    for table in new.sorted_tables:
        refs = _targets(table, {})
        if not any(t in renames.tables for t in refs):
            continue
        before = old.tables.get(tables.get(table.name, table.name))
        if before is None:
            same = [o for o in gone if _targets(o, to_new) == refs]
            if len(same) != 1:
                continue
            before = same[0]
            gone.remove(before)
            tables[table.name] = before.name
        for col in table.columns:
            if col.name in before.columns or (table.name, col.name) in columns:
                continue
            target = renames.old_table(_target(col) or "")
            was = [
                c.name
                for c in before.columns
                if _target(c) == target and c.name not in table.columns
            ]
            if len(was) == 1 and target != _target(col):
                columns[(table.name, col.name)] = was[0]
    return Renames(tables, columns)


def _target(col: sa.Column[object]) -> str | None:
    fks = list(col.foreign_keys)
    return fks[0].column.table.name if len(fks) == 1 else None


def _targets(table: sa.Table, to_new: dict[str, str]) -> list[str]:
    return sorted(to_new.get(t, t) for c in table.columns if (t := _target(c)) is not None)
