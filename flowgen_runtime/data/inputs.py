"""Base class of generated input and payload models."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from flowgen_runtime.data.query.values import check_int
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class InputModel(BaseModel):
    """Strict about unknown keys; Python regexes so spec patterns behave as documented.

    Optional inputs are typed ``T | None`` with a ``None`` default that is never validated,
    so leaving a field out is fine; an explicit ``null`` for a field listed in
    ``_non_nullable`` is refused with an error on that field. Datetimes are written in UTC
    (a naive one is taken as UTC): SQLite would keep only the wall time of another offset.
    """

    # a field whose name is not a Python attribute (``from``) is ``from_`` with the alias
    # ``from``: read and dumped under its spec name
    model_config = ConfigDict(extra="forbid", regex_engine="python-re", serialize_by_alias=True)
    _non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls._non_nullable:
            raise ValueError("cannot be null")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")  # PostgreSQL cannot store them
        if isinstance(value, int) and not isinstance(value, bool):
            check_int(value)  # ids, foreign keys and int fields are 32-bit columns
        if isinstance(value, dt.datetime):
            return (
                value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
            )
        return value
