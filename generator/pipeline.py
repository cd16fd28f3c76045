"""The whole build as one function: specs folder -> files -> (optionally) disk.

>>> result = build(Path("specs"), Path("generated"), check=True)   # doctest: +SKIP
>>> result.plan.empty
True
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from .migrations import SNAPSHOT_FILE, MigrationPlan, plan_migration
from .model import App, build_app
from .render import render_app
from .render.engine import format_python
from .render.user_schema import merge as merge_user_schema
from .scaffold import scaffold_extensions, scaffold_handlers
from .spec import load_specs
from .write import Plan, plan, write


@dataclass
class BuildResult:
    app: App
    plan: Plan
    migration: MigrationPlan
    scaffolded: list[str]
    warnings: list[str]
    files: dict[str, str] = field(default_factory=dict)
    """The generated files' text (write-once revisions aside)."""


def render(
    specs: Path, out: Path, *, allow_destructive: bool = False
) -> tuple[App, dict[str, str], MigrationPlan]:
    """Everything in memory: raises SpecErrors / RenderError / UnsupportedChange /
    DestructiveChange (reads the previous build in ``out``, writes nothing)."""
    loaded = load_specs(specs, strict=False)
    app = build_app(loaded)
    spec_root = _display(specs)
    # The models import the same unformatted or formatted, so the migration is planned
    # first and its revision formatted in the same ruff run as every other file.
    files = render_app(app, spec_root=spec_root, package=out.resolve().name, formatted=False)
    files.update(merge_user_schema(files, _user_schema(out, app)))
    migration = plan_migration(out, files, app, allow_destructive=allow_destructive)
    rev = migration.revision
    files = format_python({**files, rev.path: rev.text} if rev else files)
    if rev is not None:
        migration.revision = replace(rev, text=files.pop(rev.path))
    files[SNAPSHOT_FILE] = migration.snapshot_text
    return app, files, migration


def build(
    specs: Path, out: Path, *, check: bool = False, allow_destructive: bool = False
) -> BuildResult:
    with gc_paused():
        return _build(specs, out, check=check, allow_destructive=allow_destructive)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector. A build creates millions of objects that live
    until it ends (specs, model, SQLAlchemy metadata, Alembic ops) and little cyclic
    garbage, so the collector's repeated passes over them were a third of a large build."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(specs: Path, out: Path, *, check: bool, allow_destructive: bool) -> BuildResult:
    app, files, migration = render(specs, out, allow_destructive=allow_destructive)
    rev = migration.revision
    write_once = {rev.path: rev.text} if rev is not None else {}
    if check:
        result = plan(out, files)
        result.added += sorted(write_once)
        return BuildResult(app, result, migration, [], [], files)
    result = write(out, files, write_once=write_once)
    scaffolded, warnings = scaffold_handlers(app, out.resolve().parent, out.name)
    scaffolded += scaffold_extensions(app, out.resolve().parent)
    return BuildResult(app, result, migration, scaffolded, warnings, files)


def _user_schema(out: Path, app: App) -> dict[str, str]:
    """The app's own SDL files (``<extensions>/schema/*.graphql``, the package next to the
    out folder, as handler packages are): display path -> text."""
    if app.extensions is None:
        return {}
    folder = out.resolve().parent / app.extensions / "schema"
    files = sorted(folder.glob("*.graphql")) if folder.is_dir() else []
    return {_display(f): f.read_text(encoding="utf-8") for f in files}


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
