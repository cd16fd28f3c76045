"""Generative evolution: random specs, random edits, random rows, on PostgreSQL and SQLite.

Each example starts from a random valid spec (:mod:`.evolution_specs`) and applies a random
sequence of edits. After each edit: build (destructive changes allowed, but an edit that
loses nothing must not be reported as destructive), upgrade both databases, ``migrate
check`` clean, every row written so far still there as the edit must leave it, and the
schema equal to a fresh database built from the same spec alone (SQLAlchemy inspection:
tables, columns, types, nullability, defaults, comments, primary keys, foreign keys, unique
and check constraints, indexes; sequences and enum types on PostgreSQL). Then rows are
inserted for the next edit. At the end every database is emptied, downgraded to base and
upgraded again, and compared once more.

Budget: the explicit ``@example`` cases below (the tours of every kind of edit, 44 edits,
about three minutes on two cores; add each failure found) plus ``EVOLUTION_EXAMPLES``
random examples of ``EVOLUTION_STEPS`` edits (CI default 1 x 6, half a minute);
``EVOLUTION_TOURS=0`` runs the random ones alone, ``EVOLUTION_SHRINK=1`` shrinks a failure.
``make evolution`` runs a larger budget. The builds and migrations run in this process,
through the functions ``gen build`` and ``gen migrate`` call (processes would cost
a second of imports each); ``tests/migrations`` covers the CLI itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from tests.e2e.harness import fresh_database
from tests.migrations.evolve import Project, describe

from .evolution_specs import Evolution

EXAMPLES = int(os.environ.get("EVOLUTION_EXAMPLES", "1"))
STEPS = int(os.environ.get("EVOLUTION_STEPS", "6"))
SHRINK = os.environ.get("EVOLUTION_SHRINK", "") == "1"
TOURS_TOO = os.environ.get("EVOLUTION_TOURS", "1") == "1"  # 0: the random examples alone

# Four edit lists that between them make every kind of edit and the changes of issue #19:
# a many-to-many (with and without `through`) whose target is renamed, enum values added and
# dropped, int -> string and int -> narrower decimal, a string narrowed, a unique added, two
# entities that belong to each other (found with a search over seeds; see the note in each).
TOURS = [
    (42, [1485, 3864, 63924, 20302, 44996, 24512, 56936, 3793, 58034, 38592, 25874, 44375]),
    (20, [4320, 65, 16953, 41512, 18470, 30377, 64710, 49397, 48969, 38150]),
    (1, [58340, 44603, 10604, 13429, 6596, 18569, 14764, 45190, 1491, 42964]),
    (3, [61126, 32514, 35065, 7815, 7131, 45821, 46578, 7294, 6917, 32415, 19082, 1262]),
]


@dataclass
class Databases:
    """The evolving databases and the fresh ones (rebuilt from scratch at every step)."""

    evolving: dict[str, str]
    fresh: dict[str, str]


@pytest.fixture(scope="module")
def pg_pair(postgres_url: str) -> Iterator[tuple[str, str]]:
    with (
        fresh_database(postgres_url, "flowgen_gen_evo") as a,
        fresh_database(postgres_url, "flowgen_gen_fresh") as b,
    ):
        yield Project.url_for(a), Project.url_for(b)


def _reset(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        engine.dispose()


def _forget(package: str) -> None:
    """Drop an imported generated package: the next migration imports its new models."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


def build(root: Path, out: str, evo: Evolution) -> Any:
    from generator.pipeline import build as run_build

    Project(root).write(evo.files())
    return run_build(root / "specs", root / out, allow_destructive=True)


def migrate(root: Path, out: str, url: str, action: str, revision: str | None = None) -> str:
    """``gen migrate ACTION`` in this process; raises with its one-paragraph output."""
    from flowgen_runtime.migrate import run

    _forget(out)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    registry = SimpleNamespace(migrations_dir=root / out / "migrations")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = run(registry, action, revision, url=url)
    assert code == 0, f"migrate {action} on {url.split(':')[0]}: {buf.getvalue()}"
    return buf.getvalue()


def _norm(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind in ("int", "decimal"):
        return Decimal(str(value))
    return value


def check_rows(url: str, evo: Evolution, app: Any) -> None:
    """Every row and link written so far holds what the edits must have left in it."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for entity in app.entities:
                expected = evo.rows[entity.name]
                spec = evo.entities[entity.name]
                cols = {fn: (entity.field(fn).column, f.type) for fn, f in spec.fields.items()}
                for rn, r in spec.relations.items():
                    if r.kind == "belongs_to":
                        rel = next(x for x in entity.relations if x.name == rn)
                        cols[rn] = (entity.field(str(rel.fk)).column, "int")
                names = ", ".join(c for c, _ in cols.values())
                got = {
                    row[0]: {k: _norm(v, cols[k][1]) for k, v in zip(cols, row[1:], strict=True)}
                    for row in conn.exec_driver_sql(
                        f"SELECT id{', ' if names else ''}{names} FROM {entity.table}"
                    )
                }
                want = {
                    i: {k: _norm(row[k], cols[k][1]) for k in cols} for i, row in expected.items()
                }
                assert got == want, f"{url.split(':')[0]}: rows of {entity.table}"
                for rel in entity.relations:
                    if (entity.name, rel.name) in evo.links and rel.join is not None:
                        pairs = set(
                            conn.exec_driver_sql(
                                f"SELECT {rel.join_self_column}, {rel.join_target_column} "
                                f"FROM {rel.join.name}"
                            )
                        )
                        assert pairs == evo.links[(entity.name, rel.name)], rel.join.name
    finally:
        engine.dispose()


def insert_rows(urls: list[str], evo: Evolution, app: Any, rng: random.Random) -> None:
    rows, links = evo.new_rows(rng)
    by_name = {e.name: e for e in app.entities}
    for url in urls:
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                for en, items in rows.items():
                    entity = by_name[en]
                    spec = evo.entities[en]
                    for row in items:
                        values = {"id": row["id"]}
                        for k, v in row.items():
                            if k in spec.fields:
                                values[entity.field(k).column] = v
                            elif k != "id":
                                rel = next(x for x in entity.relations if x.name == k)
                                values[entity.field(str(rel.fk)).column] = v
                        values = {  # SQLite's driver takes no Decimal; both take its text
                            k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()
                        }
                        table = sa.table(entity.table, *[sa.column(c) for c in values])
                        conn.execute(sa.insert(table).values(values))
                for en, rn, a, b in links:
                    rel = next(x for x in by_name[en].relations if x.name == rn)
                    assert rel.join is not None
                    conn.execute(
                        sa.insert(
                            sa.table(
                                rel.join.name,
                                sa.column(str(rel.join_self_column)),
                                sa.column(str(rel.join_target_column)),
                            )
                        ).values({rel.join_self_column: a, rel.join_target_column: b})
                    )
        finally:
            engine.dispose()


def same_as_fresh(root: Path, evo: Evolution, dbs: Databases) -> None:
    fresh = root / "fresh"
    if fresh.exists():
        shutil.rmtree(fresh)
    fresh.mkdir()
    build(fresh, "fresh_app", evo)
    for name, url in dbs.fresh.items():
        _reset(url)
        if url.startswith("sqlite"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        migrate(fresh, "fresh_app", url, "upgrade")
        evolved, built = describe(dbs.evolving[name]), describe(url)
        assert evolved == built, f"{name}: schema differs: {_differences(evolved, built)}"


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two described schemas differ, as ``path: evolved != fresh`` lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            line
            for k in sorted(set(a) | set(b), key=str)
            for line in _differences(a.get(k), b.get(k), f"{path}/{k}")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def evolve(root: Path, seed: int, choices: list[int], dbs: Databases) -> None:
    evo = Evolution.start(seed)
    rng = random.Random(seed)
    result = build(root, "app", evo)
    for url in dbs.evolving.values():
        migrate(root, "app", url, "upgrade")
    for step, choice in enumerate(choices):
        insert_rows(list(dbs.evolving.values()), evo, result.app, rng)
        evo.settle()
        done = evo.edit(choice)
        note(f"step {step}: {done}")
        result = build(root, "app", evo)
        lost = result.migration.destructive
        assert evo.destructive or not lost, f"{done}: wrongly destructive: {lost}"
        for url in dbs.evolving.values():
            migrate(root, "app", url, "upgrade")
            migrate(root, "app", url, "check")
            check_rows(url, evo, result.app)
        same_as_fresh(root, evo, dbs)
    for url in dbs.evolving.values():
        _empty(url)  # rows written after a widening may not fit the narrower past
        migrate(root, "app", url, "downgrade", "base")
        migrate(root, "app", url, "upgrade")
        migrate(root, "app", url, "check")
    same_as_fresh(root, evo, dbs)


def _empty(url: str) -> None:
    """Delete every row (join tables first: the foreign keys)."""
    engine = sa.create_engine(url)
    try:
        md = sa.MetaData()
        md.reflect(engine)
        with engine.begin() as conn:
            for table in reversed(md.sorted_tables):
                if table.name != "alembic_version":
                    conn.execute(table.delete())
    finally:
        engine.dispose()


@settings(
    max_examples=max(EXAMPLES, 1),
    deadline=None,
    database=None,
    phases=[
        *([Phase.explicit] if TOURS_TOO else []),
        *([Phase.generate] if EXAMPLES else []),
        *([Phase.shrink] if SHRINK else []),
    ],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    choices=st.lists(st.integers(0, 2**16), min_size=STEPS, max_size=STEPS),
)
@example(seed=TOURS[0][0], choices=TOURS[0][1])
@example(seed=TOURS[1][0], choices=TOURS[1][1])
@example(seed=TOURS[2][0], choices=TOURS[2][1])
@example(seed=TOURS[3][0], choices=TOURS[3][1])
# found: a description (column comment) change made no revision: snapshots had no comments
@example(seed=223, choices=[7996, 10870, 55, 5617, 634, 462])
def test_random_evolution(
    seed: int, choices: list[int], pg_pair: tuple[str, str], tmp_path_factory: Any
) -> None:
    root = tmp_path_factory.mktemp("evo")
    dbs = Databases(
        evolving={"sqlite": f"sqlite:///{root / 'evo.db'}", "postgres": pg_pair[0]},
        fresh={"sqlite": f"sqlite:///{root / 'fresh.db'}", "postgres": pg_pair[1]},
    )
    _reset(pg_pair[0])
    with _no_bytecode():
        evolve(root, seed, choices, dbs)


@contextlib.contextmanager
def _no_bytecode() -> Iterator[None]:
    """Models rewritten within a second keep their size: stale .pyc files would be used."""
    was = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = was
