"""The `gen` CLI surface: schema file in sync, configuration errors, version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from generator.spec import json_schema

REPO = Path(__file__).resolve().parents[2]
GEN = [sys.executable, "-m", "generator.cli"]


def test_committed_json_schema_is_current() -> None:
    committed = json.loads((REPO / "docs" / "spec.schema.json").read_text())
    assert committed == json_schema(), "run `gen schema --out docs/spec.schema.json`"


def test_json_schema_accepts_the_example_specs() -> None:
    import yaml
    from pydantic import TypeAdapter

    from generator.spec.models import AppSpec, EntitySpec, QueueSpec

    adapter: TypeAdapter[EntitySpec | QueueSpec | AppSpec] = TypeAdapter(
        EntitySpec | QueueSpec | AppSpec
    )
    for path in sorted((REPO / "specs").rglob("*.yaml")):
        adapter.validate_python(yaml.safe_load(path.read_text()))


def test_bad_environment_variable_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "PORT": "abc", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [*GEN, "migrate", "--app", "generated", "current"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "Error: invalid environment variable PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    )


def test_unknown_package_is_explained(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*GEN, "serve", "--app", "nope"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "cannot import the generated package 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr
