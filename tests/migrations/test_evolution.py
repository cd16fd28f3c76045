"""Spec evolution end to end, on SQLite and on PostgreSQL.

v1 -> build -> migrate -> rows written through the HTTP API -> v2 (a new entity, a field
with a default, a relation, a many-to-many, a table rename and a column rename via
``renamed_from``, a widened type, a new enum value, a new index) -> build -> migrate ->
the old rows are intact and the new API works -> v3 drops a field: refused without
``--allow-destructive``, applied with it. ``alembic check`` is clean after every step and
the chain downgrades back to v1 and to an empty database.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.harness import GEN, App, child_env, drop_keys, run

HERE = Path(__file__).resolve().parent

USER_Q = "query($id: ID!) { user(id: $id) { email fullName role } }"
ARTICLE_Q = "query($id: ID!) { article(id: $id) { title views author { fullName } } }"


def _build(root: Path, version: str, *extra: str) -> str:
    if (root / "specs").exists():
        shutil.rmtree(root / "specs")
    shutil.copytree(HERE / f"specs_{version}", root / "specs")
    return run([*GEN, "build", "specs", "--out", "generated", *extra], cwd=root, env=child_env({}))


def _sync_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[App, str]]:
    if request.param == "sqlite":
        from flowgen_runtime.core.redis import stop_embedded_redis

        data = tmp_path / ".flowgen"
        url = f"sqlite:///{tmp_path / 'app.db'}"
        app = App(tmp_path, child_env({"DATABASE_URL": url, "FLOWGEN_DATA_DIR": str(data)}))
        yield app, url
        app.stop()
        stop_embedded_redis(str(data))
        return
    pg = request.getfixturevalue("pg_database")
    redis_url = request.getfixturevalue("redis_url")
    prefix = f"evo{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": pg, "REDIS_URL": redis_url, "CACHE_PREFIX": prefix}
    app = App(tmp_path, child_env({**env, "FLOWGEN_DATA_DIR": str(tmp_path / ".fg")}))
    yield app, _sync_url(pg)
    app.stop()
    drop_keys(redis_url, prefix)


def _columns(url: str, table: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns(table)]
    finally:
        engine.dispose()


def _revisions(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "generated/migrations/versions").glob("0*.py"))


def _restart(app: App) -> None:
    app.stop()
    app.procs.clear()
    app.logs.clear()
    app.start(worker=False)


def test_v1_to_v2_to_v3_and_back(backend: tuple[App, str]) -> None:
    app, url = backend
    root = app.root
    _build(root, "v1")
    app.migrate("upgrade")
    app.migrate("check")
    app.start(worker=False)
    ada = app.data(
        'mutation { createUser(input: {email: "ada@x.io", name: "Ada", role: TEACHER}) { id } }'
    )["createUser"]["id"]
    post = app.data(
        'mutation($a: ID!) { createPost(input: {title: "Hello", authorId: $a}) { id } }',
        {"a": ada},
    )["createPost"]["id"]

    out = _build(root, "v2")
    assert "rename table posts to articles" in out and "rename column users.name" in out
    app.migrate("upgrade")
    app.migrate("check")
    _restart(app)
    assert app.data(USER_Q, {"id": ada})["user"] == {
        "email": "ada@x.io",
        "fullName": "Ada",
        "role": "TEACHER",
    }
    assert app.data(ARTICLE_Q, {"id": post})["article"] == {
        "title": "Hello",
        "views": 0,
        "author": {"fullName": "Ada"},
    }
    bob = app.data(
        'mutation { createUser(input: {email: "b@x.io", fullName: "Bob", role: ADMIN}) { id } }'
    )["createUser"]["id"]
    long_title = "T" * 150  # wider than v1's 80 characters
    created = app.data(
        "mutation($a: ID!, $t: String!) { createArticle(input: "
        "{title: $t, authorId: $a, editorId: $a}) { id title views editor { fullName } } }",
        {"a": bob, "t": long_title},
    )["createArticle"]
    long_id = created.pop("id")
    assert long_id
    assert created == {"title": long_title, "views": 0, "editor": {"fullName": "Bob"}}
    assert app.data('mutation { createTag(input: {name: "sql"}) { name } }')["createTag"]
    assert _columns(url, "article_tags") == ["tag_id", "article_id"]

    with pytest.raises(AssertionError, match="drop column articles.notes"):
        _build(root, "v3")
    assert len(_revisions(root)) == 2, "a refused build writes nothing"
    out = _build(root, "v3", "--allow-destructive")
    assert "destructive (allowed): drop column articles.notes" in out
    app.migrate("upgrade")
    app.migrate("check")
    _restart(app)
    assert app.data(ARTICLE_Q, {"id": post})["article"]["title"] == "Hello"
    app.stop()

    revs = _revisions(root)
    # v1 titles hold 80 characters: the downgrade checks the data first, on both databases
    with pytest.raises(AssertionError, match="articles.title becomes at most 80 characters"):
        app.migrate("downgrade", revs[0])
    _restart(app)
    app.data(
        'mutation($i: ID!) { updateArticle(id: $i, input: {title: "Short"}) { id } }',
        {"i": long_id},
    )
    app.stop()
    with pytest.raises(AssertionError, match="still use the removed value"):
        app.migrate("downgrade", revs[0])  # v1 has no ADMIN role and Bob is one
    _restart(app)
    app.data("mutation($b: ID!) { updateUser(id: $b, input: {role: STUDENT}) { id } }", {"b": bob})
    app.stop()

    assert len(revs) == 3
    app.migrate("downgrade", revs[0])
    assert _columns(url, "users") == ["id", "email", "name", "role"]
    assert "notes" in _columns(url, "posts")
    app.migrate("downgrade", "base")
    app.migrate("upgrade")
    app.migrate("check")


def test_cli_reports_breaking_changes(tmp_path: Path) -> None:
    _build(tmp_path, "v1")
    shutil.rmtree(tmp_path / "specs")
    shutil.copytree(HERE / "specs_v2", tmp_path / "specs")
    cmd = [*GEN, "build", "specs", "--out", "generated", "--check-breaking"]
    with pytest.raises(AssertionError) as err:
        run(cmd, cwd=tmp_path, env=child_env({}))
    text = str(err.value)
    assert "breaking: Field User.name was removed." in text
    assert "dangerous: Enum value UserRole.ADMIN was added." in text
    assert "nothing was written" in text
    assert len(_revisions(tmp_path)) == 1
