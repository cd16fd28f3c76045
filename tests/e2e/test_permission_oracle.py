"""Random callers x the example's rules x operations, compared with an SQL oracle.

A seeded random world (users of every role, courses, enrolments, exams, questions) is
written through the services; then random callers read and write through the services,
and every answer is compared with plain SQL that states the spec's rules independently
(``ORACLE``). A failing seed is printed: add it to ``SEEDS`` to keep it as a case.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flowgen_runtime.auth.access import Identity
from flowgen_runtime.core.errors import FlowgenError
from flowgen_runtime.data.state import AppState

from generated.registry import REGISTRY

from .test_cache import pg, settings, state  # noqa: F401  (fixtures)

ADMIN = Identity("0", frozenset({"admin"}))
SEEDS = [1, 2, 3]

# what each role may read / update, stated in SQL, apart from the spec's compiled rules
ORACLE = {
    ("Exam", "read", "admin"): "true",
    ("Exam", "read", "teacher"): "e.author_id = :me or e.status = 'published'",
    ("Exam", "read", "student"): "e.status = 'published' and e.course_id in "
    "(select course_id from enrollments where user_id = :me)",
    ("Exam", "update", "admin"): "true",
    ("Exam", "update", "teacher"): "e.author_id = :me",
    ("Exam", "update", "student"): "false",
    ("Question", "read", "admin"): "true",
    ("Question", "read", "teacher"): "e.author_id = :me",
    ("Question", "read", "student"): "e.status = 'published' and e.course_id in "
    "(select course_id from enrollments where user_id = :me)",
}


async def _world(state: AppState, rnd: random.Random, p: str) -> dict[str, Any]:  # noqa: F811
    ctx = state.context(identity=ADMIN)
    s = REGISTRY.services
    users = []
    for i in range(8):
        role = rnd.choice(["student", "student", "teacher", "admin"])
        row = await s["User"].create(ctx, {"email": f"{p}-{i}@x.io", "name": f"u{i}", "role": role})
        users.append((row["id"], role))
    students = [u for u, r in users if r == "student"]
    courses = []
    for i in range(3):
        enrolled = rnd.sample(students, k=min(len(students), rnd.randint(0, 2)))
        row = await s["Course"].create(ctx, {"slug": f"{p}-c{i}", "title": f"Course {i}",
                                             "students": {"connect": [str(u) for u in enrolled]}})  # fmt: skip
        courses.append(row["id"])
    authors = [u for u, r in users if r != "student"]
    for i in range(6):
        exam = await s["Exam"].create(ctx, {
            "slug": f"{p}-e{i}", "title": f"Exam {i}", "author_id": rnd.choice(authors),
            "status": rnd.choice(["draft", "published", "archived"]),
            "course_id": rnd.choice([*courses, None]),
        })  # fmt: skip
        for n in range(rnd.randint(0, 2)):
            await s["Question"].create(ctx, {"exam_id": exam["id"], "position": n + 1,
                                             "prompt": "?", "answer_key": f"k{n}"})  # fmt: skip
    return {"users": users}


async def _oracle(state: AppState, entity: str, op: str, role: str, me: int, p: str) -> set[int]:  # noqa: F811
    rule = ORACLE[(entity, op, role)]
    sql = (
        f"select e.id from exams e where e.slug like :p and ({rule})"
        if entity == "Exam"
        else f"select q.id from questions q join exams e on e.id = q.exam_id "
        f"where e.slug like :p and ({rule})"
    )
    params = {"p": f"{p}-%"}
    if ":me" in rule:
        params["me"] = me
    async with state.db.read() as reader:
        return set((await reader.execute(sa.text(sql), params)).scalars())


async def _read(state: AppState, entity: str, who: Identity, p: str) -> tuple[set[int], bool]:  # noqa: F811
    ctx = state.context(identity=who)
    where = (
        {"slug": {"starts_with": p}} if entity == "Exam" else {"exam": {"slug": {"starts_with": p}}}
    )
    try:
        page = await REGISTRY.services[entity].connection(ctx, {"where": where, "first": 100})
    except FlowgenError:
        return set(), False
    keys = (
        any(n.get("answer_key") is not None for n in page["nodes"])
        if entity == "Question"
        else False
    )
    return {n["id"] for n in page["nodes"]}, keys


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_callers_see_and_change_what_the_oracle_says(
    state: AppState,  # noqa: F811
    seed: int,
) -> None:
    rnd = random.Random(seed)
    p = f"o{uuid.uuid4().hex[:6]}"
    world = await _world(state, rnd, p)
    exams = REGISTRY.services["Exam"]
    for step in range(25):
        me, role = rnd.choice(world["users"])
        who = Identity(str(me), frozenset({role}))
        entity = rnd.choice(["Exam", "Question"])
        seen, keys = await _read(state, entity, who, p)
        expected = await _oracle(state, entity, "read", role, me, p)
        assert seen == expected, (seed, step, entity, role)
        assert not (keys and role == "student"), (seed, step, "answer keys shown to a student")
        # a write: allowed exactly when the oracle's update rule holds for that row
        every = await _oracle(state, "Exam", "read", "admin", 0, p)
        target = rnd.choice(sorted(every))
        allowed = target in await _oracle(state, "Exam", "update", role, me, p)
        title = f"T{seed}-{step}"
        try:
            await exams.update(state.context(identity=who), target, {"title": title})
            done = True
        except FlowgenError:
            done = False
        assert done == allowed, (seed, step, role, target)
        row = await exams.get(state.context(identity=ADMIN), target)
        assert row is not None and (row["title"] == title) == allowed, (seed, step)
