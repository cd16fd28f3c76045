"""Every random valid spec builds into an app that lints, type-checks, imports, migrates on
SQLite and PostgreSQL and builds its GraphQL schema; no traceback, no internal error.

Budget: ``FLOWGEN_HYPOTHESIS_PROFILE=ci`` (the default under ``CI=true``) runs a few
examples; ``make conformance`` runs the ``conformance`` profile (many more). A failure
found here is kept as an ``@example`` below or a ``tests/cases/`` folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import example, given

from .builder import build_spec_set, check_app
from .specgen import SpecSet, spec_sets

pytestmark = pytest.mark.services

# regression examples: each was a failure of this test once
FIELD_FROM_PK = SpecSet(
    {"entities/a.yaml": {"entity": "Abc", "fields": {"from": {"type": "id"}, "class": "int"}}}
)
JOIN_TO_NAMED_PK = SpecSet(
    {
        "entities/a.yaml": {
            "entity": "Result",
            "fields": {"key": {"type": "id", "kind": "uuid"}, "limit": {"type": "int", "min": 0}},
        },
        "entities/b.yaml": {
            "entity": "Tag",
            "fields": {"order": {"type": "string", "pattern": "^[a-z]+$", "default": "a"}},
            "relations": {"results": {"many_to_many": "Result"}, "group": {"belongs_to": "Result"}},
        },
    }
)
CAMEL_COLLISION = SpecSet(
    {
        "entities/a.yaml": {
            "entity": "Book",
            "fields": {"title2": "string", "title_2": "string", "metadata": "json"},
        }
    }
)
ONLY_A_QUEUE = SpecSet(
    {"jobs/q.yaml": {"queue": "class", "jobs": {"import": {"handler": "handlers.q.import_"}}}}
)
NOTHING_BUT_APP = SpecSet({"app.yaml": {"app": "empty"}})
FOREIGN_KEY_CYCLE = SpecSet(  # PostgreSQL: CREATE TABLE check ... REFERENCES a missing table
    {
        "entities/u.yaml": {
            "entity": "User",
            "fields": {"name": "string"},
            "relations": {"team": {"belongs_to": "Team", "nullable": True}},
        },
        "entities/t.yaml": {
            "entity": "Team",
            "table": "check",
            "fields": {"from": {"type": "id"}},
            "relations": {"owner": {"belongs_to": "User"}, "members": {"has_many": "User"}},
        },
    }
)
SELF_PAIR_BOTH_THROUGH = SpecSet(  # both sides owned the join: two column layouts, one table
    {
        "entities/p.yaml": {
            "entity": "Pwd",
            "table": "group",
            "fields": {
                "from": {"type": "id", "kind": "uuid"},
                "unique": {"type": "int", "unique": True},
            },
            "unique": [["unique"]],
            "relations": {
                "typename": {"many_to_many": "Pwd", "through": "links", "inverse": "back"},
                "back": {"many_to_many": "Pwd", "through": "links", "inverse": "typename"},
            },
        }
    }
)


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``base_url`` (dropped afterwards)."""
    import psycopg2

    name = f"fg_gen_{uuid.uuid4().hex[:12]}"
    dsn = base_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        yield (
            dsn.replace("postgresql://", "postgresql+psycopg2://", 1).rsplit("/", 1)[0] + "/" + name
        )
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@given(specs=spec_sets())
@example(specs=FIELD_FROM_PK)
@example(specs=JOIN_TO_NAMED_PK)
@example(specs=CAMEL_COLLISION)
@example(specs=ONLY_A_QUEUE)
@example(specs=NOTHING_BUT_APP)
@example(specs=SELF_PAIR_BOTH_THROUGH)
@example(specs=FOREIGN_KEY_CYCLE)
def test_valid_spec_builds_a_working_app(
    specs: SpecSet, tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> None:
    workdir = tmp_path_factory.mktemp("gen")
    built = build_spec_set(specs, workdir)
    assert "Traceback" not in built.stderr, built.stderr
    assert "internal" not in built.stderr, built.stderr
    assert built.ok, f"a valid spec was refused:\n{built.stderr}"
    with postgres_database(postgres_url) as pg:
        problems = check_app(built, [f"sqlite:///{Path(workdir) / 'app.db'}", pg])
    assert not problems, "\n".join(problems)
