"""Base class of generated input and payload models."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class InputModel(BaseModel):
    """Strict about unknown keys; Python regexes so spec patterns behave as documented.

    Optional inputs are typed ``T | None`` with a ``None`` default that is never validated,
    so leaving a field out is fine; an explicit ``null`` for a field listed in
    ``_non_nullable`` is refused with an error on that field. Datetimes are written in UTC
    (a naive one is taken as UTC): SQLite would keep only the wall time of another offset.
    """

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")
    _non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls._non_nullable:
            raise ValueError("cannot be null")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")  # PostgreSQL cannot store them
        if isinstance(value, dt.datetime):
            return (
                value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
            )
        return value
