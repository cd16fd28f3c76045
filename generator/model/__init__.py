"""Step 2 of the pipeline: the typed, frozen intermediate model."""

from .build import build_app
from .ir import App, Entity, EnumDef, Field, Job, Queue, Relation

__all__ = ["App", "Entity", "EnumDef", "Field", "Job", "Queue", "Relation", "build_app"]
