"""Step 2 of the pipeline: validated specs -> one frozen :class:`App`, or every error.

>>> from pathlib import Path
>>> from generator.spec import load_specs
>>> app = build_app(load_specs(Path("specs")))          # doctest: +SKIP
>>> app.entity("Exam").relation("author").fk            # doctest: +SKIP
'author_id'
"""

from __future__ import annotations

import keyword

from ..names import pascal, plural_tail, snake
from ..spec.diagnostics import SpecErrors, suggest
from ..spec.loader import LoadedSpecs
from ..spec.models import BackoffSpec, EntitySpec, FieldSpec, JobOptionsSpec, QueueSpec
from ..spec.yaml_source import YamlDoc
from .cycles import defer_cyclic_foreign_keys
from .extensions import with_extensions
from .fields import build_field, enum_type_name
from .ir import (
    MUTATIONS,
    App,
    Backoff,
    Entity,
    EntityJob,
    Job,
    JobOptions,
    Operation,
    Queue,
    RateLimit,
    Relation,
    Retention,
    Schedule,
)
from .names_check import name_clashes
from .permissions import attach_permissions, job_grants
from .problems import Problems, source
from .relations import Draft, resolve_relations
from .schedule import cron_problem


def build_app(loaded: LoadedSpecs) -> App:
    """Resolve every reference; raise :class:`SpecErrors` with all problems found."""
    problems = Problems(list(loaded.errors))
    drafts = _drafts(loaded, problems)
    relations = resolve_relations(drafts, problems, broken=loaded.broken)
    queue_names = {q.queue for q, _ in loaded.queues} | loaded.broken
    app_spec = loaded.app[0] if loaded.app else None
    package = app_spec.extensions if app_spec else None
    entities = [
        with_extensions(
            _entity(d, relations[name], queue_names, problems), d.spec, d.doc, package, problems
        )
        for name, d in sorted(drafts.items())
    ]
    entities = attach_permissions(
        entities, {d.spec.entity: (d.spec, d.doc) for d in drafts.values()}, problems
    )
    entities = defer_cyclic_foreign_keys(entities)
    queues = _queues(loaded, entities, problems)
    problems.errors.extend(name_clashes(entities, queues))
    if problems.errors:
        raise SpecErrors(problems.errors)
    if app_spec is not None and app_spec.max_page_size < app_spec.default_page_size:
        assert loaded.app is not None
        problems.add(
            loaded.app[1], ("max_page_size",),
            f"max_page_size ({app_spec.max_page_size}) is below default_page_size "
            f"({app_spec.default_page_size})", "raise max_page_size or lower default_page_size",
        )  # fmt: skip
        raise SpecErrors(problems.errors)
    return App(
        name=app_spec.app if app_spec else loaded.root.resolve().parent.name or "app",
        description=app_spec.description if app_spec else None,
        entities=tuple(entities),
        queues=tuple(queues),
        max_page_size=app_spec.max_page_size if app_spec else 100,
        default_page_size=app_spec.default_page_size if app_spec else 20,
        extensions=package,
    )


RESERVED_TABLES = {
    "flowgen_outbox": "the outbox of jobs held by transactions",
    "alembic_version": "Alembic's revision table",
}


def _drafts(loaded: LoadedSpecs, problems: Problems) -> dict[str, Draft]:
    drafts: dict[str, Draft] = {}
    tables: dict[str, str] = {}
    for spec, doc in loaded.entities:
        if spec.entity in drafts:
            other = drafts[spec.entity].doc.file
            problems.add(doc, ("entity",), f"entity '{spec.entity}' is also defined in {other}")
            continue
        table = spec.table or plural_tail(snake(spec.entity))
        if table in RESERVED_TABLES:
            problems.add(
                doc, ("table",), f"table '{table}' is reserved ({RESERVED_TABLES[table]})",
                "set another name with `table:`",
            )  # fmt: skip
        elif table in tables:
            problems.add(doc, ("table",), f"table '{table}' is also used by entity {tables[table]}")
        tables[table] = spec.entity
        fields = [
            build_field(f, name, enum_type_name(spec.entity, name), doc, ("fields", name), problems)
            for name, f in spec.fields.items()
        ]
        ids = [f for f in fields if f.primary_key]
        if not ids and "id" in spec.fields:
            problems.add(
                doc, ("fields", "id"), "field 'id' is not of type id, and an entity without an "
                "id field gets its primary key under that name",
                "declare it `id: {type: id}` (or `kind: uuid`), or rename it", key=True,
            )  # fmt: skip
        if not ids:
            fields.insert(
                0, build_field(FieldSpec(type="id"), "id", "", doc, ("entity",), problems)
            )
        elif len(ids) > 1:
            problems.add(doc, ("fields", ids[1].name), "an entity has exactly one id field")
        drafts[spec.entity] = Draft(spec, doc, table, fields)
    return drafts


def _entity(d: Draft, relations: list[Relation], queues: set[str], problems: Problems) -> Entity:
    spec, doc = d.spec, d.doc
    columns = {f.name: f.column for f in d.fields}
    for r in relations:
        if r.kind == "belongs_to" and r.fk:
            columns[r.name] = r.fk
    return Entity(
        name=spec.entity,
        table=d.table,
        description=spec.description,
        renamed_from=spec.renamed_from,
        fields=tuple(d.fields),
        relations=tuple(relations),
        unique_sets=_distinct(
            _column_sets(spec.unique, "unique", columns, doc, problems),
            {(f.column,) for f in d.fields if f.unique or f.primary_key},
        ),
        indexes=_distinct(
            _column_sets(spec.indexes, "indexes", columns, doc, problems),
            {(f.column,) for f in d.fields if (f.index and not f.unique) or f.primary_key},
        ),
        operations=_operations(spec, doc, queues, problems),
        cache_ttl=spec.cache.ttl if spec.cache.enabled else None,
        source=source(doc, ("entity",)),
    )


def _distinct(
    sets: tuple[tuple[str, ...], ...], already: set[tuple[str, ...]]
) -> tuple[tuple[str, ...], ...]:
    """``sets`` without repeats and without those a column's own ``unique``/``index`` makes
    (the same constraint or index twice would be created twice, under one name)."""
    out: list[tuple[str, ...]] = []
    for cols in sets:
        if cols not in already and cols not in out:
            out.append(cols)
    return tuple(out)


def _column_sets(
    sets: list[list[str]], key: str, columns: dict[str, str], doc: YamlDoc, problems: Problems
) -> tuple[tuple[str, ...], ...]:
    out = []
    for i, names in enumerate(sets):
        if not names:
            problems.add(doc, (key, i), "an empty field list")
            continue
        unknown = [n for n in names if n not in columns]
        for n in unknown:
            j = names.index(n)
            problems.add(doc, (key, i, j), f"unknown field '{n}'", suggest(n, list(columns)))
        if not unknown:
            out.append(tuple(columns[n] for n in names))
    return tuple(out)


def _operations(
    spec: EntitySpec, doc: YamlDoc, queues: set[str], problems: Problems
) -> tuple[Operation, ...]:
    ops = []
    for name in ("get", "list", "create", "update", "delete"):
        op = getattr(spec.operations, name)
        path = ("operations", name)
        if not op.enabled:
            continue
        if op.queued and name not in MUTATIONS:
            problems.add(doc, (*path, "queued"), f"only mutations can be queued, not {name}")
        if op.queued and op.queue is None:
            problems.add(doc, path, "a queued operation names its `queue`")
        if op.queue is not None and op.queue not in queues:
            problems.add(
                doc,
                (*path, "queue"),
                f"unknown queue '{op.queue}'",
                suggest(op.queue, sorted(queues)),
            )
        if op.queue is not None and not op.queued:
            problems.add(doc, (*path, "queue"), "`queue` is set but `queued` is false")
        ops.append(Operation(name, op.queued, op.queue if op.queued else None))
    return tuple(ops)


def _backoff(spec: BackoffSpec) -> Backoff:
    if spec.type == "custom":
        return Backoff("custom", 0, tuple(spec.delays_ms or ()))
    return Backoff(spec.type, spec.delay_ms)


def _options(spec: JobOptionsSpec) -> JobOptions:
    return JobOptions(
        attempts=spec.attempts,
        backoff=_backoff(spec.backoff) if spec.backoff else None,
        delay_ms=spec.delay_ms,
        priority=spec.priority,
        timeout_ms=spec.timeout_ms,
        remove_on_complete=Retention(spec.remove_on_complete.count, spec.remove_on_complete.age_s)
        if spec.remove_on_complete
        else None,
        remove_on_fail=Retention(spec.remove_on_fail.count, spec.remove_on_fail.age_s)
        if spec.remove_on_fail
        else None,
    )


def _merged(defaults: JobOptionsSpec, own: JobOptionsSpec | None) -> JobOptionsSpec:
    if own is None:
        return defaults
    return defaults.model_copy(update={k: getattr(own, k) for k in own.model_fields_set})


def _queues(loaded: LoadedSpecs, entities: list[Entity], problems: Problems) -> list[Queue]:
    seen: dict[str, str] = {}
    out = []
    for spec, doc in sorted(loaded.queues, key=lambda q: q[0].queue):
        if spec.queue in seen:
            problems.add(
                doc, ("queue",), f"queue '{spec.queue}' is also defined in {seen[spec.queue]}"
            )
            continue
        seen[spec.queue] = doc.file
        out.append(_queue(spec, doc, entities, problems))
    return out


def _queue(spec: QueueSpec, doc: YamlDoc, entities: list[Entity], problems: Problems) -> Queue:
    jobs = []
    for name, job in spec.jobs.items():
        path = ("jobs", name)
        payload = tuple(
            build_field(
                f,
                fname,
                enum_type_name(name, fname),
                doc,
                (*path, "payload", fname),
                problems,
                in_payload=True,
            )
            for fname, f in job.payload.items()
        )
        if job.schedule is not None and (job.schedule.cron is None) == (
            job.schedule.every_ms is None
        ):
            problems.add(doc, (*path, "schedule"), "a schedule needs exactly one of cron, every_ms")
        if job.schedule is not None and job.schedule.cron is not None:
            why = cron_problem(job.schedule.cron)
            if why:
                problems.add(doc, (*path, "schedule", "cron"), f"invalid cron {job.schedule.cron!r}: {why}",
                             "five fields (minute hour day month weekday), or six with seconds first")  # fmt: skip
        bad = [p for p in job.handler.split(".") if keyword.iskeyword(p)]
        if bad:
            problems.add(doc, (*path, "handler"), f"handler {job.handler!r} cannot be imported: "
                         f"'{bad[0]}' is a Python keyword", f"e.g. `{job.handler.replace(bad[0], bad[0] + '_')}`")  # fmt: skip
        if job.schedule is not None and any(f.required for f in payload):
            problems.add(
                doc, (*path, "schedule"), "a scheduled job cannot have required payload fields"
            )
        jobs.append(
            Job(
                name=name,
                queue=spec.queue,
                payload=payload,
                handler=job.handler,
                options=_options(_merged(spec.defaults, job.options)),
                schedule=Schedule(job.schedule.cron, job.schedule.every_ms)
                if job.schedule
                else None,
                description=job.description,
                grants=job_grants(job.permissions, doc, path, problems),
                source=source(doc, path),
            )  # fmt: skip
        )
    for entity in entities:
        for op in entity.operations:
            if op.queued and op.queue == spec.queue:
                jobs.append(
                    Job(
                        name=f"{entity.name}.{op.name}",
                        queue=spec.queue,
                        entity_job=EntityJob(entity.name, op.name),
                        options=_options(spec.defaults),
                        description=f"Queued {op.name} of {entity.name}.",
                        source=entity.source,
                    )  # fmt: skip
                )
    rate = RateLimit(spec.rate_limit.max, spec.rate_limit.duration_ms) if spec.rate_limit else None
    return Queue(
        name=spec.queue, jobs=tuple(sorted(jobs, key=lambda j: j.name)),
        concurrency=spec.concurrency, rate_limit=rate, description=spec.description,
        source=source(doc, ("queue",)),
    )  # fmt: skip


__all__ = ["build_app", "pascal"]
