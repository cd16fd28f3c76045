"""Fixtures for the generator tests; ``--update-golden`` rewrites the case folders' expectations.

    pytest tests/generator                  # compare every case with its committed expectation
    pytest tests/generator --update-golden  # regenerate expected/, expected_handlers/, errors.txt

Without the flag no test ever writes into ``tests/cases``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A fresh output folder named ``generated``; handlers get scaffolded beside it."""
    return tmp_path / "generated"
