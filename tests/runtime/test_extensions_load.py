"""Loading an app's own code: hooks by convention and by dotted path, computed fields,
bindables, and clear errors for paths that do not import."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from flowgen_runtime import Extensions
from flowgen_runtime.data.hooks import EntityHooks
from flowgen_runtime.graphql.extensions import load
from flowgen_runtime.jobs.runner import HandlerImportError


@pytest.fixture
def package(tmp_path: Path) -> Iterator[str]:
    name = f"ext_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    (root / "schema").mkdir(parents=True)
    (root / "__init__.py").write_text("BINDABLES = ['user-bindable']\n")
    (root / "thing.py").write_text(
        "async def before_create(event):\n    event.data['seen'] = 'convention'\n\n"
        "def extra(event):\n    event.data['extra'] = 'dotted'\n\n"
        "def score(row, info):\n    return 42\n\n"
        "def not_a_hook(event):\n    raise AssertionError\n"
    )
    sys.path.insert(0, str(tmp_path))
    yield name
    sys.path.remove(str(tmp_path))
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]


def _services() -> dict[str, SimpleNamespace]:
    return {
        "Thing": SimpleNamespace(hooks=EntityHooks()),
        "Other": SimpleNamespace(hooks=EntityHooks()),
    }


async def test_convention_and_dotted_hooks_computed_and_bindables(package: str) -> None:
    services = _services()
    ext = Extensions(
        package=package,
        modules={"Thing": "thing", "Other": "other"},  # no other.py: nothing for Other
        hooks={"Thing": {"before_create": (f"{package}.thing.extra",)}},
        computed={("Thing", "score"): f"{package}.thing.score"},
    )
    loaded = load(ext, services)
    thing = services["Thing"].hooks
    assert [h.__name__ for h in thing.found["before_create"]] == ["before_create", "extra"]
    assert not services["Other"].hooks and not thing.has("after_create")
    event = SimpleNamespace(data={})
    await thing.run("before_create", event)  # type: ignore[arg-type]
    assert event.data == {"seen": "convention", "extra": "dotted"}
    computed, user = loaded.bindables
    assert computed.name == "Thing" and user == "user-bindable"
    load(ext, services)  # idempotent: the same functions are not added twice
    assert len(thing.found["before_create"]) == 2


def test_a_path_that_does_not_import_is_an_error_naming_it(package: str) -> None:
    ext = Extensions(package=package, modules={"Thing": "thing"},
                     hooks={"Thing": {"after_delete": (f"{package}.thing.missing",)}})  # fmt: skip
    with pytest.raises(
        HandlerImportError,
        match=r"missing.*Thing hook after_delete|Thing hook after_delete.*missing",
    ):
        load(ext, _services())
    with pytest.raises(HandlerImportError, match="computed field Thing.score"):
        load(Extensions(computed={("Thing", "score"): "nowhere.at.all"}), _services())


def test_no_package_is_no_extensions() -> None:
    loaded = load(
        Extensions(package="no_such_package_here", modules={"Thing": "thing"}), _services()
    )
    assert loaded.bindables == [] and not any(loaded.hooks.values())
