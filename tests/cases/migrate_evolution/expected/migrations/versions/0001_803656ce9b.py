"""initial schema

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create table users
- create table posts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_803656ce9b"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "role",
            sa.Enum("student", "teacher", name="user_role", create_constraint=True),
            server_default=sa.text("'student'"),
            nullable=False,
        ),
        sa.CheckConstraint("length(email) <= 120", name=op.f("ck_users_email_max_length")),
        sa.CheckConstraint("length(name) <= 80", name=op.f("ck_users_name_max_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(title) <= 80", name=op.f("ck_posts_title_max_length")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_posts_author_id"), "posts", ["author_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_posts_author_id"), table_name="posts")
    op.drop_table("posts")
    op.drop_table("users")
    sa.Enum(name="user_role").drop(op.get_bind(), checkfirst=True)
