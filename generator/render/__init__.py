"""Step 3 of the pipeline: view-models and templates -> ``{path: text}``."""

from .engine import MARKER, RenderError, header, render_app

__all__ = ["MARKER", "RenderError", "header", "render_app"]
