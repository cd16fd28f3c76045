"""initial schema

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create table flowgen_outbox
- create table shelves
- create table tags
- create table items
- create table shelf_tags
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0001_becd7f1c09"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flowgen_outbox",
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("job_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False, comment="the job's data, JSON"),
        sa.Column("opts", sa.Text(), nullable=False, comment="its BullMQ options, JSON"),
        sa.Column("held_at_ms", sa.BigInteger(), nullable=False, comment="commit time, epoch ms"),
        sa.PrimaryKeyConstraint("queue", "job_id", name=op.f("pk_flowgen_outbox")),
        comment="Jobs of committed transactions not yet confirmed in Redis (flowgen_runtime)",
    )
    op.create_index("ix_flowgen_outbox_held_at_ms", "flowgen_outbox", ["held_at_ms"], unique=False)
    op.create_table(
        "shelves",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.CheckConstraint("length(label) <= 40", name=op.f("ck_shelves_label_max_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelves")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.CheckConstraint("length(name) <= 30", name=op.f("ck_tags_name_max_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("qty", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column(
            "price",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("'1.50'"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("small", "large", name="item_kind", create_constraint=True),
            server_default=sa.text("'small'"),
            nullable=False,
        ),
        sa.Column("ref", sa.Uuid(), nullable=True),
        sa.Column("shelf_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("length(title) <= 20", name=op.f("ck_items_title_max_length")),
        sa.ForeignKeyConstraint(
            ["shelf_id"], ["shelves.id"], name=op.f("fk_items_shelf_id_shelves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_items_shelf_id"), "items", ["shelf_id"], unique=False)
    op.create_table(
        "shelf_tags",
        sa.Column("shelf_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shelf_id"],
            ["shelves.id"],
            name=op.f("fk_shelf_tags_shelf_id_shelves"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_shelf_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shelf_id", "tag_id", name=op.f("pk_shelf_tags")),
    )
    op.create_index("ix_shelf_tags_tag_id", "shelf_tags", ["tag_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shelf_tags_tag_id", table_name="shelf_tags")
    op.drop_table("shelf_tags")
    op.drop_index(op.f("ix_items_shelf_id"), table_name="items")
    op.drop_table("items")
    op.drop_table("tags")
    op.drop_table("shelves")
    op.drop_index("ix_flowgen_outbox_held_at_ms", table_name="flowgen_outbox")
    op.drop_table("flowgen_outbox")
    sa.Enum(name="item_kind").drop(op.get_bind(), checkfirst=True)
