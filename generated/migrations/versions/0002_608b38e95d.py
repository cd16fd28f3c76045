"""create check constraint ck_courses_slug_pattern and 2 more change(s)

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create check constraint ck_courses_slug_pattern
- create check constraint ck_users_email_pattern
- create check constraint ck_exams_slug_pattern
"""

from collections.abc import Sequence

from alembic import op
from flowgen_runtime import migrate as fg

revision: str = "0002_608b38e95d"
down_revision: str | None = "0001_0ed8755916"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_courses_slug_pattern"), fg.pattern_match("slug", "^[a-z0-9-]+$")
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_users_email_pattern"), fg.pattern_match("email", "^[^@\\s]+@[^@\\s]+$")
        )

    with op.batch_alter_table("exams", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_exams_slug_pattern"), fg.pattern_match("slug", "^[a-z0-9-]+$")
        )


def downgrade() -> None:
    with op.batch_alter_table("exams", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_exams_slug_pattern"), type_="check")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_email_pattern"), type_="check")

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_courses_slug_pattern"), type_="check")
