"""drop column articles.notes

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- drop column articles.notes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_9d8fab76aa"
down_revision: str | None = "0001_b3a37addfa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("notes")


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
