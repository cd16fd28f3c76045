"""drop check constraint ck_users_name_max_length and 18 more change(s)

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- drop check constraint ck_users_name_max_length
- drop check constraint ck_posts_title_max_length
- drop foreign key fk_posts_author_id_users
- drop index ix_posts_author_id
- rename table posts to articles
- rename column users.name to full_name
- change values of enum users.role: student, teacher, admin
- change type of articles.title from VARCHAR(80) to VARCHAR(200)
- add column articles.views
- add column articles.editor_id
- create table tags
- create table article_tags
- create check constraint ck_users_full_name_max_length
- create check constraint ck_articles_title_max_length
- create foreign key fk_articles_author_id_users
- create foreign key fk_articles_editor_id_users
- create index ix_articles_author_id
- create index ix_articles_editor_id
- create index ix_articles_title
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from flowgen_runtime import migrate as fg

revision: str = "0002_b3a37addfa"
down_revision: str | None = "0001_803656ce9b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    fg.require_check("posts", "ck_articles_title_max_length", "length(title) <= 200", ["title"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_name_max_length"), type_="check")

    op.drop_index(op.f("ix_posts_author_id"), table_name="posts")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_posts_title_max_length"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_posts_author_id_users"), type_="foreignkey")

    fg.rename_table("posts", "articles", primary_key=("pk_posts", "pk_articles"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "name",
            existing_type=sa.String(length=80),
            new_column_name="full_name",
            existing_nullable=False,
        )

    fg.alter_enum(
        "users",
        "role",
        "user_role",
        ["student", "teacher"],
        ["student", "teacher", "admin"],
        server_default="'student'",
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.alter_column(
            "title",
            existing_type=sa.String(length=80),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column("views", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("editor_id", sa.Integer(), nullable=True))

    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.CheckConstraint("length(name) <= 40", name=op.f("ck_tags_name_max_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "article_tags",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_tags_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_article_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tag_id", "article_id", name=op.f("pk_article_tags")),
    )
    op.create_index("ix_article_tags_article_id", "article_tags", ["article_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_users_full_name_max_length"), "length(full_name) <= 80"
        )

    op.create_index(op.f("ix_articles_author_id"), "articles", ["author_id"], unique=False)
    op.create_index(op.f("ix_articles_editor_id"), "articles", ["editor_id"], unique=False)
    op.create_index(op.f("ix_articles_title"), "articles", ["title"], unique=False)
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_articles_title_max_length"), "length(title) <= 200"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_articles_author_id_users"),
            "users",
            ["author_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_articles_editor_id_users"),
            "users",
            ["editor_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    fg.require_max_length("articles", "title", 80)
    fg.require_unused_values("users", "role", ["admin"])
    fg.require_check("articles", "ck_posts_title_max_length", "length(title) <= 80", ["title"])
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_articles_editor_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_articles_author_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_articles_title_max_length"), type_="check")

    op.drop_index(op.f("ix_articles_title"), table_name="articles")
    op.drop_index(op.f("ix_articles_editor_id"), table_name="articles")
    op.drop_index(op.f("ix_articles_author_id"), table_name="articles")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_full_name_max_length"), type_="check")

    op.drop_index("ix_article_tags_article_id", table_name="article_tags")
    op.drop_table("article_tags")
    op.drop_table("tags")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("editor_id")
        batch_op.drop_column("views")
        batch_op.alter_column(
            "title",
            existing_type=sa.String(length=200),
            type_=sa.String(length=80),
            existing_nullable=False,
        )

    fg.alter_enum(
        "users",
        "role",
        "user_role",
        ["student", "teacher", "admin"],
        ["student", "teacher"],
        server_default="'student'",
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "full_name",
            existing_type=sa.String(length=80),
            new_column_name="name",
            existing_nullable=False,
        )

    fg.rename_table("articles", "posts", primary_key=("pk_articles", "pk_posts"))
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_posts_author_id_users"),
            "users",
            ["author_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_posts_title_max_length"), "length(title) <= 80"
        )

    op.create_index(op.f("ix_posts_author_id"), "posts", ["author_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_users_name_max_length"), "length(name) <= 80"
        )
