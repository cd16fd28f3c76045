"""``orderBy`` and opaque cursors for stable keyset pagination.

Every ordering ends with the primary key, so it is total and pages never overlap or skip
rows when others are inserted. A cursor encodes the ordering's field names and the row's
values for them: ``base64url(json({"o": [...], "v": [...]}))``; a cursor from another
ordering is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flowgen_runtime.core.errors import UserInputError
from flowgen_runtime.data.meta import EntityMeta
from flowgen_runtime.data.query.values import coerce, to_json
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause


@dataclass(frozen=True)
class Ordering:
    """Fields with directions (``True`` = descending), the primary key last."""

    keys: tuple[tuple[str, bool], ...]

    @classmethod
    def parse(cls, meta: EntityMeta, order_by: Sequence[Mapping[str, Any]] | None) -> Ordering:
        keys: list[tuple[str, bool]] = []
        for item in order_by or []:
            name = item["field"]
            if name not in meta.field_types or meta.field_types[name] == "json":
                raise UserInputError([{"path": ["orderBy"], "message": f"cannot order by {name}"}])
            if name not in (k for k, _ in keys):
                keys.append((name, item.get("direction", "asc") == "desc"))
        if meta.pk not in (k for k, _ in keys):
            keys.append((meta.pk, False))
        return cls(tuple(keys))

    def reversed(self) -> Ordering:
        return Ordering(tuple((k, not d) for k, d in self.keys))

    def clauses(self, table: FromClause) -> list[Any]:
        """ORDER BY clauses; NULLs sort last ascending and first descending everywhere."""
        out = []
        for name, desc in self.keys:
            col, _ = _sort_key(table, name)
            out.append(col.desc().nulls_first() if desc else col.asc().nulls_last())
        return out

    def encode(self, row: Mapping[str, Any]) -> str:
        return self.encode_values([to_json(row[k]) for k, _ in self.keys])

    def encode_values(self, values: Sequence[Any]) -> str:
        """The cursor of a row whose ordering values, as JSON values, are ``values``."""
        data = {"o": [f"{k}:{'d' if d else 'a'}" for k, d in self.keys], "v": list(values)}
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, meta: EntityMeta, cursor: str, arg: str) -> list[Any]:
        bad = UserInputError([{"path": [arg], "message": "invalid cursor"}])
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise bad from None
        expected = [f"{k}:{'d' if d else 'a'}" for k, d in self.keys]
        if (
            not isinstance(data, dict)
            or data.get("o") != expected
            or not isinstance(data.get("v"), list)
        ):
            raise UserInputError(
                [{"path": [arg], "message": "cursor does not belong to this orderBy"}]
            )
        if len(data["v"]) != len(self.keys):
            raise bad
        return [
            coerce(meta.field_types[k], v, [arg])
            for (k, _), v in zip(self.keys, data["v"], strict=True)
        ]

    def after(self, table: FromClause, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after ``values`` in this ordering (NULLs last ascending)."""
        ors: list[ColumnElement[bool]] = []
        keys = [_sort_key(table, name) for name, _ in self.keys]
        ranked = [rank(v) for (_, rank), v in zip(keys, values, strict=True)]
        for i, (_, desc) in enumerate(self.keys):
            equal = [_equal(keys[j][0], ranked[j]) for j in range(i)]
            ors.append(sa.and_(*equal, _beyond(keys[i][0], ranked[i], desc)))
        return sa.or_(*ors)


def _sort_key(table: FromClause, name: str) -> tuple[Any, Any]:
    """The expression to sort by and how to map a value onto it. Enums sort in declaration
    order on every database (PostgreSQL does so natively, SQLite would sort the text)."""
    col = table.c[name]
    if isinstance(col.type, sa.Enum):
        order = {v: i for i, v in enumerate(col.type.enums)}
        ranked = sa.case(*((col == v, i) for v, i in order.items()), else_=None)
        return ranked, lambda v: None if v is None else order.get(v, -1)
    if isinstance(col.type, sa.Boolean):  # `col > true` is refused: compare 0 and 1
        as_int = sa.case((col.is_(True), 1), (col.is_(False), 0), else_=None)
        return as_int, lambda v: None if v is None else int(bool(v))
    return col, lambda v: v


def _equal(col: Any, value: Any) -> ColumnElement[bool]:
    return col.is_(None) if value is None else col == value


def _beyond(col: Any, value: Any, desc: bool) -> ColumnElement[bool]:
    if desc:  # descending, NULLs first: after a NULL come values; after a value, smaller ones
        return col.isnot(None) if value is None else col < value
    if value is None:  # ascending, NULLs last: nothing comes after a NULL
        return sa.false()
    return sa.or_(col > value, col.is_(None))
