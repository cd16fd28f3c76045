"""Name conversions (generator/names.py): exact strings."""

from __future__ import annotations

import pytest

from generator.names import FILTERS, camel, pascal, plural, plural_tail, snake, upper_snake


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ExamQuestion", "exam_question"),
        ("examQuestion", "exam_question"),
        ("exam-question", "exam_question"),
        ("exam_question", "exam_question"),
        ("User", "user"),
        ("HTTPServer", "http_server"),
        ("Video2Clip", "video2_clip"),
    ],
)
def test_snake(name: str, expected: str) -> None:
    assert snake(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("created_at", "createdAt"),
        ("id", "id"),
        ("duration_minutes", "durationMinutes"),
        ("multiple-choice", "multipleChoice"),
        ("ExamQuestion", "examQuestion"),
    ],
)
def test_camel(name: str, expected: str) -> None:
    assert camel(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("grade_submission", "GradeSubmission"),
        ("ExamQuestion", "ExamQuestion"),
        ("exam", "Exam"),
        ("send-welcome-email", "SendWelcomeEmail"),
        ("a__b", "AB"),
    ],
)
def test_pascal(name: str, expected: str) -> None:
    assert pascal(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("multiple-choice", "MULTIPLE_CHOICE"),
        ("multipleChoice", "MULTIPLE_CHOICE"),
        ("p720", "P720"),
    ],
)
def test_upper_snake(name: str, expected: str) -> None:
    assert upper_snake(name) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("video", "videos"),
        ("exam", "exams"),
        ("category", "categories"),
        ("day", "days"),
        ("key", "keys"),
        ("status", "statuses"),
        ("box", "boxes"),
        ("match", "matches"),
        ("wish", "wishes"),
        ("person", "people"),
        ("child", "children"),
        ("man", "men"),
        ("woman", "women"),
    ],
)
def test_plural(word: str, expected: str) -> None:
    assert plural(word) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("exam_question", "exam_questions"),
        ("examQuestion", "examQuestions"),
        ("user_category", "user_categories"),
        ("salesPerson", "salesPeople"),
        ("sales_person", "sales_people"),
        ("Child", "Children"),
        ("tag", "tags"),
    ],
)
def test_plural_tail(name: str, expected: str) -> None:
    assert plural_tail(name) == expected


def test_filters_are_the_template_names() -> None:
    assert FILTERS == {
        "snake": snake,
        "camel": camel,
        "pascal": pascal,
        "upper_snake": upper_snake,
        "plural": plural_tail,
    }
