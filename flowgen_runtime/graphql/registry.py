"""The generated app, as one object the runtime can serve, run workers for and migrate."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ariadne import convert_schema_names, make_executable_schema
from flowgen_runtime.graphql.extensions import Extensions, Loaded, load
from flowgen_runtime.graphql.scalars import SCALARS
from flowgen_runtime.graphql.schema import SHARED_ENUMS, Read, python_name, read_attributes
from graphql import GraphQLSchema


@dataclass(frozen=True)
class Registry:
    name: str
    schema_dir: Path
    bindables: Sequence[Any]
    services: Mapping[str, Any]
    queues: Mapping[str, Any]
    handlers: Mapping[tuple[str, str], Callable[..., Any] | str]
    metadata: Any
    migrations_dir: Path
    max_page_size: int = 100
    default_page_size: int = 20
    extra_type_defs: Sequence[str] = field(default_factory=tuple)
    reads: Mapping[Any, Read] = field(default_factory=dict)
    """Generated read resolver -> what it reads (the resolver modules' ``READS``)."""
    extensions: Extensions = field(default_factory=Extensions)
    """The app's own code: hooks, computed fields, custom resolvers (:mod:`.extensions`)."""

    @cached_property
    def loaded(self) -> Loaded:
        """The app's code, imported once (servers: with the schema; workers: at start)."""
        return load(self.extensions, self.services)

    @property
    def has_hooks(self) -> bool:
        """Whether any entity has a write hook (writes then wait for jobs to commit)."""
        return any(self.loaded.hooks.values())

    def type_defs(self) -> list[str]:
        """Every ``*.graphql`` file of the schema folder, in name order, plus extras."""
        files = sorted(self.schema_dir.glob("*.graphql"))
        return [f.read_text(encoding="utf-8") for f in files] + list(self.extra_type_defs)

    @cached_property
    def schema(self) -> GraphQLSchema:
        schema = make_executable_schema(
            self.type_defs(), *SCALARS, *SHARED_ENUMS, *self.bindables, *self.loaded.bindables
        )
        read_attributes(schema)  # plain reads the compiled executor can recognise
        convert_schema_names(schema, python_name)  # arguments and input fields
        return schema
