"""Custom GraphQL scalars shared by every generated schema."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from ariadne import ScalarType

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
            f"invalid DateTime {value!r}: use ISO-8601, e.g. 2026-01-31T09:30:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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
        result = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise ValueError(f"invalid Decimal {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"invalid Decimal {value!r}")
    return result


@json_scalar.serializer
def _serialize_json(value: Any) -> Any:
    return value


@json_scalar.value_parser
def _parse_json(value: Any) -> Any:
    return value


@json_scalar.literal_parser
def _parse_json_literal(ast: Any, variables: Any = None) -> Any:
    from graphql import value_from_ast_untyped

    return value_from_ast_untyped(ast, variables)


@uuid_scalar.serializer
def _serialize_uuid(value: Any) -> str:
    return str(value)


@uuid_scalar.value_parser
def _parse_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"invalid UUID {value!r}") from None


SCALARS = [datetime_scalar, date_scalar, decimal_scalar, json_scalar, uuid_scalar]
