"""Golden tests: every folder in ``tests/cases`` is one case; adding coverage means adding a folder.

* good case: ``specs/`` in, ``expected/`` = the exact package ``gen build`` writes, and
  ``expected_handlers/`` = the handler modules it scaffolds (absent: none). Built in-process.
* bad case (``bad_*``): ``errors.txt`` = the exact stderr of ``gen build specs``, run as a
  real process from the case folder; it must exit 1 and write nothing.

Regenerate with ``pytest tests/generator --update-golden`` and review the diff.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .support import (
    CASES,
    REPO,
    bad_cases,
    build_case,
    good_cases,
    mtimes,
    read_tree,
    replace_tree,
    run_cli,
    tree_diff,
)

UPDATE_HINT = "if the change is intended, run `pytest tests/generator --update-golden`"


@pytest.mark.parametrize("case", good_cases())
def test_good_case(case: str, out_dir: Path, update_golden: bool) -> None:
    case_dir = CASES / case
    before = read_tree(case_dir)
    result = build_case(case_dir, out_dir)
    handlers_dir = out_dir.parent / "handlers"
    built, handlers = read_tree(out_dir), read_tree(handlers_dir)
    assert sorted(Path(p).relative_to(handlers_dir).as_posix() for p in result.scaffolded) == [
        p for p in sorted(handlers) if p != "__init__.py"
    ]
    if update_golden:
        replace_tree(case_dir / "expected", out_dir)
        replace_tree(case_dir / "expected_handlers", handlers_dir)
        (case_dir / "errors.txt").unlink(missing_ok=True)
        return

    assert (case_dir / "expected").is_dir(), f"{case}: no expected/ folder; {UPDATE_HINT}"
    diff = tree_diff(read_tree(case_dir / "expected"), built, f"tests/cases/{case}/expected")
    if diff:
        pytest.fail(f"{case}: the build differs from expected/ ({UPDATE_HINT})\n{diff}")
    diff = tree_diff(
        read_tree(case_dir / "expected_handlers"), handlers, f"tests/cases/{case}/expected_handlers"
    )
    if diff:
        pytest.fail(f"{case}: scaffolded handlers differ ({UPDATE_HINT})\n{diff}")
    assert read_tree(case_dir) == before, "the build wrote into the case folder"


def test_jobs_case_scaffolds_its_handlers() -> None:
    """Guards the handler comparison above against silently comparing two empty trees."""
    expected = read_tree(CASES / "jobs" / "expected_handlers")
    assert sorted(expected) == ["__init__.py", "mail.py"]
    text = expected["mail.py"].decode()
    assert "async def deliver(payload: DeliverPayload, ctx: JobContext) -> Any:" in text
    assert "async def send_digest(payload: SendDigestPayload, ctx: JobContext) -> Any:" in text


_SMOKE = """
import sqlalchemy as sa
from expected.registry import REGISTRY

schema = REGISTRY.schema
engine = sa.create_engine("sqlite://")
REGISTRY.metadata.create_all(engine)
print(REGISTRY.name, sorted(schema.query_type.fields), sorted(REGISTRY.metadata.tables))
"""


@pytest.mark.parametrize("case", good_cases())
def test_expected_output_imports_and_runs(case: str, tmp_path: Path) -> None:
    """The committed output is a working package: it imports, its GraphQL schema is
    executable and its tables create on SQLite. Run from a copy so no bytecode lands in
    the case folder."""
    expected = CASES / case / "expected"
    if not expected.is_dir():
        pytest.skip(f"{case}: no expected/ yet")
    shutil.copytree(expected, tmp_path / "expected")
    if (CASES / case / "expected_handlers").is_dir():
        shutil.copytree(CASES / case / "expected_handlers", tmp_path / "handlers")
    proc = subprocess.run(
        [sys.executable, "-c", _SMOKE],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


_POSITION = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): ")


@pytest.mark.parametrize("case", bad_cases())
def test_bad_case(case: str, out_dir: Path, update_golden: bool) -> None:
    case_dir = CASES / case
    before = read_tree(case_dir)
    proc = run_cli(["build", "specs", "--out", str(out_dir)], cwd=case_dir)
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert proc.stdout == ""
    assert not out_dir.exists(), "a failed build created the output folder"
    assert not (out_dir.parent / "handlers").exists(), "a failed build scaffolded handlers"
    if update_golden:
        (case_dir / "errors.txt").write_text(proc.stderr, encoding="utf-8")
        shutil.rmtree(case_dir / "expected", ignore_errors=True)
        return

    assert (case_dir / "errors.txt").exists(), f"{case}: no errors.txt; {UPDATE_HINT}"
    expected = (case_dir / "errors.txt").read_text(encoding="utf-8")
    if proc.stderr != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), proc.stderr.splitlines(True), "errors.txt", "stderr"
            )
        )
        pytest.fail(f"{case}: stderr differs from errors.txt ({UPDATE_HINT})\n{diff}")
    assert read_tree(case_dir) == before, "the build wrote into the case folder"


@pytest.mark.parametrize("case", bad_cases())
def test_errors_are_positioned_and_sorted(case: str) -> None:
    """Every reported error names file:line:col, relative to the case folder, in order."""
    path = CASES / case / "errors.txt"
    if not path.exists():
        pytest.skip(f"{case}: no errors.txt yet")
    *errors, last = path.read_text(encoding="utf-8").splitlines()
    assert re.fullmatch(r"\d+ errors? in specs; nothing was written\.", last)
    assert errors and int(last.split()[0]) == len(errors)
    keys = []
    for line in errors:
        m = _POSITION.match(line)
        assert m, f"no file:line:col in {line!r}"
        assert m["file"].startswith("specs/"), line
        keys.append((m["file"], int(m["line"]), int(m["col"])))
    assert keys == sorted(keys)


def test_model_errors_are_all_reported_in_one_run() -> None:
    lines = (CASES / "bad_model_many" / "errors.txt").read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "5 errors in specs; nothing was written."
    for needle in (
        "an enum field needs `values`",
        "default 'lots' is not a valid int",
        "min (10) is greater than max (1)",
        "cannot tell which Order relation points back to Order",
        "unknown queue 'mial' (did you mean 'mail'?)",
    ):
        assert any(needle in line for line in lines), needle


def test_failed_build_leaves_existing_output_untouched(out_dir: Path) -> None:
    build_case(CASES / "minimal", out_dir)
    tree, times = read_tree(out_dir), mtimes(out_dir)
    proc = run_cli(["build", "specs", "--out", str(out_dir)], cwd=CASES / "bad_unknown_key")
    assert proc.returncode == 1
    assert read_tree(out_dir) == tree
    assert mtimes(out_dir) == times


def test_example_app_is_up_to_date() -> None:
    """The committed example (``generated/`` from ``specs/``) matches what the compiler builds."""
    if not (REPO / "generated" / "registry.py").exists():
        pytest.skip("generated/registry.py is not committed yet; run `gen build specs` first")
    proc = run_cli(["build", "specs", "--out", "generated", "--check"], cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
