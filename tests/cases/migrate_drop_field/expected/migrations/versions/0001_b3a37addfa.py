"""initial schema

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create table tags
- create table users
- create table articles
- create table article_tags
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_b3a37addfa"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=120), nullable=False),
        sa.Column("full_name", sa.String(length=80), nullable=False),
        sa.Column(
            "role",
            sa.Enum("student", "teacher", "admin", name="user_role", create_constraint=True),
            server_default=sa.text("'student'"),
            nullable=False,
        ),
        sa.CheckConstraint("length(email) <= 120", name=op.f("ck_users_email_max_length")),
        sa.CheckConstraint("length(full_name) <= 80", name=op.f("ck_users_full_name_max_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("views", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("length(title) <= 200", name=op.f("ck_articles_title_max_length")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_articles_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["editor_id"],
            ["users.id"],
            name=op.f("fk_articles_editor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_articles_author_id"), "articles", ["author_id"], unique=False)
    op.create_index(op.f("ix_articles_editor_id"), "articles", ["editor_id"], unique=False)
    op.create_index(op.f("ix_articles_title"), "articles", ["title"], unique=False)
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


def downgrade() -> None:
    op.drop_index("ix_article_tags_article_id", table_name="article_tags")
    op.drop_table("article_tags")
    op.drop_index(op.f("ix_articles_title"), table_name="articles")
    op.drop_index(op.f("ix_articles_editor_id"), table_name="articles")
    op.drop_index(op.f("ix_articles_author_id"), table_name="articles")
    op.drop_table("articles")
    op.drop_table("users")
    op.drop_table("tags")
    sa.Enum(name="user_role").drop(op.get_bind(), checkfirst=True)
