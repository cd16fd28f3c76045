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


@pytest.mark.parametrize(
    ("name", "attr", "gql"),
    [
        ("title", "title", "title"),
        ("created_at", "created_at", "createdAt"),
        ("from", "from_", "from"),
        ("class", "class_", "class"),
        ("metadata", "metadata_", "metadata"),
        ("datetime", "datetime_", "datetime"),
        ("model_config", "model_config_", "modelConfig"),
        ("title2", "title2", "title2"),
        ("title_2", "title_2", "title_2"),  # camel would read back as title2
        ("a__b", "a__b", "a__b"),
        ("x_1a", "x_1a", "x_1a"),
    ],
)
def test_python_attribute_and_graphql_name(name: str, attr: str, gql: str) -> None:
    from flowgen_runtime.graphql.schema import python_name

    from generator.names import graphql_field_name, py_attr

    assert py_attr(name) == attr
    assert graphql_field_name(name) == gql
    assert python_name(gql) == name  # what the runtime maps the GraphQL name back to


def test_module_names_avoid_keywords_and_generated_names() -> None:
    from generator.names import py_module

    assert [py_module(n) for n in ("exam", "class", "import", "service", "query", "sa")] == [
        "exam", "class_", "import_", "service_", "query_", "sa_",
    ]  # fmt: skip


def test_check_text_quotes_what_the_dialects_would() -> None:
    from generator.render.pyexpr import sql_ident

    assert [sql_ident(n) for n in ("price", "limit", "order", "user", "from", "Mixed")] == [
        "price", '"limit"', '"order"', '"user"', '"from"', '"Mixed"',
    ]  # fmt: skip
