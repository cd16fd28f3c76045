"""The build stamp (``.flowgen/build/<out>.json``): an unchanged rebuild stops early and says
the same as a full one; any change to an input or to the output means a full build."""

from __future__ import annotations

import shutil
from pathlib import Path

from generator import stamp

from .support import CASES, mtimes, read_tree, run_cli


def _project(tmp_path: Path) -> Path:
    shutil.copytree(CASES / "jobs" / "specs", tmp_path / "specs")
    return tmp_path


def test_unchanged_rebuild_is_answered_by_the_stamp(tmp_path: Path) -> None:
    root = _project(tmp_path)
    first = run_cli(["build", "specs", "--out", "generated"], cwd=root)
    assert first.returncode == 0, first.stderr
    assert stamp.stamp_path(root / "generated").is_file()
    stamp.stamp_path(root / "generated").unlink()
    full = run_cli(["build", "specs", "--out", "generated"], cwd=root)  # a full no-op build
    tree, times = read_tree(root), mtimes(root)
    fast = run_cli(["build", "specs", "--out", "generated"], cwd=root)
    assert "(0 file(s) changed)" in fast.stdout
    assert (fast.stdout, fast.stderr) == (full.stdout, full.stderr)
    assert read_tree(root) == tree and mtimes(root) == times
    check = run_cli(["build", "specs", "--out", "generated", "--check"], cwd=root)
    assert check.returncode == 0 and "up to date" in check.stdout


def test_edited_generated_file_is_stale_despite_the_stamp(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert run_cli(["build", "specs", "--out", "generated"], cwd=root).returncode == 0
    registry = root / "generated" / "registry.py"
    registry.write_text(registry.read_text() + "# edited\n")
    check = run_cli(["build", "specs", "--out", "generated", "--check"], cwd=root)
    assert check.returncode == 1 and "~ registry.py" in check.stderr
    rebuilt = run_cli(["build", "specs", "--out", "generated"], cwd=root)
    assert "(1 file(s) changed)" in rebuilt.stdout
    assert "# edited" not in registry.read_text()


def test_inputs_digest_follows_the_specs(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = stamp.inputs_digest(root / "specs", root / "generated")
    assert before == stamp.inputs_digest(root / "specs", root / "generated")
    spec = next((root / "specs").rglob("*.yaml"))
    spec.write_text(spec.read_text() + "\n")
    assert stamp.inputs_digest(root / "specs", root / "generated") != before
