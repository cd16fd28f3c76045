"""The build is reproducible: same specs, same bytes, wherever the output goes; a rebuild
into the same folder rewrites nothing."""

from __future__ import annotations

from pathlib import Path

from .support import CASES, build_case, mtimes, read_tree, tree_diff

CASE = CASES / "jobs"  # entities, a queue, a migration and scaffolded handlers


def test_two_builds_give_identical_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "generated", tmp_path / "b" / "generated"
    build_case(CASE, a)
    build_case(CASE, b)
    assert not tree_diff(read_tree(a), read_tree(b), "a")
    assert read_tree(a) == read_tree(b)
    assert read_tree(a.parent / "handlers") == read_tree(b.parent / "handlers")


def test_rebuild_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    first = build_case(CASE, out)
    assert first.migration.revision is not None and first.scaffolded
    handler = tmp_path / "handlers" / "mail.py"
    handler.write_text("async def deliver(payload, ctx):\n    return 'mine'\n")
    tree, times = read_tree(tmp_path), mtimes(tmp_path)

    again = build_case(CASE, out)
    assert again.plan.empty
    assert again.migration.revision is None, "an unchanged schema needs no new migration"
    assert again.scaffolded == []
    assert mtimes(tmp_path) == times
    assert read_tree(tmp_path) == tree  # the user's handler module is never overwritten
    assert again.warnings == [
        f"{handler}: handler `send_digest` for job mail.send_digest is missing"
    ]
    assert build_case(CASE, out, check=True).plan.empty
