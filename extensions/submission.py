"""Submission hooks: a closed exam takes no submissions; every submission gets graded."""

from __future__ import annotations

import sqlalchemy as sa
from flowgen_runtime import WriteEvent

from generated.models import Exam


async def before_create(event: WriteEvent) -> None:
    """Refuse a submission to an archived exam (one missing is left to the foreign key)."""
    assert event.data is not None
    exam_id = event.data.get("exam_id")
    status = await event.session.scalar(sa.select(Exam.status).where(Exam.id == exam_id))
    if status == "archived":
        event.refuse("this exam is archived and takes no more submissions", field="exam_id")


async def after_create(event: WriteEvent) -> None:
    """Grade it: the job is added once the submission is committed (never for a rollback).
    It runs as the system: grading reads the answer keys, which students may not see."""
    await event.enqueue(
        "exam", "grade_submission", {"submission_id": event.row["id"]},
        as_system="grading a new submission reads the answer keys",
    )  # fmt: skip
