"""initial schema

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create table flowgen_outbox
- create table orders
- create table orders_import
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from flowgen_runtime import migrate as fg
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0001_2eb4d3c4c1"
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
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from", sa.Integer(), nullable=False),
        sa.Column("class", sa.String(length=255), server_default=sa.text("'a'"), nullable=False),
        sa.Column("global", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("limit", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("order", sa.String(length=255), server_default=sa.text("'x'"), nullable=False),
        sa.Column(
            "group",
            sa.Enum("a", "b", name="order_group_enum", create_constraint=True),
            server_default=sa.text("'a'"),
            nullable=False,
        ),
        sa.Column("title2", sa.String(length=255), nullable=False),
        sa.Column("title_2", sa.String(length=255), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("on", sa.String(length=255), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.CheckConstraint('"from" >= 0', name=op.f("ck_orders_from_min")),
        sa.CheckConstraint('"limit" >= 0', name=op.f("ck_orders_limit_min")),
        sa.CheckConstraint('length("order") >= 1', name=op.f("ck_orders_order_min_length")),
        sa.CheckConstraint(
            fg.pattern_match("class", "^[a-z]*$"), name=op.f("ck_orders_class_pattern")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["orders.id"],
            name=op.f("fk_orders_parent_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_orders_parent_id"), "orders", ["parent_id"], unique=False)
    op.create_table(
        "orders_import",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["orders.id"],
            name=op.f("fk_orders_import_import_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_orders_import_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "import_id", name=op.f("pk_orders_import")),
    )
    op.create_index("ix_orders_import_import_id", "orders_import", ["import_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_orders_import_import_id", table_name="orders_import")
    op.drop_table("orders_import")
    op.drop_index(op.f("ix_orders_parent_id"), table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_flowgen_outbox_held_at_ms", table_name="flowgen_outbox")
    op.drop_table("flowgen_outbox")
    sa.Enum(name="order_group_enum").drop(op.get_bind(), checkfirst=True)
