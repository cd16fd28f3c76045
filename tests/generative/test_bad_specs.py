"""A valid spec with ONE mistake: exit 1, every message at file:line:col, no traceback,
nothing written (no output folder, no handlers)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .builder import build_spec_set
from .specgen import SpecSet

BASE: dict[str, Any] = {
    "entity": "Book",
    "fields": {"title": {"type": "string", "max_length": 20}, "qty": {"type": "int", "min": 0}},
}

MISTAKES: dict[str, Any] = {
    "unknown type": lambda d: d["fields"].update(x={"type": "strnig"}),
    "default below min": lambda d: d["fields"]["qty"].update(default=-1),
    "default too long": lambda d: d["fields"]["title"].update(default="x" * 30),
    "entity keyword": lambda d: d.update(entity="None"),
    "generated type clash": lambda d: d.update(entity="BookConnection"),
    "bad cron": lambda d: d.update(_queue={"queue": "q", "jobs": {"j": {
        "handler": "handlers.q.j", "schedule": {"cron": "* * 32 * *"}}}}),
    "keyword handler": lambda d: d.update(_queue={"queue": "q", "jobs": {"j": {
        "handler": "handlers.q.import"}}}),
    "bad preset": lambda d: d.update(permissions={"create": [{"roles": ["a"], "preset": {"qty": "x"}}]}),
    "bad rule value": lambda d: d.update(permissions={"read": [{"roles": ["a"], "row": "qty = 'x'"}]}),
    "fk clash": lambda d: d.update(relations={"author": {"belongs_to": "Book", "nullable": True}},
                                   fields={**d["fields"], "author_id": "int"}),
    "long table": lambda d: d.update(table="t" * 70),
    "page sizes": lambda d: d.update(_app={"app": "x", "max_page_size": 5, "default_page_size": 10}),
}  # fmt: skip

_POSITION = re.compile(r"^specs/[^:]+:\d+:\d+: ")


def _one_mistake(name: str) -> SpecSet:
    data: dict[str, Any] = {**BASE, "fields": {k: dict(v) for k, v in BASE["fields"].items()}}
    MISTAKES[name](data)
    files = {"entities/book.yaml": data}
    for key, path in (("_queue", "jobs/q.yaml"), ("_app", "app.yaml")):
        if key in data:
            files[path] = data.pop(key)
    return SpecSet(files)


@given(name=st.sampled_from(sorted(MISTAKES)))
def test_one_mistake_is_one_positioned_error(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("bad")
    built = build_spec_set(_one_mistake(name), workdir)
    assert built.returncode == 1, (name, built.stdout, built.stderr)
    assert "Traceback" not in built.stderr and "internal" not in built.stderr, built.stderr
    *errors, last = built.stderr.splitlines()
    assert last.endswith("nothing was written."), built.stderr
    assert errors and all(_POSITION.match(e) for e in errors), built.stderr
    assert not built.out.exists() and not (workdir / "handlers").exists()
