"""The build stamp: lets ``gen build`` stop early when nothing it reads has changed.

After a successful build the CLI records, in ``.flowgen/build/<out name>.json`` beside the
out folder (local state, like the embedded database; never committed):

* one sha256 over every input of the build: the spec files, the compiler's own source and
  templates, the Python and library versions that shape the output, the working directory
  (headers name the specs relative to it) and the specs and out paths;
* the sha256 of every file in the out folder and of each job handler module;
* what the CLI printed about the build (app name, counts, warnings).

A later build trusts the stamp only if *all* of these match exactly; any difference (a spec
edited, a generated file edited, added or removed, a handler changed, a new flowgen) means
the full build runs, and ``--check`` does its full comparison. Only stdlib is imported here,
so the check runs before the compiler's heavy imports.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .resources import templates_dir

VERSION = 1
_PACKAGE = Path(__file__).resolve().parent
# Libraries whose version can change the output (formatting, rendered migrations, SDL).
_DISTS = ("ruff", "sqlalchemy", "alembic", "jinja2", "pydantic", "pyyaml", "graphql-core")


def stamp_path(out: Path) -> Path:
    out = out.resolve()
    return out.parent / ".flowgen" / "build" / f"{out.name}.json"


def file_hashes(root: Path) -> dict[str, str]:
    """``{posix relative path: sha256}`` of every file below ``root`` (bytecode skipped)."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in filenames:
            path = Path(dirpath, name)
            found[path.relative_to(root).as_posix()] = _sha(path.read_bytes())
    return dict(sorted(found.items()))


def inputs_digest(specs: Path, out: Path) -> str:
    """One sha256 over everything the build reads apart from the out folder ("" if some
    input cannot be read: the build will say why, and no stamp is trusted or written)."""
    h = hashlib.sha256()
    try:
        for part in _environment(specs, out):
            h.update(part.encode() + b"\0")
        for root in (_PACKAGE, templates_dir(), specs, *_user_schema(specs, out)):
            for rel, digest in file_hashes(root).items():
                if root is not _PACKAGE or rel.endswith(".py"):
                    h.update(f"{root.name}/{rel}:{digest}\0".encode())
    except OSError:
        return ""
    return h.hexdigest()


_EXTENSIONS = re.compile(r"^extensions:\s*([a-z][a-z0-9_]*)\s*$", re.M)


def _user_schema(specs: Path, out: Path) -> list[Path]:
    """The app's own SDL folder (``<extensions>/schema``), which the build merges; found
    with a regex (no YAML parser here): ``extensions: <package>`` in a spec file."""
    found = []
    for path in sorted(specs.glob("*.y*ml")) if specs.is_dir() else []:
        for package in _EXTENSIONS.findall(path.read_text(encoding="utf-8", errors="replace")):
            folder = out.resolve().parent / package / "schema"
            if folder.is_dir():
                found.append(folder)
    return found


def _environment(specs: Path, out: Path) -> list[str]:
    versions = []
    for dist in _DISTS:
        try:
            versions.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} missing")
    cwd = Path.cwd().resolve()
    return [f"stamp {VERSION}", sys.version, *versions, str(cwd), str(specs), str(out.resolve())]


def handler_hashes(paths: list[Path]) -> dict[str, str | None]:
    return {str(p): _sha(p.read_bytes()) if p.is_file() else None for p in sorted(paths)}


def fresh(out: Path, inputs: str) -> dict[str, Any] | None:
    """The stored build summary if the stamp matches ``inputs`` (:func:`inputs_digest`), the
    out folder and the handler modules exactly; otherwise None."""
    try:
        stamp = json.loads(stamp_path(out).read_text(encoding="utf-8"))
        if not inputs or stamp.get("version") != VERSION or stamp["inputs"] != inputs:
            return None
        handlers = handler_hashes([Path(p) for p in stamp["handlers"]])
        if stamp["handlers"] != handlers or stamp["out"] != file_hashes(out):
            return None
        summary: dict[str, Any] = stamp["summary"]
        return summary
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(
    out: Path, inputs: str, built: dict[str, str], handlers: list[Path], summary: dict[str, Any]
) -> bool:
    """Record a successful build. ``inputs`` must be the digest taken *before* the build
    read anything; ``built`` is the text the build wrote or found in place. If any of those
    files already differs on disk, nothing is recorded."""
    path = stamp_path(out)
    try:
        tree = file_hashes(out)
        if not inputs or any(tree.get(p) != _sha(t.encode("utf-8")) for p, t in built.items()):
            return False
        stamp = {
            "version": VERSION,
            "inputs": inputs,
            "out": tree,
            "handlers": handler_hashes(handlers),
            "summary": summary,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(stamp, indent=1, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
    except OSError:
        return False
    return True


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
