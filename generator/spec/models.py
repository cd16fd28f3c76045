"""The spec language, as pydantic models (they also give ``gen schema``'s JSON Schema).

Every model forbids unknown keys. Shorthands are normalised *before* validation so
error locations are plain YAML paths: ``title: string`` means ``title: {type: string}``
and ``get: false`` means ``get: {enabled: false}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

FieldType = Literal[
    "id", "string", "text", "int", "float", "decimal", "bool",
    "date", "datetime", "json", "enum", "uuid",
]  # fmt: skip

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
TypeName = Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _field_shorthand(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


class FieldSpec(Strict):
    """A scalar field: ``email: {type: string, unique: true, max_length: 255}``."""

    type: FieldType
    description: str | None = None
    nullable: bool = False
    required: bool | None = Field(
        None, description="Must be given on create; default: not nullable and no default"
    )
    unique: bool = False
    index: bool = False
    default: Any = Field(None, description="A literal value, or `now` for date/datetime")
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=1)
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    values: list[Identifier] | None = Field(None, description="Enum values (type: enum)")
    kind: Literal["integer", "uuid"] | None = Field(None, description="For type: id")
    precision: int | None = Field(None, ge=1, le=1000)
    scale: int | None = Field(None, ge=0)
    renamed_from: str | None = Field(None, description="Previous name; migrated as a rename")


FieldEntry = Annotated[FieldSpec, BeforeValidator(_field_shorthand)]

OnDelete = Literal["cascade", "set_null", "restrict"]


class RelationSpec(Strict):
    """Exactly one of ``belongs_to``, ``has_many``, ``many_to_many`` names the target."""

    belongs_to: str | None = None
    has_many: str | None = None
    many_to_many: str | None = None
    description: str | None = None
    nullable: bool = False
    on_delete: OnDelete | None = None
    inverse: str | None = Field(
        None, description="The relation on the target that this one mirrors"
    )
    through: str | None = Field(None, description="Join table name (many_to_many)")
    renamed_from: str | None = None


class OperationSpec(Strict):
    enabled: bool = True
    queued: bool = Field(False, description="Run as a job on `queue` instead of in the request")
    queue: str | None = None


def _operation_shorthand(value: Any) -> Any:
    return {"enabled": value} if isinstance(value, bool) else value


OperationEntry = Annotated[OperationSpec, BeforeValidator(_operation_shorthand)]


class OperationsSpec(Strict):
    get: OperationEntry = OperationSpec()
    list: OperationEntry = OperationSpec()
    create: OperationEntry = OperationSpec()
    update: OperationEntry = OperationSpec()
    delete: OperationEntry = OperationSpec()


def _cache_shorthand(value: Any) -> Any:
    if value is False or value == "off":
        return {"enabled": False}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"ttl": value}
    return value


class CacheSpec(Strict):
    enabled: bool = True
    ttl: int = Field(60, ge=1, description="Seconds a cached read lives")


class GrantSpec(Strict):
    """Who may do an operation, on which rows, with which fields.

    A caller matches a grant when it has one of ``roles`` (``authenticated`` matches any
    signed-in caller), or is anonymous and ``anonymous`` is true. The rows it reaches are
    the union of its matching grants' ``row`` rules (no rule: every row)."""

    roles: list[str] = Field(default_factory=list)
    anonymous: bool = Field(False, description="Callers without a token match this grant")
    row: str | None = Field(None, description="Row rule, e.g. `author_id = $user.id`")
    hidden: list[str] = Field(default_factory=list, description="read: fields shown as null")
    readonly: list[str] = Field(default_factory=list, description="create/update: fields refused")
    preset: dict[str, str] = Field(
        default_factory=dict, description="create/update: field -> `$user.<claim>` or a literal"
    )


class PermissionsSpec(Strict):
    """Per operation, a list of grants. An operation left out is allowed to nobody."""

    read: list[GrantSpec] | None = None
    create: list[GrantSpec] | None = None
    update: list[GrantSpec] | None = None
    delete: list[GrantSpec] | None = None


HookName = Literal[
    "before_create", "after_create", "before_update", "after_update",
    "before_delete", "after_delete",
]  # fmt: skip
DottedPath = Annotated[str, Field(pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")]


def _paths_shorthand(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class ComputedSpec(Strict):
    """A field computed by your code: ``average_score: {type: float, resolver: ...}``.

    The resolver is ``def resolver(row, info)`` (or async); by default
    ``<extensions>.<entity module>.<field name>`` of the app's extensions package."""

    type: Literal[
        "string", "text", "int", "float", "decimal", "bool", "date", "datetime", "json",
        "uuid", "id",
    ]  # fmt: skip
    nullable: bool = True
    description: str | None = None
    resolver: DottedPath | None = None


class EntitySpec(Strict):
    """One entity per file: ``entity: Exam``."""

    entity: TypeName
    table: Identifier | None = None
    description: str | None = None
    renamed_from: str | None = None
    fields: dict[Identifier, FieldEntry]
    relations: dict[Identifier, RelationSpec] = Field(default_factory=dict)
    unique: list[list[str]] = Field(default_factory=list, description="Unique field sets")
    indexes: list[list[str]] = Field(default_factory=list)
    operations: OperationsSpec = OperationsSpec()
    cache: Annotated[CacheSpec, BeforeValidator(_cache_shorthand)] = CacheSpec()
    permissions: PermissionsSpec | None = None
    hooks: dict[HookName, Annotated[list[DottedPath], BeforeValidator(_paths_shorthand)]] = Field(
        default_factory=dict, description="Write hooks by dotted path (see docs/extending.md)"
    )
    computed: dict[Identifier, ComputedSpec] = Field(
        default_factory=dict, description="Fields your code computes (see docs/extending.md)"
    )


class BackoffSpec(Strict):
    """Wait before a retry: ``{type: exponential, delay_ms: 1000}`` or, one delay per retry,
    ``{type: custom, delays_ms: [1000, 5000, 30000]}`` (the last one repeats)."""

    type: Literal["fixed", "exponential", "custom"] = "exponential"
    delay_ms: int = Field(1000, ge=0)
    delays_ms: list[Annotated[int, Field(ge=0)]] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _delays_for_custom_only(self) -> BackoffSpec:
        if (self.type == "custom") != (self.delays_ms is not None):
            raise ValueError("delays_ms is required with type custom and allowed only there")
        return self


class RetentionSpec(Strict):
    count: int | None = Field(None, ge=0)
    age_s: int | None = Field(None, ge=0)


class JobOptionsSpec(Strict):
    attempts: int = Field(1, ge=1, le=100)
    backoff: BackoffSpec | None = None
    delay_ms: int = Field(0, ge=0)
    priority: int = Field(0, ge=0, le=2_097_152)
    timeout_ms: int | None = Field(None, ge=1)
    remove_on_complete: RetentionSpec | None = None
    remove_on_fail: RetentionSpec | None = None


class RateLimitSpec(Strict):
    max: int = Field(ge=1)
    duration_ms: int = Field(ge=1)


class ScheduleSpec(Strict):
    cron: str | None = None
    every_ms: int | None = Field(None, ge=1)


class JobSpec(Strict):
    handler: str = Field(pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")
    description: str | None = None
    payload: dict[Identifier, FieldEntry] = Field(default_factory=dict)
    options: JobOptionsSpec | None = None
    schedule: ScheduleSpec | None = None
    permissions: list[GrantSpec] | None = Field(
        None, description="Who may enqueue it (roles / anonymous); default: signed-in callers"
    )


class QueueSpec(Strict):
    """Jobs grouped per queue: ``queue: exam``."""

    queue: Identifier
    description: str | None = None
    concurrency: int = Field(1, ge=1, le=1000)
    rate_limit: RateLimitSpec | None = None
    defaults: JobOptionsSpec = JobOptionsSpec()
    jobs: dict[Identifier, JobSpec] = Field(default_factory=dict)


class AppSpec(Strict):
    """Optional ``app:`` file with project-wide settings."""

    app: Identifier
    description: str | None = None
    max_page_size: int = Field(100, ge=1)
    default_page_size: int = Field(20, ge=1)
    extensions: Identifier | None = Field(
        None,
        description="Package of your own code (hooks, custom schema and resolvers, computed "
        "fields), next to the specs folder; `gen build` creates it once",
    )


def json_schema() -> dict[str, Any]:
    """JSON Schema accepted by every spec file (an entity, a queue or the app file)."""

    class SpecFile(BaseModel):
        spec: EntitySpec | QueueSpec | AppSpec

    schema = SpecFile.model_json_schema()
    root = schema["properties"]["spec"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Flowgen spec file",
        **root,
        "$defs": schema["$defs"],
    }
