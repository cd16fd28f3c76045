"""The runtime's layout: folders by concern, the import rules of docs/architecture.md,
no import cycle (``TYPE_CHECKING`` imports included), every module importable."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "flowgen_runtime"
FOLDERS = ("core", "auth", "data", "graphql", "jobs")
JOBS_ENGINE = {"defs", "enqueue", "status", "monitor", "runner", "heartbeat", "logstream"}
JOBS_STORE = {"outbox", "outbox_store"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(RUNTIME.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(RUNTIME.rglob("*.py"))}


def _targets(node: ast.stmt, modules: dict[str, Path], where: Path) -> set[str]:
    """Runtime modules one import statement names."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    if not isinstance(node, ast.ImportFrom):
        return set()
    assert not node.level, f"{where}: relative import; the runtime imports absolutely"
    if node.module not in modules:
        return set()
    named = {f"{node.module}.{a.name}" for a in node.names}  # `from pkg import module`
    return {node.module} | (named & modules.keys())


def _with_parents(own: str, found: set[str]) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first, unless the importer is
    inside them (then they are already being imported)."""
    out = set(found)
    for name in found:
        parts = name.split(".")
        for n in range(2, len(parts)):
            parent = ".".join(parts[:n])
            if not (own == parent or own.startswith(parent + ".")):
                out.add(parent)
    out.discard("flowgen_runtime")
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Runtime modules ``path`` imports at module level (``TYPE_CHECKING`` blocks too)."""
    found: set[str] = set()
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If):  # TYPE_CHECKING and other guards
            pending += node.body + node.orelse
        else:
            found |= _targets(node, modules, path)
    return _with_parents(_module_name(path), found)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _allowed(module: str) -> set[str] | None:
    """Folders ``module`` may import (None: any)."""
    folder = _folder(module)
    leaf = module.split(".")[2] if module.count(".") >= 2 else ""
    if folder == "core":
        return {"core"}
    if folder == "auth":
        return {"core", "auth"}
    if folder == "data":
        return {"core", "auth", "data", "jobs"}
    if folder == "jobs" and (leaf in JOBS_ENGINE or leaf == "bullmq_compat" or leaf == ""):
        return {"core", "jobs"}
    return None


def test_no_top_level_module_but_the_front_and_migrate() -> None:
    top = sorted(p.name for p in RUNTIME.glob("*.py"))
    assert top == ["__init__.py", "migrate.py"]
    assert sorted(
        p.name for p in RUNTIME.iterdir() if p.is_dir() and p.name != "__pycache__"
    ) == sorted(FOLDERS)


def test_every_folder_says_what_lives_there_and_what_it_may_import() -> None:
    for folder in FOLDERS:
        doc = ast.get_docstring(ast.parse((RUNTIME / folder / "__init__.py").read_text()))
        assert doc and "import" in doc.lower(), folder


def test_import_rules() -> None:
    broken = []
    for module, imports in _graph().items():
        allowed = _allowed(module)
        if allowed is None:
            continue
        for target in imports:
            if _folder(target) not in allowed:
                broken.append(f"{module} -> {target}")
            elif _folder(module) == "data" and _folder(target) == "jobs":
                leaf = target.split(".")[2] if target.count(".") >= 2 else ""
                if leaf not in JOBS_ENGINE | JOBS_STORE | {"", "bullmq_compat"}:
                    broken.append(f"{module} -> {target} (data uses the jobs engine only)")
            elif allowed == {"core", "jobs"} and _folder(target) == "jobs":
                leaf = target.split(".")[2] if target.count(".") >= 2 else ""
                if leaf not in JOBS_ENGINE | {"", "bullmq_compat"}:
                    broken.append(f"{module} -> {target} (the jobs engine imports no face)")
    assert not broken, "\n".join(sorted(broken))


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_the_front_module_exports_what_user_code_uses() -> None:
    import flowgen_runtime

    assert flowgen_runtime.__all__ == sorted(flowgen_runtime._EXPORTS)
    for name in flowgen_runtime.__all__:
        assert getattr(flowgen_runtime, name) is not None, name
    with pytest.raises(AttributeError):
        _ = flowgen_runtime.no_such_name  # type: ignore[attr-defined]
    handlers = Path(__file__).resolve().parents[2] / "handlers"
    for path in handlers.glob("*.py"):  # the example app's user code: the front only
        for line in path.read_text().splitlines():
            assert not line.startswith("from flowgen_runtime."), f"{path.name}: {line}"


PRIVATE = ("._writer", "_bind_processors", "._has_batch", "_ariadne_alias_resolver", "__closure__")
"""Private attributes of redis-py, SQLAlchemy, Alembic and Ariadne this code once used."""


def test_library_internals_only_in_the_compat_modules() -> None:
    repo = RUNTIME.parent
    found = []
    for path in [*RUNTIME.rglob("*.py"), *(repo / "generator").rglob("*.py")]:
        text = path.read_text()
        compat = "bullmq_compat" in path.parts
        for needle in PRIVATE:
            if needle in text and not compat:
                found.append(f"{path.relative_to(repo)}: {needle}")
        if not compat and ("from bullmq." in text or "import bullmq." in text):
            found.append(f"{path.relative_to(repo)}: a bullmq submodule (internals)")
    assert not found, "\n".join(found)
