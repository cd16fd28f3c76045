"""initial schema

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create table products
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from flowgen_runtime import migrate as fg
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0001_efddbaa822"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False, comment="Display name."),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("stock", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column(
            "price",
            sa.Numeric(precision=12, scale=4),
            server_default=sa.text("'9.99'"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "live", "retired", name="product_status", create_constraint=True),
            server_default=sa.text("'draft'"),
            nullable=False,
        ),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("external_ref", sa.Uuid(), nullable=True),
        sa.Column("launch_on", sa.Date(), server_default=sa.text("'2024-01-31'"), nullable=False),
        sa.Column("released_on", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("length(details) <= 5000", name=op.f("ck_products_details_max_length")),
        sa.CheckConstraint("length(name) <= 80", name=op.f("ck_products_name_max_length")),
        sa.CheckConstraint("length(name) >= 2", name=op.f("ck_products_name_min_length")),
        sa.CheckConstraint("price <= 99999.5", name=op.f("ck_products_price_max")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price_min")),
        sa.CheckConstraint("stock <= 10000", name=op.f("ck_products_stock_max")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_products_stock_min")),
        sa.CheckConstraint("weight_kg >= 0.5", name=op.f("ck_products_weight_kg_min")),
        sa.CheckConstraint(
            fg.pattern_match("name", "^[A-Za-z0-9 ]+$"), name=op.f("ck_products_name_pattern")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_products_external_ref")),
    )
    op.create_index(op.f("ix_products_status"), "products", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_products_status"), table_name="products")
    op.drop_table("products")
    sa.Enum(name="product_status").drop(op.get_bind(), checkfirst=True)
