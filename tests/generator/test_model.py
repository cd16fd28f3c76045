"""Facts the model resolves once (generator/model): keys, join tables, inverses, ids, enums,
job options. Specs come from the case folders, or small inline ones."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.model import App, build_app
from generator.model.ir import (
    Backoff,
    Default,
    EntityJob,
    EnumDef,
    ForeignKey,
    JobOptions,
    JoinTable,
    Retention,
    Schedule,
)
from generator.spec import SpecErrors, load_specs

from .support import CASES


def case_app(case: str) -> App:
    return build_app(load_specs(CASES / case / "specs"))


def inline_app(tmp_path: Path, **files: str) -> App:
    """``inline_app(tmp, user="entity: User ...")`` -> the app of ``specs/<name>.yaml`` files."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, text in files.items():
        (specs / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return build_app(load_specs(specs))


def test_auto_added_id_and_folder_named_app() -> None:
    app = case_app("minimal")
    note = app.entity("Note")
    assert app.name == "minimal"  # no app.yaml: named after the folder holding specs/
    assert note.table == "notes"
    assert [f.name for f in note.fields] == ["id", "title", "body", "pinned"]
    assert note.pk.primary_key and note.pk.id_kind == "integer" and note.pk.value_type == "int"
    assert not note.pk.required and not note.pk.nullable
    assert note.plural == "notes" and note.module == "note"


def test_belongs_to_foreign_keys() -> None:
    post = case_app("relations").entity("Post")
    assert post.relation("author").fk == "author_id"
    assert post.field("author_id").foreign_key == ForeignKey(
        "author", "Author", "authors", "id", "CASCADE"
    )
    category = post.field("category_id")
    assert category.nullable and not category.required and category.index
    # nullable belongs_to without on_delete defaults to SET NULL
    assert category.foreign_key == ForeignKey(
        "category", "Category", "categories", "id", "SET NULL"
    )
    assert post.unique_sets == (("author_id", "slug"),)


def test_has_many_inverse_resolution() -> None:
    app = case_app("relations")
    posts = app.entity("Author").relation("posts")
    assert (posts.kind, posts.inverse, posts.fk) == ("has_many", "author", "author_id")  # inferred
    children = app.entity("Category").relation("children")
    assert (children.target, children.inverse, children.fk) == ("Category", "parent", "parent_id")
    parent_fk = app.entity("Category").field("parent_id").foreign_key
    assert parent_fk is not None and parent_fk.target_table == "categories"
    assert app.entity("Category").indexes == (("parent_id", "name"),)


def test_many_to_many_through() -> None:
    app = case_app("relations")
    join = JoinTable("post_tags", "posts", "post_id", "int", "tags", "tag_id", "int")
    tags, posts = app.entity("Post").relation("tags"), app.entity("Tag").relation("posts")
    assert tags.join == posts.join == join
    assert (tags.join_self_column, tags.join_target_column, tags.inverse) == (
        "post_id",
        "tag_id",
        "posts",
    )
    assert (posts.join_self_column, posts.join_target_column, posts.inverse) == (
        "tag_id",
        "post_id",
        "tags",
    )
    assert app.join_tables == (join,)


def test_many_to_many_default_join_table_name(tmp_path: Path) -> None:
    app = inline_app(
        tmp_path,
        student="""
            entity: Student
            fields: {name: string}
            relations: {courses: {many_to_many: Course}}
        """,
        course="""
            entity: Course
            fields: {id: {type: id, kind: uuid}, title: string}
            relations: {students: {many_to_many: Student}}
        """,
    )
    # the side that sorts first, (Course, students), owns the name: <its table>_<relation>
    join = JoinTable(
        "courses_students", "courses", "course_id", "uuid", "students", "student_id", "int"
    )
    assert app.join_tables == (join,)
    assert app.entity("Student").relation("courses").join_self_column == "student_id"


def test_self_referencing_many_to_many(tmp_path: Path) -> None:
    app = inline_app(
        tmp_path,
        user="""
            entity: User
            fields: {name: string}
            relations: {friends: {many_to_many: User, through: friendships}}
        """,
    )
    friends = app.entity("User").relation("friends")
    assert friends.join == JoinTable(
        "friendships", "users", "user_id", "int", "users", "friends_id", "int"
    )
    assert (friends.join_self_column, friends.join_target_column) == ("user_id", "friends_id")


def test_uuid_ids_and_foreign_keys(tmp_path: Path) -> None:
    app = inline_app(
        tmp_path,
        video="""
            entity: Video
            fields: {id: {type: id, kind: uuid}}
        """,
        clip="""
            entity: Clip
            fields: {start: int}
            relations: {video: {belongs_to: Video}}
        """,
    )
    assert app.entity("Video").pk.value_type == "uuid"
    fk = app.entity("Clip").field("video_id")
    assert fk.type == "uuid" and fk.required and fk.foreign_key is not None
    assert fk.foreign_key.on_delete == "RESTRICT"  # not nullable, no on_delete: restrict


def test_enum_names() -> None:
    status = case_app("types").entity("Product").field("status")
    assert status.enum == EnumDef("ProductStatus", "product_status", ("draft", "live", "retired"))
    app = case_app("jobs")
    assert [e.name for e in app.enums] == ["DeliverChannel"]  # payload enum: <Job><Field>
    assert app.enums[0].db_name == "deliver_channel"


def test_field_defaults_and_requiredness() -> None:
    product = case_app("types").entity("Product")
    assert product.field("name").required
    assert not product.field("stock").required  # has a default
    assert not product.field("created_at").required  # default: now
    assert product.field("created_at").default == Default("now")
    assert product.field("launch_on").default == Default("literal", "2024-01-31")
    assert product.field("price").default == Default("literal", "9.99")
    assert (product.field("price").precision, product.field("price").scale) == (12, 4)
    assert product.operation("delete") is None and product.cache_ttl == 15
    assert case_app("jobs").entity("Message").cache_ttl is None


def test_job_options_merge_queue_defaults_with_job_options() -> None:
    queue = case_app("jobs").queue("mail")
    assert [j.name for j in queue.jobs] == ["Message.create", "deliver", "send_digest"]
    defaults = JobOptions(
        attempts=4, backoff=Backoff("fixed", 500), remove_on_complete=Retention(count=100)
    )
    create, deliver, digest = queue.jobs
    # job options override only the keys they set; the rest come from the queue defaults
    assert deliver.options == JobOptions(
        attempts=2,
        backoff=Backoff("fixed", 500),
        priority=3,
        timeout_ms=20000,
        remove_on_complete=Retention(count=100),
    )
    assert digest.options == JobOptions(
        attempts=4,
        backoff=Backoff("custom", 0, (1000, 60000)),
        remove_on_complete=Retention(count=100),
    )
    assert digest.schedule == Schedule(cron="0 6 * * *")
    assert create.options == defaults
    assert create.entity_job == EntityJob("Message", "create")
    assert (create.handler, create.class_name) == (None, "CreateMessageJob")
    assert deliver.class_name == "DeliverPayload"
    assert queue.rate_limit is not None and (queue.rate_limit.max, queue.concurrency) == (10, 3)


def test_custom_backoff_needs_its_delays(tmp_path: Path) -> None:
    with pytest.raises(SpecErrors) as info:
        inline_app(
            tmp_path,
            mail="""
                queue: mail
                jobs:
                  deliver:
                    handler: handlers.mail.deliver
                    options: {backoff: {type: custom, delay_ms: 5}}
            """,
        )
    [error] = info.value.errors
    assert error.path == "jobs.deliver.options.backoff"
    assert "delays_ms is required with type custom" in error.message


def test_model_errors_carry_positions(tmp_path: Path) -> None:
    with pytest.raises(SpecErrors) as info:
        inline_app(
            tmp_path,
            post="""
                entity: Post
                fields: {title: string}
                relations:
                  author: {belongs_to: Usr}
            """,
        )
    [error] = info.value.errors
    assert (error.line, error.col, error.path) == (4, 24, "relations.author.belongs_to")
    assert error.file == str(tmp_path / "specs" / "post.yaml")  # outside cwd: shown as given
    assert (error.message, error.hint) == ("unknown entity 'Usr'", None)


@pytest.mark.parametrize("table", ["flowgen_outbox", "alembic_version"])
def test_reserved_table_names_are_refused(tmp_path: Path, table: str) -> None:
    with pytest.raises(SpecErrors) as info:
        inline_app(tmp_path, box=f"entity: Box\ntable: {table}\nfields: {{label: string}}\n")
    [error] = info.value.errors
    assert (error.line, error.path) == (2, "table")
    assert error.message.startswith(f"table '{table}' is reserved")


def test_computed_fields_follow_the_field_naming_rules(tmp_path: Path) -> None:
    """A computed field named like a Python keyword resolves to ``<module>.<name>_`` by
    convention (a function cannot be called ``from``), and keeps its GraphQL name the way
    stored fields do (``title_2`` stays ``title_2``)."""
    app = inline_app(
        tmp_path,
        app="app: a\nextensions: ext\n",
        note="""
            entity: Class
            fields:
              body: text
            computed:
              from: {type: string}
              title_2: {type: int}
        """,
    )
    computed = {c.name: c for c in app.entity("Class").computed}
    assert computed["from"].resolver == "ext.class_.from_"
    assert computed["from"].graphql_name == "from"
    assert computed["title_2"].resolver == "ext.class_.title_2"
    assert computed["title_2"].graphql_name == "title_2"
