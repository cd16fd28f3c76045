"""A schema snapshot: the tables the models define, as plain sorted JSON.

It is derived from the *rendered* models (imported from a temporary folder), so the
migrations can never disagree with the models that Alembic's ``check`` compares against.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

SNAPSHOT_FILE = "migrations/schema_snapshot.json"


def load_metadata(files: dict[str, str]) -> sa.MetaData:
    """Import the rendered ``models`` package from memory and return its metadata."""
    return load_models(files)[0]


def load_models(files: dict[str, str]) -> tuple[sa.MetaData, dict[str, str]]:
    """The rendered models' metadata and ``{class name: table name}`` of their entities."""
    pkg = f"_flowgen_models_{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="flowgen-models-") as tmp:
        root = Path(tmp) / pkg
        for rel, text in files.items():
            if rel.startswith("models/") or rel == "__init__.py":
                dest = root / PurePosixPath(rel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(text, encoding="utf-8")
        sys.path.insert(0, tmp)
        try:
            module = importlib.import_module(f"{pkg}.models")
            metadata: sa.MetaData = module.Base.metadata
            classes = {
                m.class_.__name__: str(m.local_table.name) for m in module.Base.registry.mappers
            }
        finally:
            sys.path.remove(tmp)
            for name in [m for m in sys.modules if m == pkg or m.startswith(pkg + ".")]:
                del sys.modules[name]
    return metadata, classes


def read_models(out: Path) -> dict[str, str]:
    """The models package of a previous build in ``out`` as ``{path: text}`` (may be empty)."""
    files = {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted((out / "models").glob("*.py"))
    }
    if files and (out / "__init__.py").exists():
        files["__init__.py"] = (out / "__init__.py").read_text(encoding="utf-8")
    return files


def type_sql(col: sa.Column[Any]) -> str:
    """The column's type as PostgreSQL spells it (``VARCHAR(80)``, ``exam_status``)."""
    return str(col.type.compile(dialect=postgresql.dialect()))


def _type(col: sa.Column[Any]) -> dict[str, Any]:
    t = col.type
    out: dict[str, Any] = {"sql": type_sql(col)}
    if isinstance(t, sa.Enum):
        out["enum"] = t.name
        out["values"] = list(t.enums)
    return out


def column_default(col: sa.Column[Any]) -> str | None:
    """The server default as SQL text (``'draft'``, ``CURRENT_TIMESTAMP``) or None."""
    sd = col.server_default
    if sd is None:
        return None
    arg = getattr(sd, "arg", None)
    return str(arg.compile(dialect=postgresql.dialect())) if arg is not None else str(sd)


def snapshot(metadata: sa.MetaData) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for table in metadata.sorted_tables:
        cols = {
            c.name: {
                "type": _type(c),
                "nullable": bool(c.nullable),
                "primary_key": bool(c.primary_key),
                "default": column_default(c),
                "foreign_keys": sorted(
                    f"{fk.target_fullname}:{fk.ondelete}" for fk in c.foreign_keys
                ),
                **({"comment": c.comment} if c.comment else {}),  # a description change
            }
            for c in table.columns
        }
        constraints = sorted(str(c.name) for c in table.constraints if c.name is not None)
        indexes = sorted(
            f"{i.name}:{','.join(c.name for c in i.columns)}:{bool(i.unique)}"
            for i in table.indexes
        )
        tables[table.name] = {"columns": cols, "constraints": constraints, "indexes": indexes}
        if table.dialect_options["sqlite"]["autoincrement"]:  # only when on: older snapshots match
            tables[table.name]["sqlite_autoincrement"] = True
    return {"tables": dict(sorted(tables.items()))}


def dumps(snap: dict[str, Any], marker_line: str) -> str:
    body = json.dumps(snap, indent=2, sort_keys=True)
    return '{"//": ' + json.dumps(marker_line) + ",\n" + body[1:].lstrip("\n") + "\n"


def loads(text: str) -> dict[str, Any]:
    data = json.loads(text)
    data.pop("//", None)
    return data
