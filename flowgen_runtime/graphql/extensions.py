"""The app's own code, found at start-up: write hooks, computed fields, custom resolvers.

An app names one extensions package (``extensions:`` in ``app.yaml``; ``gen build``
scaffolds it once and never rewrites it). At start-up the runtime imports it and finds:

* ``BINDABLES`` in the package (its ``__init__.py``): Ariadne bindables for the custom
  SDL in ``<package>/schema/*.graphql`` (which ``gen build`` merges into the schema), bound
  after the generated ones;
* in the module of each entity (``<package>/exam.py`` for ``Exam``), functions named
  like the write hooks (``before_create``... see :mod:`flowgen_runtime.data.hooks`);
* the resolvers of computed fields, by dotted path (the spec's ``resolver``, by default
  ``<package>.<entity module>.<field>``).

Hooks named in an entity's spec (``hooks: {after_create: pkg.mod.func}``) are added too.
A dotted path that does not import is an error at start-up, naming the path, never a
hook or field silently skipped.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ariadne import ObjectType
from flowgen_runtime.data.hooks import HOOK_NAMES, EntityHooks, describe
from flowgen_runtime.jobs.runner import resolve_handler

log = logging.getLogger("flowgen.extensions")


@dataclass(frozen=True)
class Extensions:
    """What the generated registry says about the app's own code."""

    package: str | None = None
    modules: Mapping[str, str] = field(default_factory=dict)
    """Entity -> its module name in the package (``Exam`` -> ``exam``)."""
    hooks: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    """Entity -> hook name -> dotted paths named in its spec."""
    computed: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(GraphQL type, field) -> dotted path of its resolver."""


@dataclass
class Loaded:
    bindables: list[Any]
    hooks: dict[str, EntityHooks]


def load(ext: Extensions, services: Mapping[str, Any]) -> Loaded:
    """Import the app's code and attach its hooks to ``services`` (idempotent)."""
    package = _import(ext.package) if ext.package else None
    hooks: dict[str, EntityHooks] = {}
    for entity, service in sorted(services.items()):
        found: EntityHooks = service.hooks
        module = (
            _import(f"{ext.package}.{ext.modules[entity]}")
            if package and entity in ext.modules
            else None
        )
        for name in HOOK_NAMES:
            hook = getattr(module, name, None) if module is not None else None
            if callable(hook):
                found.add(name, hook)
            for dotted in ext.hooks.get(entity, {}).get(name, ()):
                found.add(name, resolve_handler(dotted, where=f"{entity} hook {name}"))
        hooks[entity] = found
    bindables = _computed(ext.computed)
    if package is not None:
        bindables += list(getattr(package, "BINDABLES", ()))
    log.info("extensions: hooks %s; %d computed field(s)", describe(hooks), len(ext.computed))
    return Loaded(bindables, hooks)


def _computed(computed: Mapping[tuple[str, str], str]) -> list[Any]:
    types: dict[str, ObjectType] = {}
    for (type_name, field_name), dotted in sorted(computed.items()):
        resolver: Callable[..., Any] = resolve_handler(
            dotted, where=f"computed field {type_name}.{field_name}"
        )
        types.setdefault(type_name, ObjectType(type_name)).set_field(field_name, resolver)
    return list(types.values())


def _import(name: str) -> Any:
    """The module ``name``, or None when it does not exist (a module it imports that does
    not exist is an error, as any other error raised while importing it)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise
