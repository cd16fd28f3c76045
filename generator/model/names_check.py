"""One GraphQL namespace: types, enums, inputs and mutations must not collide."""

from __future__ import annotations

from collections.abc import Iterator

from ..names import pascal
from ..spec.errors import SpecError
from .ir import Entity, Queue, Source

RESERVED = {
    "Query", "Mutation", "Subscription", "JobRef", "JobStatus", "PageInfo",
    "DateTime", "Date", "Decimal", "JSON", "UUID", "ID", "String", "Int", "Float", "Boolean",
}  # fmt: skip

Claim = tuple[str, str, Source, str]  # (GraphQL name, what defines it, where, YAML path)


def _claims(entities: list[Entity], queues: list[Queue]) -> Iterator[Claim]:
    for e in entities:
        for name in (e.name, f"Create{e.name}Input", f"Update{e.name}Input"):
            yield name, f"entity {e.name}", e.source, "entity"
        for f in e.fields:
            if f.enum is not None:
                yield f.enum.name, f"the enum of {e.name}.{f.name}", f.source, f"fields.{f.name}"
    for q in queues:
        for j in q.jobs:
            if j.entity_job is not None:
                continue
            path, what = f"jobs.{j.name}", f"job {q.name}.{j.name}"
            yield f"enqueue{pascal(j.name)}", f"the mutation of {what}", j.source, path
            if j.payload:
                yield f"{pascal(j.name)}Input", f"the input of {what}", j.source, path
            for f in j.payload:
                if f.enum is not None:
                    yield (
                        f.enum.name,
                        f"the enum of {what}.{f.name}",
                        f.source,
                        f"{path}.payload.{f.name}",
                    )


def graphql_name_clashes(entities: list[Entity], queues: list[Queue]) -> list[SpecError]:
    """Every name that two spec objects would both define in the schema, or a reserved one."""
    seen: dict[str, str] = {}
    errors: list[SpecError] = []
    for name, what, src, path in _claims(entities, queues):
        at = (src.file, src.line, src.col, path)
        if name in RESERVED:
            errors.append(
                SpecError(*at, f"{what} would be named '{name}', a reserved GraphQL name")
            )
        elif name in seen:
            message = f"{what} would be named '{name}', already used by {seen[name]}"
            errors.append(SpecError(*at, message, "rename one of them"))
        else:
            seen[name] = f"{what} ({src})"
    return errors
