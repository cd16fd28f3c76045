"""Custom GraphQL scalars shared by every generated schema."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from ariadne import ScalarType
from flowgen_runtime.data.query.values import check_datetime, check_decimal

datetime_scalar = ScalarType("DateTime")
date_scalar = ScalarType("Date")
decimal_scalar = ScalarType("Decimal")
json_scalar = ScalarType("JSON")
uuid_scalar = ScalarType("UUID")


@datetime_scalar.serializer
def _serialize_datetime(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite hands back naive UTC timestamps
        value = value.replace(tzinfo=dt.UTC)
    return str(value.isoformat())


@datetime_scalar.value_parser
def _parse_datetime(value: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            f"invalid DateTime {_shown(value)}: use ISO-8601, e.g. 2026-01-31T09:30:00Z"
        ) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    try:
        return check_datetime(parsed)
    except ValueError:
        raise ValueError(f"DateTime {_shown(value)} is out of range") from None


@date_scalar.serializer
def _serialize_date(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


@date_scalar.value_parser
def _parse_date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"invalid Date {value!r}: use YYYY-MM-DD") from None


@decimal_scalar.serializer
def _serialize_decimal(value: Any) -> str:
    return str(value)


@decimal_scalar.value_parser
def _parse_decimal(value: Any) -> decimal.Decimal:
    try:
        return check_decimal(decimal.Decimal(str(value)))
    except (decimal.InvalidOperation, ValueError):
        raise ValueError(f"invalid or out-of-range Decimal {_shown(value)}") from None


@json_scalar.serializer
def _serialize_json(value: Any) -> Any:
    return value


JSON_DEPTH = 64
"""Deepest nesting of a JSON value (deeper ones cannot be stored or cached)."""


@json_scalar.value_parser
def _parse_json(value: Any) -> Any:
    _check_depth(value)
    return value


@json_scalar.literal_parser
def _parse_json_literal(ast: Any, variables: Any = None) -> Any:
    from graphql import value_from_ast_untyped

    return _parse_json(value_from_ast_untyped(ast, variables))


def _check_depth(value: Any) -> None:
    """ValueError if ``value`` nests deeper than :data:`JSON_DEPTH` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > JSON_DEPTH:
                raise ValueError(f"JSON nested deeper than {JSON_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@uuid_scalar.serializer
def _serialize_uuid(value: Any) -> str:
    return str(value)


@uuid_scalar.value_parser
def _parse_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"invalid UUID {_shown(value)}") from None


SCALARS = [datetime_scalar, date_scalar, decimal_scalar, json_scalar, uuid_scalar]
