"""SQL the generated models need that SQLAlchemy does not portably express.

``pattern_match("slug", "^[a-z0-9-]+$")`` is a boolean expression for CHECK constraints: a
POSIX regular-expression match ``~`` on PostgreSQL and ``REGEXP`` on SQLite (SQLAlchemy's
SQLite drivers register the ``regexp`` function on every connection). With it the spec's
``pattern`` is enforced by the database itself, not only by the API.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement


class PatternMatch(ColumnElement[bool]):
    inherit_cache = True
    type = sa.Boolean()

    def __init__(self, column: str, pattern: str) -> None:
        self.column = column
        self.pattern = pattern


def pattern_match(column: str, pattern: str) -> PatternMatch:
    return PatternMatch(column, pattern)


def _parts(element: PatternMatch, compiler: Any) -> tuple[str, str]:
    column = compiler.preparer.quote(element.column)
    literal = "'" + element.pattern.replace("'", "''") + "'"
    return column, literal


@compiles(PatternMatch)
def _posix(element: PatternMatch, compiler: Any, **_kw: Any) -> str:
    column, literal = _parts(element, compiler)
    return f"{column} ~ {literal}"


@compiles(PatternMatch, "sqlite")
def _sqlite(element: PatternMatch, compiler: Any, **_kw: Any) -> str:
    column, literal = _parts(element, compiler)
    return f"{column} REGEXP {literal}"
