"""The app's own code as the spec names it: write hooks and computed fields per entity.

>>> # entity spec:  hooks: {after_create: extensions.grading.queue_grading}
>>> #               computed: {average_score: {type: float}}
>>> # app.yaml:     extensions: extensions
>>> # -> Entity.hooks == (("after_create", ("extensions.grading.queue_grading",)),)
>>> #    Entity.computed == (Computed("average_score", "float", "extensions.exam.average_score"),)
"""

from __future__ import annotations

from dataclasses import replace

from ..names import py_attr
from ..spec.models import EntitySpec
from ..spec.yaml_source import YamlDoc
from .ir import Computed, Entity
from .problems import Problems


def with_extensions(
    entity: Entity, spec: EntitySpec, doc: YamlDoc, package: str | None, problems: Problems
) -> Entity:
    """``entity`` with the hooks and computed fields its spec declares."""
    taken = {f.name for f in entity.fields} | {r.name for r in entity.relations}
    taken |= {f.graphql_name for f in entity.fields} | {r.graphql_name for r in entity.relations}
    computed = []
    for name, c in spec.computed.items():
        where = ("computed", name)
        if name in taken or Computed(name, c.type, "").graphql_name in taken:
            problems.add(doc, where, f"'{name}' is already a field or relation of {entity.name}")
            continue
        resolver = c.resolver
        if resolver is None:
            if package is None:
                problems.add(
                    doc, where, "a computed field needs a resolver",
                    "set `resolver: package.module.function`, or `extensions:` in app.yaml "
                    f"to use {{extensions}}.{entity.module}.{py_attr(name)} by convention",
                )  # fmt: skip
                continue
            resolver = f"{package}.{entity.module}.{py_attr(name)}"  # `from` -> from_
        computed.append(Computed(name, c.type, resolver, c.nullable, c.description))
    hooks = tuple((name, tuple(paths)) for name, paths in sorted(spec.hooks.items()))
    return replace(entity, hooks=hooks, computed=tuple(computed))
