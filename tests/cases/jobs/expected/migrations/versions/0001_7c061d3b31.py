"""initial schema

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create table flowgen_outbox
- create table messages
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_7c061d3b31"
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
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "length(recipient) <= 255", name=op.f("ck_messages_recipient_max_length")
        ),
        sa.CheckConstraint("length(subject) <= 200", name=op.f("ck_messages_subject_max_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_index("ix_flowgen_outbox_held_at_ms", table_name="flowgen_outbox")
    op.drop_table("flowgen_outbox")
