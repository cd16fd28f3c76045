"""A random valid spec with ONE mistake: exit 1, every message at file:line:col, no
traceback, nothing written (no output folder, no handlers)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from .builder import build_spec_set
from .specgen import SpecSet, spec_sets

Files = dict[str, Any]


def _entity(files: Files) -> dict[str, Any]:
    """The first entity file's data, creating one if the spec has none."""
    for path in sorted(files):
        if "entity" in files[path]:
            return files[path]  # type: ignore[no-any-return]
    files["entities/zz_book.yaml"] = {"entity": "ZzBook", "fields": {"title": "string"}}
    return files["entities/zz_book.yaml"]  # type: ignore[no-any-return]


def _add_field(files: Files, spec: Any) -> None:
    _entity(files)["fields"]["zz_bad"] = spec


def _add_job(files: Files, job: dict[str, Any]) -> None:
    files["jobs/zz_queue.yaml"] = {"queue": "zz_queue", "jobs": {"zz_job": job}}


def _grant(files: Files, op: str, grant: dict[str, Any]) -> None:
    e = _entity(files)
    e["fields"]["zz_qty"] = {"type": "int", "min": 0, "nullable": True}
    e["permissions"] = {op: [{"roles": ["admin"], **grant}]}


def _fk_clash(e: dict[str, Any]) -> None:
    e.setdefault("relations", {})["zz_rel"] = {"belongs_to": e["entity"], "nullable": True}
    e["fields"]["zz_rel_id"] = "int"


def _page_sizes(files: Files) -> None:
    files["app.yaml"] = {"app": "x", "max_page_size": 5, "default_page_size": 10}


MISTAKES: dict[str, Callable[[Files], None]] = {
    "unknown field type": lambda f: _add_field(f, {"type": "strnig"}),
    "default below min": lambda f: _add_field(f, {"type": "int", "min": 5, "default": 1}),
    "default too long": lambda f: _add_field(f, {"type": "string", "max_length": 2, "default": "abc"}),
    "default off pattern": lambda f: _add_field(f, {"type": "string", "pattern": "^a+$", "default": "b"}),
    "default beyond precision": lambda f: _add_field(
        f, {"type": "decimal", "precision": 3, "scale": 1, "default": "123.4"}),
    "enum default not a value": lambda f: _add_field(f, {"type": "enum", "values": ["a"], "default": "b"}),
    "python keyword entity": lambda f: _entity(f).update(entity="None"),
    "generated type clash": lambda f: f.update({"entities/zz_c.yaml": {
        "entity": _entity(f)["entity"] + "Connection", "fields": {"n": "string"}}}),
    "invalid cron": lambda f: _add_job(f, {"handler": "handlers.q.j", "schedule": {"cron": "* * 32 * *"}}),
    "cron with letters": lambda f: _add_job(f, {"handler": "handlers.q.j", "schedule": {"cron": "a b c d e"}}),
    "keyword in handler": lambda f: _add_job(f, {"handler": "handlers.mail.import"}),
    "preset of the wrong type": lambda f: _grant(f, "create", {"preset": {"zz_qty": "many"}}),
    "row rule value of the wrong type": lambda f: _grant(f, "read", {"row": "zz_qty = 'x'"}),
    "fk column clash": lambda f: _fk_clash(_entity(f)),
    "table name too long": lambda f: _entity(f).update(table="t" * 70),
    "page sizes": _page_sizes,
    "field id not of type id": lambda f: f.update({"entities/zz_i.yaml": {
        "entity": "ZzIdent", "fields": {"id": "string"}}}),
    "unknown relation target": lambda f: _entity(f).setdefault("relations", {}).update(
        zz_rel={"belongs_to": "Nowhere"}),
}  # fmt: skip

_POSITION = re.compile(r"^specs/[^:]+:\d+:\d+: ")


def with_mistake(specs: SpecSet, name: str) -> SpecSet:
    files = copy.deepcopy(specs.files)
    MISTAKES[name](files)
    return SpecSet(files)


@settings(max_examples=3 * settings().max_examples)  # a build only: cheaper than a valid one
@given(specs=spec_sets(max_entities=2, max_queues=1), name=st.sampled_from(sorted(MISTAKES)))
@example(specs=SpecSet({}), name="python keyword entity")
def test_one_mistake_is_refused_at_file_line(
    specs: SpecSet, name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("bad")
    built = build_spec_set(with_mistake(specs, name), workdir)
    assert built.returncode == 1, (name, built.stdout, built.stderr)
    assert "Traceback" not in built.stderr and "internal" not in built.stderr, built.stderr
    *errors, last = built.stderr.splitlines()
    assert last.endswith("nothing was written."), built.stderr
    assert errors and all(_POSITION.match(e) for e in errors), built.stderr
    assert not built.out.exists() and not (workdir / "handlers").exists()
