"""Coercing GraphQL argument values to the Python values a column compares against."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from flowgen_runtime.core.errors import UserInputError

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""The range of ``int`` fields and integer ids (32-bit columns, as GraphQL's ``Int``)."""
DECIMAL_EXPONENT = 1000
"""Largest decimal exponent accepted (``1e999999`` would overflow every numeric type)."""


def check_int(value: int) -> int:
    """``value`` if a 32-bit column holds it, else a ValueError."""
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"out of range ({INT_MIN} to {INT_MAX})")
    return value


def check_datetime(value: dt.datetime) -> dt.datetime:
    """``value`` if it is a UTC instant Python (and the database) can represent."""
    if value.tzinfo is not None:
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("out of range") from None
    return value


def check_decimal(value: decimal.Decimal) -> decimal.Decimal:
    if not value.is_finite() or abs(value.adjusted()) > DECIMAL_EXPONENT:
        raise ValueError("out of range")
    return value


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
            return check_int(int(value))
        if kind == "uuid":
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        if kind == "float":
            return float(value)
        if kind == "decimal":
            return check_decimal(
                value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
            )
        if kind == "datetime":
            parsed = (
                value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            )
            return utc(check_datetime(parsed))
        if kind == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except (TypeError, ValueError, OverflowError, decimal.InvalidOperation):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise UserInputError([{"path": path, "message": f"not a valid {kind}: {shown}"}]) from None
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
