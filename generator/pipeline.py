"""The whole build as one function: specs folder -> files -> (optionally) disk.

>>> result = build(Path("specs"), Path("generated"), check=True)   # doctest: +SKIP
>>> result.plan.empty
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .migrations import SNAPSHOT_FILE, MigrationPlan, plan_migration
from .model import App, build_app
from .render import render_app
from .render.engine import format_python
from .scaffold import scaffold_handlers
from .spec import load_specs
from .write import Plan, plan, write


@dataclass
class BuildResult:
    app: App
    plan: Plan
    migration: MigrationPlan
    scaffolded: list[str]
    warnings: list[str]


def render(
    specs: Path, out: Path, *, allow_destructive: bool = False
) -> tuple[App, dict[str, str], MigrationPlan]:
    """Everything in memory: raises SpecErrors / RenderError / UnsupportedChange /
    DestructiveChange (reads the previous build in ``out``, writes nothing)."""
    loaded = load_specs(specs, strict=False)
    app = build_app(loaded)
    spec_root = _display(specs)
    files = render_app(app, spec_root=spec_root, package=out.resolve().name)
    migration = plan_migration(out, files, app, allow_destructive=allow_destructive)
    files[SNAPSHOT_FILE] = migration.snapshot_text
    return app, files, migration


def build(
    specs: Path, out: Path, *, check: bool = False, allow_destructive: bool = False
) -> BuildResult:
    app, files, migration = render(specs, out, allow_destructive=allow_destructive)
    write_once: dict[str, str] = {}
    if migration.revision is not None:
        rev = migration.revision
        write_once[rev.path] = format_python({rev.path: rev.text})[rev.path]
    if check:
        result = plan(out, files)
        result.added += sorted(write_once)
        return BuildResult(app, result, migration, [], [])
    result = write(out, files, write_once=write_once)
    scaffolded, warnings = scaffold_handlers(app, out.resolve().parent, out.name)
    return BuildResult(app, result, migration, scaffolded, warnings)


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
