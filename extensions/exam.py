"""Exam: the ``publishExam`` mutation and the computed ``averageScore`` field."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType
from flowgen_runtime import Context, NotFoundError, UserInputError
from graphql import GraphQLResolveInfo

from generated.services import exams, questions, submissions
from generated.services.exam import ExamRow

mutation = MutationType()


@mutation.field("publishExam")
async def publish_exam(_obj: Any, info: GraphQLResolveInfo, id: str) -> ExamRow:
    """Checks first, then an ordinary update: the caller's update permission applies."""
    ctx: Context = info.context
    if await exams.get(ctx, id) is None:  # not there, or not yours to see
        raise NotFoundError(f"no Exam with id {id}")
    page = await questions.connection(ctx, {"where": {"exam_id": {"eq": id}}, "first": 1})
    if not page["nodes"]:
        raise UserInputError([{"path": ["id"], "message": "an exam needs a question to publish"}])
    return await exams.update(ctx, id, {"status": "published"})


async def average_score(row: ExamRow, info: GraphQLResolveInfo) -> float | None:
    """Mean score of the graded submissions of this exam that the caller may read.

    One query per request for every exam in it (a DataLoader), with the caller's row rules
    on submissions (an aggregate through the service)."""
    ctx: Context = info.context

    async def batch(exam_ids: list[Any]) -> list[float | None]:
        where = {"exam_id": {"in": exam_ids}, "status": {"eq": "graded"}}
        groups = await submissions.aggregate(ctx, where, ["exam_id"])
        found = {g["group"]["exam_id"]: g["avg"]["score"] for g in groups}
        return [found.get(i) for i in exam_ids]

    loaded: float | None = await ctx.loader("exam-average-score", batch).load(row["id"])
    return loaded
