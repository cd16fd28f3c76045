"""The intermediate model: plain, frozen, fully resolved.

Built once by :func:`generator.model.build.build_app`; every view-model and template reads
from it and nothing below this point looks at YAML again. Names are final here (table,
column, GraphQL and Python names), relations point at real entities, foreign keys know
their target column, and each object keeps its :class:`Source` for messages.

>>> f = Field(name="created_at", column="created_at", type="datetime")
>>> f.graphql_name, f.is_auto
('createdAt', False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..names import camel, graphql_field_name, pascal, plural_tail, py_attr, py_module, snake

ScalarType = Literal[
    "id", "string", "text", "int", "float", "decimal", "bool",
    "date", "datetime", "json", "enum", "uuid",
]  # fmt: skip
RelationKind = Literal["belongs_to", "has_many", "many_to_many"]
OperationName = Literal["get", "list", "create", "update", "delete"]
MUTATIONS: tuple[OperationName, ...] = ("create", "update", "delete")


@dataclass(frozen=True)
class Source:
    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class EnumDef:
    """A named enum: Python ``class ExamStatus(str, Enum)``, PostgreSQL type ``exam_status``."""

    name: str
    db_name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Default:
    """``now`` (server-side timestamp) or a literal already coerced to the field's type."""

    kind: Literal["literal", "now"]
    value: Any = None


@dataclass(frozen=True)
class ForeignKey:
    relation: str
    target: str
    target_table: str
    target_column: str
    on_delete: Literal["CASCADE", "SET NULL", "RESTRICT"]
    deferred: bool = False
    """Part of a cycle of foreign keys between tables: created after the tables
    (``use_alter``), since no order of CREATE TABLE statements can hold it inline."""


@dataclass(frozen=True)
class Field:
    """A stored scalar: a spec field, or the column behind a ``belongs_to`` relation."""

    name: str
    column: str
    type: ScalarType
    nullable: bool = False
    required: bool = False
    unique: bool = False
    index: bool = False
    primary_key: bool = False
    default: Default | None = None
    min_length: int | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    enum: EnumDef | None = None
    id_kind: Literal["integer", "uuid"] | None = None
    precision: int | None = None
    scale: int | None = None
    description: str | None = None
    renamed_from: str | None = None
    foreign_key: ForeignKey | None = None
    source: Source = field(default=Source("<builtin>"), compare=False)

    @property
    def graphql_name(self) -> str:
        return graphql_field_name(self.name)

    @property
    def attr(self) -> str:
        """The Python attribute in generated classes: ``from`` -> ``from_``."""
        return py_attr(self.name)

    @property
    def value_type(self) -> ScalarType:
        """The type of the stored value: ``id`` resolves to ``int`` or ``uuid``."""
        if self.type == "id":
            return "uuid" if self.id_kind == "uuid" else "int"
        return self.type

    @property
    def is_auto(self) -> bool:
        """Filled by the database or the runtime, never by a client on create."""
        return self.primary_key


@dataclass(frozen=True)
class JoinTable:
    """The table behind a many-to-many relation; ``left`` is the entity that owns the name."""

    name: str
    left_table: str
    left_column: str
    left_type: ScalarType
    right_table: str
    right_column: str
    right_type: ScalarType
    left_pk: str = "id"
    right_pk: str = "id"
    """The primary-key columns the two foreign keys point at."""


@dataclass(frozen=True)
class Relation:
    """A navigable link. ``fk`` is the foreign-key field: on this entity for ``belongs_to``,
    on the target for ``has_many``; ``join`` is set for ``many_to_many``."""

    name: str
    kind: RelationKind
    target: str
    nullable: bool = False
    fk: str | None = None
    inverse: str | None = None
    join: JoinTable | None = None
    join_self_column: str | None = None
    join_target_column: str | None = None
    description: str | None = None
    source: Source = field(default=Source("<builtin>"), compare=False)

    @property
    def graphql_name(self) -> str:
        return graphql_field_name(self.name)

    @property
    def attr(self) -> str:
        return py_attr(self.name)

    @property
    def to_many(self) -> bool:
        return self.kind != "belongs_to"


@dataclass(frozen=True)
class Operation:
    name: OperationName
    queued: bool = False
    queue: str | None = None


@dataclass(frozen=True)
class Grant:
    """One grant of an operation; ``row_where`` is the compiled rule (JSON where template)."""

    roles: tuple[str, ...] = ()
    anonymous: bool = False
    row: str | None = None
    row_where: str | None = None
    hidden: tuple[str, ...] = ()
    readonly: tuple[str, ...] = ()
    preset: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Permission:
    operation: str
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class Computed:
    """A field the app's own code computes (a resolver by dotted path)."""

    name: str
    type: str
    resolver: str
    nullable: bool = True
    description: str | None = None

    @property
    def graphql_name(self) -> str:
        return graphql_field_name(self.name)


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    fields: tuple[Field, ...]
    relations: tuple[Relation, ...] = ()
    unique_sets: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    operations: tuple[Operation, ...] = ()
    cache_ttl: int | None = None
    permissions: tuple[Permission, ...] | None = None
    """None: no permissions block (signed-in callers may do everything, anonymous nothing)."""
    description: str | None = None
    renamed_from: str | None = None
    source: Source = field(default=Source("<builtin>"), compare=False)
    hooks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Write hooks named in the spec: (hook name, dotted paths)."""
    computed: tuple[Computed, ...] = ()

    @property
    def module(self) -> str:
        """Python module / file stem: ``ExamQuestion`` -> ``exam_question``, ``Class`` ->
        ``class_`` (see :func:`generator.names.py_module`)."""
        return py_module(snake(self.name))

    @property
    def plural(self) -> str:
        """GraphQL list field: ``ExamQuestion`` -> ``examQuestions``."""
        return camel(plural_tail(snake(self.name)))

    @property
    def pk(self) -> Field:
        return next(f for f in self.fields if f.primary_key)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def relation(self, name: str) -> Relation:
        return next(r for r in self.relations if r.name == name)

    def operation(self, name: str) -> Operation | None:
        return next((o for o in self.operations if o.name == name), None)

    @property
    def enums(self) -> tuple[EnumDef, ...]:
        return tuple(f.enum for f in self.fields if f.enum is not None)


@dataclass(frozen=True)
class Backoff:
    type: Literal["fixed", "exponential", "custom"]
    delay_ms: int
    delays_ms: tuple[int, ...] = ()


@dataclass(frozen=True)
class Retention:
    count: int | None = None
    age_s: int | None = None


@dataclass(frozen=True)
class JobOptions:
    attempts: int = 1
    backoff: Backoff | None = None
    delay_ms: int = 0
    priority: int = 0
    timeout_ms: int | None = None
    remove_on_complete: Retention | None = None
    remove_on_fail: Retention | None = None


@dataclass(frozen=True)
class Schedule:
    cron: str | None = None
    every_ms: int | None = None


@dataclass(frozen=True)
class EntityJob:
    """The entity mutation a generated job performs (queued mutations)."""

    entity: str
    operation: OperationName


@dataclass(frozen=True)
class Job:
    """A job on a queue: user code (``handler``) or a queued entity mutation (``entity_job``)."""

    name: str
    queue: str
    payload: tuple[Field, ...] = ()
    handler: str | None = None
    entity_job: EntityJob | None = None
    options: JobOptions = JobOptions()
    schedule: Schedule | None = None
    description: str | None = None
    grants: tuple[Grant, ...] | None = None
    """Who may enqueue it; None: any signed-in caller."""
    source: Source = field(default=Source("<builtin>"), compare=False)

    @property
    def class_name(self) -> str:
        """Payload model name: ``grade_submission`` -> ``GradeSubmissionPayload``."""
        if self.entity_job is not None:
            return f"{pascal(self.entity_job.operation)}{self.entity_job.entity}Job"
        return f"{pascal(self.name)}Payload"


@dataclass(frozen=True)
class RateLimit:
    max: int
    duration_ms: int


@dataclass(frozen=True)
class Queue:
    name: str
    jobs: tuple[Job, ...]
    concurrency: int = 1
    rate_limit: RateLimit | None = None
    description: str | None = None
    source: Source = field(default=Source("<builtin>"), compare=False)

    @property
    def module(self) -> str:
        """Python module of its payloads and handlers: ``exam`` -> ``exam``, ``class`` ->
        ``class_``."""
        return py_module(snake(self.name))


@dataclass(frozen=True)
class App:
    name: str
    entities: tuple[Entity, ...]
    queues: tuple[Queue, ...] = ()
    description: str | None = None
    max_page_size: int = 100
    default_page_size: int = 20
    extensions: str | None = None
    """The app's extensions package (its own code), if it names one."""

    def entity(self, name: str) -> Entity:
        return next(e for e in self.entities if e.name == name)

    def queue(self, name: str) -> Queue:
        return next(q for q in self.queues if q.name == name)

    @property
    def join_tables(self) -> tuple[JoinTable, ...]:
        """Every many-to-many join table once, sorted by name."""
        found = {r.join.name: r.join for e in self.entities for r in e.relations if r.join}
        return tuple(found[name] for name in sorted(found))

    @property
    def enums(self) -> tuple[EnumDef, ...]:
        return tuple(e for entity in self.entities for e in entity.enums) + tuple(
            f.enum for q in self.queues for j in q.jobs for f in j.payload if f.enum is not None
        )
