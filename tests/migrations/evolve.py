"""Helpers of the evolution tests: a spec folder built and migrated as processes, as a user
does, on several databases at once, and a database's schema as comparable plain data.

>>> Project.url_for("postgresql://u@h:5432/db")
'postgresql+psycopg2://u@h:5432/db'
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.e2e.harness import GEN, child_env

# Alembic's own table, and what a failed SQLite batch rebuild leaves behind (checked apart)
IGNORED_TABLES = {"alembic_version"}


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class Project:
    """A spec folder at ``root`` built into ``root/generated``; ``urls`` name the databases
    it is migrated on (``{"sqlite": ..., "postgres": ...}``, SQLAlchemy sync URLs)."""

    root: Path
    urls: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def url_for(url: str) -> str:
        return url.replace("postgresql://", "postgresql+psycopg2://", 1)

    def write(self, files: dict[str, str]) -> None:
        """Replace the specs with ``files`` (``{relative path: YAML text}``)."""
        specs = self.root / "specs"
        if specs.exists():
            shutil.rmtree(specs)
        for rel, text in files.items():
            path = specs / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def build(self, *extra: str) -> Result:
        cmd = [*GEN, "build", "specs", "--out", "generated", *extra]
        return _run([cmd], self.root, [child_env({})])[0]

    def migrate(self, *args: str, only: str | None = None) -> dict[str, Result]:
        """``gen migrate ARGS`` on every database at once (or on ``only``)."""
        names = [n for n in self.urls if only in (None, n)]
        envs = [child_env({"DATABASE_URL": self.urls[n]}) for n in names]
        cmd = [*GEN, "migrate", *args]
        return dict(zip(names, _run([cmd] * len(names), self.root, envs), strict=True))

    def migrate_ok(self, *args: str, only: str | None = None) -> dict[str, Result]:
        results = self.migrate(*args, only=only)
        for name, r in results.items():
            assert r.code == 0, f"gen migrate {' '.join(args)} on {name} failed:\n{r.text}"
        return results

    def revisions(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "generated/migrations/versions").glob("0*.py"))


def _run(cmds: list[list[str]], cwd: Path, envs: list[dict[str, str]]) -> list[Result]:
    """Run the commands side by side (the databases are independent) and wait for all."""
    procs = [
        subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for cmd, env in zip(cmds, envs, strict=True)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        out.append(Result(p.returncode, stdout, stderr))
    return out


def describe(url: str) -> dict[str, Any]:
    """The schema of the database at ``url`` as sorted plain data: per table its columns
    (type, nullability, default, comment), primary key, foreign keys, unique and check constraints,
    indexes; and on PostgreSQL its sequences and enum types. Column order is left out: a
    column added later comes last, where a fresh table has it in spec order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return _describe(conn)
    finally:
        engine.dispose()


def _describe(conn: sa.Connection) -> dict[str, Any]:
    insp = sa.inspect(conn)
    pg = conn.dialect.name == "postgresql"
    tables: dict[str, Any] = {}
    for name in sorted(set(insp.get_table_names()) - IGNORED_TABLES):
        cols = {
            c["name"]: (
                _type(c["type"], conn),
                bool(c["nullable"]),
                _default(c.get("default")),
                c.get("comment"),
            )
            for c in insp.get_columns(name)
        }
        pk = insp.get_pk_constraint(name)
        tables[name] = {
            "columns": dict(sorted(cols.items())),
            "primary_key": (pk.get("name"), sorted(pk["constrained_columns"])),
            "foreign_keys": sorted(
                (
                    str(fk.get("name")),
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    str((fk.get("options") or {}).get("ondelete", "")).upper(),
                )
                for fk in insp.get_foreign_keys(name)
            ),
            "unique": sorted(
                (str(u["name"]), tuple(u["column_names"]))
                for u in insp.get_unique_constraints(name)
            ),
            "checks": sorted(
                (str(c["name"]), " ".join(str(c["sqltext"]).split()))
                for c in insp.get_check_constraints(name)
            ),
            "indexes": sorted(
                (str(i["name"]), tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(name)
                if not i.get("duplicates_constraint")
            ),
        }
    out: dict[str, Any] = {"tables": tables}
    if pg:
        out["sequences"] = sorted(insp.get_sequence_names())
        out["enums"] = sorted(
            (e["name"], tuple(e["labels"]))
            for e in insp.get_enums()  # type: ignore[attr-defined]
        )
    return out


def _type(t: Any, conn: sa.Connection) -> str:
    return str(t.compile(dialect=conn.dialect))


def _default(value: Any) -> str | None:
    return None if value is None else " ".join(str(value).split())


def leftovers(url: str) -> list[str]:
    """Tables a failed SQLite batch rebuild left behind (``_alembic_tmp_*``)."""
    engine = sa.create_engine(url)
    try:
        return [t for t in sa.inspect(engine).get_table_names() if t.startswith("_alembic_tmp")]
    finally:
        engine.dispose()


def execute(url: str, *statements: str | tuple[str, dict[str, Any]]) -> list[Any]:
    """Run statements in one transaction; the rows of each (empty for writes)."""
    engine = sa.create_engine(url)
    found: list[Any] = []
    try:
        with engine.begin() as conn:
            for st in statements:
                sql, params = (st, {}) if isinstance(st, str) else st
                res = conn.execute(sa.text(sql), params)
                found.append([tuple(r) for r in res] if res.returns_rows else [])
    finally:
        engine.dispose()
    return found
