"""Helpers for the generator's case-folder tests (``tests/cases/<case>/``).

A case folder holds ``specs/`` and either ``expected/`` (the package ``gen build`` writes,
byte for byte) or ``errors.txt`` (the exact stderr of ``gen build`` for a bad spec).
A case may also hold ``expected_handlers/``: the handler modules the build scaffolds, and
``specs_v1/``: a previous version built first into the same folder (migration cases).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from generator.pipeline import BuildResult, build

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases"


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "specs").is_dir())


def is_bad(case: str) -> bool:
    """Bad cases are named ``bad_*`` or already carry an ``errors.txt``."""
    return case.startswith("bad_") or (CASES / case / "errors.txt").exists()


def good_cases() -> list[str]:
    return [c for c in case_names() if not is_bad(c)]


def bad_cases() -> list[str]:
    return [c for c in case_names() if is_bad(c)]


def build_case(case_dir: Path, out: Path, *, check: bool = False) -> BuildResult:
    """Build ``case_dir/specs`` into ``out`` in-process, with cwd = the case folder, so
    headers and messages name ``specs/...`` exactly as ``gen build specs`` run there would."""
    with contextlib.chdir(case_dir):
        if (case_dir / "specs_v1").is_dir() and not check:  # a migration case: v1 first
            build(Path("specs_v1"), out, allow_destructive=True)
        return build(Path("specs"), out, check=check, allow_destructive=True)


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m generator.cli ARGS`` using this checkout's generator (not an installed copy)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "generator.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` as ``{posix relative path: bytes}`` (bytecode ignored)."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _lines(data: bytes) -> list[str]:
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return [f"<{len(data)} binary bytes>\n"]


def tree_diff(expected: dict[str, bytes], actual: dict[str, bytes], label: str) -> str:
    """A readable report of how ``actual`` differs from ``expected``; empty when equal."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    parts = [f"missing from the build (expected, not produced): {p}" for p in missing]
    parts += [f"extra in the build (produced, not expected): {p}" for p in extra]
    for rel in sorted(set(expected) & set(actual)):
        if expected[rel] == actual[rel]:
            continue
        diff = difflib.unified_diff(
            _lines(expected[rel]), _lines(actual[rel]), f"{label}/{rel}", f"built/{rel}"
        )
        text = "".join(diff)
        parts.append(text or f"{rel}: differs in line endings or trailing bytes only")
    return "\n".join(parts)


def replace_tree(dest: Path, source: Path) -> None:
    """Make ``dest`` an exact copy of ``source`` (used only under ``--update-golden``)."""
    if dest.exists():
        shutil.rmtree(dest)
    if source.is_dir():
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))


def mtimes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
