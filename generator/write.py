"""Step 4 of the pipeline: the only code that writes generated files.

* unchanged files are not rewritten (bytes and mtime stay the same);
* every new text is first written to a temporary file beside its target, then all are
  renamed into place, so a failure part-way leaves the previous output in place;
* generated files (first line carries the DO NOT EDIT marker) that the new build no longer
  produces are deleted; files without the marker belong to the user and are never touched;
* paths under ``keep`` (write-once migrations) are never deleted.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .render import MARKER

WRITE_ONCE_DIRS = ("migrations/versions/",)


@dataclass
class Plan:
    """What a build would change in ``out``."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def summary(self) -> str:
        lines = [f"  + {p}" for p in self.added] + [f"  ~ {p}" for p in self.changed]
        lines += [f"  - {p}" for p in self.removed]
        return "\n".join(lines)


def _is_generated(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8") as fh:
            return MARKER in fh.readline()
    except (OSError, UnicodeDecodeError):
        return False


def existing_generated(out: Path) -> set[str]:
    if not out.is_dir():
        return set()
    found = set()
    for p in out.rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts and _is_generated(p):
            rel = p.relative_to(out).as_posix()
            if not rel.startswith(WRITE_ONCE_DIRS):
                found.add(rel)
    return found


def plan(out: Path, files: dict[str, str]) -> Plan:
    result = Plan()
    for rel in sorted(files):
        target = out / PurePosixPath(rel)
        if not target.exists():
            result.added.append(rel)
        elif target.read_bytes() != files[rel].encode("utf-8"):
            result.changed.append(rel)
    result.removed = sorted(existing_generated(out) - set(files))
    return result


def write(out: Path, files: dict[str, str], *, write_once: dict[str, str] | None = None) -> Plan:
    """Bring ``out`` to exactly ``files``; ``write_once`` files are created, never replaced."""
    write_once = write_once or {}
    result = plan(out, files)
    pending: list[tuple[Path, Path]] = []
    try:
        for rel in [*result.added, *result.changed]:
            pending.append((_stage(out / PurePosixPath(rel), files[rel]), out / PurePosixPath(rel)))
        for rel, text in sorted(write_once.items()):
            target = out / PurePosixPath(rel)
            if not target.exists():
                pending.append((_stage(target, text), target))
                result.added.append(rel)
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in pending:
        os.replace(tmp, target)
    for rel in result.removed:
        (out / PurePosixPath(rel)).unlink(missing_ok=True)
    _prune_empty_dirs(out)
    return result


def _stage(target: Path, text: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return Path(name)


def _prune_empty_dirs(out: Path) -> None:
    if not out.is_dir():
        return
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if d.name == "__pycache__":
            continue
        if not any(d.iterdir()):
            d.rmdir()
