"""Step 1 of the pipeline: spec files -> validated pydantic specs (or every error)."""

from .diagnostics import SpecError, SpecErrors, suggest
from .loader import LoadedSpecs, load_specs
from .models import EntitySpec, QueueSpec, json_schema

__all__ = [
    "EntitySpec", "LoadedSpecs", "QueueSpec", "SpecError", "SpecErrors",
    "json_schema", "load_specs", "suggest",
]  # fmt: skip
