"""initial schema

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- create table courses
- create table users
- create table enrollments
- create table exams
- create table videos
- create table questions
- create table submissions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0001_0ed8755916"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "price",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("'0.00'"),
            nullable=False,
        ),
        sa.Column("published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.CheckConstraint("length(title) >= 3", name=op.f("ck_courses_title_min_length")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_courses_price_min")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("slug", name=op.f("uq_courses_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False, comment="Login e-mail address."),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum("student", "teacher", "admin", name="user_role", create_constraint=True),
            server_default=sa.text("'student'"),
            nullable=False,
        ),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("mentor_id", sa.Integer(), nullable=True, comment="Self-reference."),
        sa.CheckConstraint("length(name) >= 1", name=op.f("ck_users_name_min_length")),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["users.id"], name=op.f("fk_users_mentor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_mentor_id"), "users", ["mentor_id"], unique=False)
    op.create_table(
        "enrollments",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_enrollments_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enrollments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_enrollments")),
    )
    op.create_index("ix_enrollments_course_id", "enrollments", ["course_id"], unique=False)
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "published", "archived", name="exam_status", create_constraint=True),
            server_default=sa.text("'draft'"),
            nullable=False,
        ),
        sa.Column("duration_minutes", sa.Integer(), server_default=sa.text("60"), nullable=False),
        sa.Column("pass_mark", sa.Float(), server_default=sa.text("50.0"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
            comment="Free-form exam settings.",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("duration_minutes <= 600", name=op.f("ck_exams_duration_minutes_max")),
        sa.CheckConstraint("duration_minutes >= 1", name=op.f("ck_exams_duration_minutes_min")),
        sa.CheckConstraint("length(title) >= 3", name=op.f("ck_exams_title_min_length")),
        sa.CheckConstraint("pass_mark <= 100", name=op.f("ck_exams_pass_mark_max")),
        sa.CheckConstraint("pass_mark >= 0", name=op.f("ck_exams_pass_mark_min")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_exams_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_exams_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exams")),
        sa.UniqueConstraint("slug", name=op.f("uq_exams_slug")),
    )
    op.create_index(op.f("ix_exams_author_id"), "exams", ["author_id"], unique=False)
    op.create_index(op.f("ix_exams_course_id"), "exams", ["course_id"], unique=False)
    op.create_index(op.f("ix_exams_status"), "exams", ["status"], unique=False)
    op.create_table(
        "videos",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("source_url", sa.String(length=2000), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "uploaded",
                "processing",
                "ready",
                "failed",
                name="video_status",
                create_constraint=True,
            ),
            server_default=sa.text("'uploaded'"),
            nullable=False,
        ),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=True),
        sa.Column("thumbnail_url", sa.String(length=2000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("duration_seconds >= 0", name=op.f("ck_videos_duration_seconds_min")),
        sa.CheckConstraint("length(title) >= 1", name=op.f("ck_videos_title_min_length")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_videos_size_bytes_min")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_videos_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videos")),
    )
    op.create_index(op.f("ix_videos_owner_id"), "videos", ["owner_id"], unique=False)
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "single_choice",
                "multiple_choice",
                "free_text",
                name="question_kind",
                create_constraint=True,
            ),
            server_default=sa.text("'single_choice'"),
            nullable=False,
        ),
        sa.Column("points", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "answer_key",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(prompt) >= 1", name=op.f("ck_questions_prompt_min_length")),
        sa.CheckConstraint("points <= 100", name=op.f("ck_questions_points_max")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_questions_points_min")),
        sa.CheckConstraint("position >= 1", name=op.f("ck_questions_position_min")),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exams.id"], name=op.f("fk_questions_exam_id_exams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("exam_id", "position", name=op.f("uq_questions_exam_id_position")),
    )
    op.create_index(op.f("ix_questions_exam_id"), "questions", ["exam_id"], unique=False)
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "grading",
                "graded",
                "failed",
                name="submission_status",
                create_constraint=True,
            ),
            server_default=sa.text("'pending'"),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("score <= 100", name=op.f("ck_submissions_score_max")),
        sa.CheckConstraint("score >= 0", name=op.f("ck_submissions_score_min")),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exams.id"], name=op.f("fk_submissions_exam_id_exams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["users.id"],
            name=op.f("fk_submissions_student_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    op.create_index(op.f("ix_submissions_exam_id"), "submissions", ["exam_id"], unique=False)
    op.create_index(
        "ix_submissions_exam_id_status", "submissions", ["exam_id", "status"], unique=False
    )
    op.create_index(op.f("ix_submissions_student_id"), "submissions", ["student_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_submissions_student_id"), table_name="submissions")
    op.drop_index("ix_submissions_exam_id_status", table_name="submissions")
    op.drop_index(op.f("ix_submissions_exam_id"), table_name="submissions")
    op.drop_table("submissions")
    op.drop_index(op.f("ix_questions_exam_id"), table_name="questions")
    op.drop_table("questions")
    op.drop_index(op.f("ix_videos_owner_id"), table_name="videos")
    op.drop_table("videos")
    op.drop_index(op.f("ix_exams_status"), table_name="exams")
    op.drop_index(op.f("ix_exams_course_id"), table_name="exams")
    op.drop_index(op.f("ix_exams_author_id"), table_name="exams")
    op.drop_table("exams")
    op.drop_index("ix_enrollments_course_id", table_name="enrollments")
    op.drop_table("enrollments")
    op.drop_index(op.f("ix_users_mentor_id"), table_name="users")
    op.drop_table("users")
    op.drop_table("courses")
    sa.Enum(name="exam_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="question_kind").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="submission_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="user_role").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="video_status").drop(op.get_bind(), checkfirst=True)
