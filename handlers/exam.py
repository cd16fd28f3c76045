"""Grading: scores a submission against the answer keys of its exam's questions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flowgen_runtime import JobContext, UnrecoverableJobError, app_context


def score(questions: list[dict[str, Any]], answers: dict[str, Any]) -> float:
    """Percentage of points earned; a question is answered under the key ``q<position>``.

    >>> score([{"position": 1, "points": 2, "answer_key": "a"}], {"q1": "a"})
    100.0
    """
    total = sum(q["points"] for q in questions)
    if total == 0:
        return 0.0
    earned = sum(
        q["points"]
        for q in questions
        if q["answer_key"] is not None and answers.get(f"q{q['position']}") == q["answer_key"]
    )
    return round(100.0 * earned / total, 2)


async def grade_submission(payload: Any, ctx: JobContext) -> Any:
    """Score a submission against the exam's answer keys.

    Runs as the caller who enqueued it: the submission and the questions are read with its
    rules (a teacher reaches the submissions of its own exams only), so a submission it
    cannot read is "missing". Only the grade itself is written as the system, since no
    teacher may update submissions directly.
    """
    app = app_context(ctx)
    submissions = app.registry.services["Submission"]
    questions = app.registry.services["Question"]
    sub = await submissions.get(app, payload.submission_id)
    if sub is None:
        raise UnrecoverableJobError(f"submission {payload.submission_id} does not exist")
    await ctx.progress(10)
    page = await questions.connection(
        app, {"where": {"exam_id": {"eq": sub["exam_id"]}}, "first": app.registry.max_page_size}
    )
    result = score(page["nodes"], sub["answers"] or {})
    await ctx.progress(90)
    await submissions.update(
        app.as_system(f"grading submission {sub['id']}, which the caller may read"),
        sub["id"],
        {"status": "graded", "score": result, "graded_at": dt.datetime.now(dt.UTC)},
    )
    ctx.logger.info("graded submission %s: %s", sub["id"], result)
    return {"submission_id": sub["id"], "score": result}
