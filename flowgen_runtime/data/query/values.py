"""Coercing GraphQL argument values to the Python values a column compares against."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from flowgen_runtime.core.errors import UserInputError


def coerce(kind: str, value: Any, path: list[str | int]) -> Any:
    """``kind`` is the field's value type (``int``, ``uuid``, ``datetime`` ...)."""
    if value is None:
        return None
    if isinstance(value, str) and "\x00" in value:
        raise UserInputError([{"path": path, "message": "must not contain NUL characters"}])
    try:
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind == "uuid":
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        if kind == "float":
            return float(value)
        if kind == "decimal":
            return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        if kind == "datetime":
            return utc(
                value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            )
        if kind == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except (TypeError, ValueError, decimal.InvalidOperation):
        raise UserInputError(
            [{"path": path, "message": f"not a valid {kind}: {value!r}"}]
        ) from None
    return value


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive datetime is UTC already (SQLite hands those back).

    Every datetime is written and compared in UTC: SQLite keeps only the wall time, so
    ``12:00+02:00`` stored as is would read back as ``12:00`` UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def to_json(value: Any) -> Any:
    """A column value as JSON (for cursors)."""
    if isinstance(value, dt.datetime):
        return utc(value).isoformat()
    if isinstance(value, dt.date | uuid.UUID | decimal.Decimal):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


_FROM_JSON = {"uuid", "decimal", "datetime", "date"}


def from_json(kind: str, value: Any) -> Any:
    """The inverse of :func:`to_json` for a value of field type ``kind`` (a cached row)."""
    if value is None or kind not in _FROM_JSON:
        return value
    return coerce(kind, value, [])
