"""Schema snapshots and write-once Alembic revisions (the build's migration step)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..render import header
from .revisions import Revision, UnsupportedChange, diff_ops, render_revision
from .snapshot import SNAPSHOT_FILE, dumps, load_metadata, loads, snapshot

_REV_FILE = re.compile(r"^(\d{4})_[0-9a-f]+\.py$")


@dataclass
class MigrationPlan:
    snapshot_text: str
    revision: Revision | None = None
    summary: list[str] = field(default_factory=list)


def existing_revisions(out: Path) -> list[str]:
    versions = out / "migrations" / "versions"
    if not versions.is_dir():
        return []
    return sorted(p.stem for p in versions.iterdir() if _REV_FILE.match(p.name))


def plan_migration(out: Path, files: dict[str, str]) -> MigrationPlan:
    """Compare the rendered models with the last snapshot in ``out``; maybe a new revision."""
    metadata = load_metadata(files)
    new = snapshot(metadata)
    text = dumps(new, header("the models", "").strip())
    snap_path = out / SNAPSHOT_FILE
    old = loads(snap_path.read_text(encoding="utf-8")) if snap_path.exists() else None
    revisions = existing_revisions(out)
    if old == new and revisions:
        return MigrationPlan(text)
    upgrade, summary = diff_ops(old if revisions else None, new, metadata)
    if not upgrade:
        return MigrationPlan(text)
    rev = render_revision(
        len(revisions) + 1, revisions[-1] if revisions else None, new, upgrade, summary
    )
    return MigrationPlan(text, rev, summary)


__all__ = [
    "SNAPSHOT_FILE",
    "MigrationPlan",
    "UnsupportedChange",
    "existing_revisions",
    "plan_migration",
]
