"""Build a :class:`~tests.generative.specgen.SpecSet` into an app, and check the app.

Reusable by any test that needs a built app from random specs (the HTTP oracle tests too)::

    built = build_spec_set(specs, tmp_path)        # writes specs/, runs `gen build`
    assert built.ok, built.stderr
    check_app(built, database_urls=[...])          # ruff, mypy, import, migrate, schema

Layout under ``workdir``: ``specs/`` (the YAML), ``app/`` (the generated package, import
name ``app``) and ``handlers/`` (the stubs the build scaffolds).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .specgen import SpecSet

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PACKAGE = "app"
MYPY_CACHE = str(Path(tempfile.gettempdir()) / "flowgen-generative-mypy")


@dataclass
class Built:
    workdir: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def out(self) -> Path:
        return self.workdir / PACKAGE

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment to run the built app: it, its handlers and this checkout importable."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


def run(
    args: list[str], cwd: Path, *, timeout: int = 300, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env(cwd, **extra), capture_output=True, text=True, check=False,
        timeout=timeout,
    )  # fmt: skip


def write_specs(specs: SpecSet, workdir: Path) -> Path:
    """Write ``specs`` to ``workdir/specs`` (a fresh folder) and return it."""
    return specs.write(workdir / "specs")


def build_specs(workdir: Path, *extra: str) -> Built:
    """``gen build specs --out app`` run as a real process in ``workdir``."""
    proc = run(
        [sys.executable, "-m", "generator.cli", "build", "specs", "--out", PACKAGE, *extra],
        cwd=workdir,
    )
    return Built(workdir, proc.returncode, proc.stdout, proc.stderr)


def build_spec_set(specs: SpecSet, workdir: Path) -> Built:
    """Write the specs and build them; the app is in ``built.out`` when ``built.ok``."""
    write_specs(specs, workdir)
    return build_specs(workdir)


_CHECK = """
import asyncio, sys
import sqlalchemy as sa
from flowgen_runtime.migrate import run
from {package}.registry import REGISTRY

schema = REGISTRY.schema  # the executable GraphQL schema
assert "Mutation" not in str(schema.mutation_type) or schema.mutation_type.fields
for url in sys.argv[1:]:
    assert run(REGISTRY, "upgrade", url=url) == 0, url
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    missing = set(REGISTRY.metadata.tables) - tables
    assert not missing, (url, missing)
    assert run(REGISTRY, "downgrade", "base", url=url) == 0, url
import {package}.server, {package}.worker  # the entry points import
print("ok")
"""


def check_app(built: Built, database_urls: list[str]) -> list[str]:
    """Run ruff and mypy over the app, import it, migrate every database up and down and
    build its GraphQL schema. Returns the problems found (empty: all good)."""
    problems = []
    code = [PACKAGE] + (["handlers"] if (built.workdir / "handlers").is_dir() else [])
    steps = [
        ("ruff", [str(BIN / "ruff"), "check", "--no-cache", "--isolated", "--select", "E9,F", *code]),
        # one cache for every example: the runtime is analysed once, each app in seconds
        ("mypy", [str(BIN / "mypy"), "--ignore-missing-imports", "--cache-dir", MYPY_CACHE, *code]),
        ("import+migrate", [sys.executable, "-c", _CHECK.format(package=PACKAGE), *database_urls]),
    ]  # fmt: skip
    for name, args in steps:
        proc = run(args, cwd=built.workdir)
        if proc.returncode != 0:
            problems.append(f"{name} failed:\n{proc.stdout}\n{proc.stderr}")
    return problems
