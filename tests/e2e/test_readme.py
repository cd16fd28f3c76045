"""Every ```graphql block of the README runs, in order, without errors on a fresh app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import REPO, App, embedded

pytestmark = pytest.mark.e2e

BLOCKS = re.findall(r"```graphql\n(.*?)```", (REPO / "README.md").read_text(), re.S)


@pytest.fixture(scope="module")
def fresh_app(example_root: Path) -> Iterator[App]:
    with embedded(example_root, ".flowgen-readme") as app:
        yield app


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 8


def test_readme_examples_run(fresh_app: App) -> None:
    results = []
    for block in BLOCKS:
        if block.lstrip().startswith("query { jobStatus"):
            fresh_app.wait_job("user", "u1-welcome-1")
        results.append(fresh_app.data(block))
    assert results[0]["createUser"]["role"] == "TEACHER"
    assert results[1]["createExam"]["questions"]["totalCount"] == 2
    assert results[4]["jobStatus"]["state"] == "completed"
    assert results[5]["exams"] == {"totalCount": 1, "nodes": [{"slug": "algebra"}]}
