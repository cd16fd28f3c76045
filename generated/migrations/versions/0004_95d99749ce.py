"""create check constraint ck_courses_slug_max_length and 8 more change(s)

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create check constraint ck_courses_slug_max_length
- create check constraint ck_courses_title_max_length
- create check constraint ck_users_email_max_length
- create check constraint ck_users_name_max_length
- create check constraint ck_exams_slug_max_length
- create check constraint ck_exams_title_max_length
- create check constraint ck_videos_source_url_max_length
- create check constraint ck_videos_thumbnail_url_max_length
- create check constraint ck_videos_title_max_length
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_95d99749ce"
down_revision: str | None = "0003_fab66270a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_courses_slug_max_length"), "length(slug) <= 80"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_courses_title_max_length"), "length(title) <= 200"
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_users_email_max_length"), "length(email) <= 255"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_users_name_max_length"), "length(name) <= 120"
        )

    with op.batch_alter_table("exams", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_exams_slug_max_length"), "length(slug) <= 80"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_exams_title_max_length"), "length(title) <= 200"
        )

    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_videos_source_url_max_length"), "length(source_url) <= 2000"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_videos_thumbnail_url_max_length"), "length(thumbnail_url) <= 2000"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_videos_title_max_length"), "length(title) <= 200"
        )


def downgrade() -> None:
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_videos_title_max_length"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_videos_thumbnail_url_max_length"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_videos_source_url_max_length"), type_="check")

    with op.batch_alter_table("exams", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_exams_title_max_length"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_exams_slug_max_length"), type_="check")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_name_max_length"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_email_max_length"), type_="check")

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_courses_title_max_length"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_courses_slug_max_length"), type_="check")
