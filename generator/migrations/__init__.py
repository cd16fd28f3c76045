"""Schema snapshots, write-once Alembic revisions and the API change report.

:func:`plan_migration` is pure apart from *reading* the out folder (the previous snapshot,
models and SDL); it returns what to write and never writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..model import App
from ..render import header
from .breaking import ApiReport, api_report, jobs_snapshot, read_sdl
from .diff import diff_metadata
from .renames import follow_renamed_targets, resolve_renames
from .revisions import (
    DestructiveChange,
    Revision,
    UnsupportedChange,
    enum_types,
    render_revision,
)
from .snapshot import SNAPSHOT_FILE, dumps, load_models, loads, read_models, snapshot

_REV_FILE = re.compile(r"^(\d{4})_[0-9a-f]+\.py$")


@dataclass
class MigrationPlan:
    snapshot_text: str
    revision: Revision | None = None
    summary: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    api: ApiReport = field(default_factory=ApiReport)


def existing_revisions(out: Path) -> list[str]:
    versions = out / "migrations" / "versions"
    if not versions.is_dir():
        return []
    return sorted(p.stem for p in versions.iterdir() if _REV_FILE.match(p.name))


def plan_migration(
    out: Path, files: dict[str, str], app: App | None = None, *, allow_destructive: bool = False
) -> MigrationPlan:
    """Compare the rendered models with the last snapshot in ``out``; maybe a new revision.

    Raises :class:`DestructiveChange` listing every change that loses data unless
    ``allow_destructive``, and :class:`UnsupportedChange` if the previous models in ``out``
    do not match their snapshot (edited or missing).
    """
    new_md, _ = load_models(files)
    new = snapshot(new_md)
    if app is not None and app.queues:
        new["jobs"] = jobs_snapshot(app)
    text = dumps(new, header("the models", "").strip())
    snap_path = out / SNAPSHOT_FILE
    old = loads(snap_path.read_text(encoding="utf-8")) if snap_path.exists() else None
    report = api_report(read_sdl(out), files, (old or {}).get("jobs"), new.get("jobs", {}))
    revisions = existing_revisions(out)
    if old is not None and old["tables"] == new["tables"] and revisions:
        return MigrationPlan(text, api=report)
    old_md: sa.MetaData | None = None
    old_classes: dict[str, str] = {}
    if old is not None and revisions:
        previous = read_models(out)
        if previous:
            old_md, old_classes = load_models(previous)
        if old_md is None or not _same_tables(snapshot(old_md)["tables"], old["tables"]):
            raise UnsupportedChange(
                f"{out}/models does not match {SNAPSHOT_FILE} (edited or missing); restore the "
                "previous build (e.g. `git checkout` it) and build again"
            )
    renames = resolve_renames(app, old_md, old_classes)
    if old_md is not None:
        renames = follow_renamed_targets(old_md, new_md, renames)
    diff = diff_metadata(old_md, new_md, renames)
    if not diff.ops:
        return MigrationPlan(text, api=report)
    if diff.destructive and not allow_destructive:
        raise DestructiveChange("\n".join(diff.destructive))
    prev = revisions[-1] if revisions else None
    rev = render_revision(
        len(revisions) + 1, prev, new, diff, (enum_types(old_md), enum_types(new_md))
    )
    return MigrationPlan(text, rev, diff.summary, diff.destructive, report)


def _same_tables(models: dict[str, Any], stored: dict[str, Any]) -> bool:
    """The previous models against their snapshot; one written before snapshots had column
    comments (none has a ``comment`` key) is compared without them."""
    if models == stored:
        return True
    if any("comment" in c for t in stored.values() for c in t["columns"].values()):
        return False
    bare = {
        name: {**t, "columns": {k: _uncommented(c) for k, c in t["columns"].items()}}
        for name, t in models.items()
    }
    return bare == stored


def _uncommented(column: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in column.items() if k != "comment"}


__all__ = [
    "SNAPSHOT_FILE",
    "ApiReport",
    "DestructiveChange",
    "MigrationPlan",
    "UnsupportedChange",
    "existing_revisions",
    "plan_migration",
]
