"""Where the compiler finds its templates: the installed package, else a source checkout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import resources

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh() -> Iterator[None]:
    resources.templates_dir.cache_clear()
    yield
    resources.templates_dir.cache_clear()


def test_the_installed_package_holds_the_templates(fresh: None) -> None:
    assert (resources.templates_dir() / "server.py.j2").is_file()


def test_a_checkout_without_the_package_uses_its_templates_folder(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editable install made before templates/ became ``generator.templates`` (or plain
    PYTHONPATH) still builds from a checkout: the failure seen with a stale .venv."""

    def missing(name: str) -> None:
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(resources.resources, "files", missing)
    assert resources.templates_dir() == REPO / "templates"
