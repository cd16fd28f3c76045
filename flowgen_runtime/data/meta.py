"""What the runtime knows about an entity; generated service modules fill these in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel


@dataclass(frozen=True)
class RelationMeta:
    name: str
    kind: Literal["belongs_to", "has_many", "many_to_many"]
    target: str
    fk: str = ""
    join_table: str = ""
    self_column: str = ""
    target_column: str = ""


@dataclass(frozen=True)
class EntityMeta:
    """Static facts about one entity.

    ``operations`` maps each exposed operation to ``""`` (runs in the request) or the name
    of the queue that runs it; ``unique_constraints`` maps constraint names to field names
    so a unique violation can name the field.
    """

    name: str
    model: Any
    pk: str
    pk_type: Literal["int", "uuid"]
    fields: tuple[str, ...]
    field_types: Mapping[str, str]
    """Value type per field: int, float, decimal, string, text, bool, date, datetime, json,
    enum, uuid (ids and foreign keys are int or uuid)."""
    create_input: type[BaseModel]
    update_input: type[BaseModel]
    relations: Mapping[str, RelationMeta] = field(default_factory=dict)
    unique_constraints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cache_ttl: int | None = None
    operations: Mapping[str, str] = field(default_factory=dict)
    permissions: Any = None
    """``{op: (Grant, ...)}`` from the spec, or ``None`` (signed-in callers only)."""

    @property
    def table(self) -> Any:
        return self.model.__table__
