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
