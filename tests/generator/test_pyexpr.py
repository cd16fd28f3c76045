"""Exact-string tests of the Python and GraphQL fragments (generator/render/pyexpr.py, graphql.py)."""

from __future__ import annotations

from typing import Any

import pytest

from generator.model.ir import Default, EnumDef, Field, ForeignKey
from generator.render import pyexpr as p
from generator.render import sdl as g


def field(name: str = "f", type: str = "string", **kw: Any) -> Field:
    return Field(name=name, column=name, type=type, **kw)  # type: ignore[arg-type]


STATUS = EnumDef("ExamStatus", "exam_status", ("draft", "published"))
PK = field("id", "id", primary_key=True, id_kind="integer")
UUID_PK = field("id", "id", primary_key=True, id_kind="uuid")
AUTHOR_ID = field(
    "author_id",
    "int",
    index=True,
    required=True,
    foreign_key=ForeignKey("author", "User", "users", "id", "CASCADE"),
)


# --- pyexpr ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (field(type="string"), "str"),
        (field(type="text"), "str"),
        (field(type="int"), "int"),
        (field(type="float"), "float"),
        (field(type="decimal"), "decimal.Decimal"),
        (field(type="bool"), "bool"),
        (field(type="date"), "datetime.date"),
        (field(type="datetime"), "datetime.datetime"),
        (field(type="json"), "Any"),
        (field(type="uuid"), "uuid.UUID"),
        (field(type="enum", enum=STATUS), "str"),
        (PK, "int"),
        (UUID_PK, "uuid.UUID"),
    ],
)
def test_py_type(f: Field, expected: str) -> None:
    assert p.py_type(f) == expected


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (field(type="string"), "sa.String(255)"),
        (field(type="string", max_length=80), "sa.String(80)"),
        (field(type="text"), "sa.Text()"),
        (field(type="int"), "sa.Integer()"),
        (field(type="float"), "sa.Float()"),
        (field(type="decimal", precision=10, scale=2), "sa.Numeric(10, 2)"),
        (field(type="bool"), "sa.Boolean()"),
        (field(type="date"), "sa.Date()"),
        (field(type="datetime"), "sa.DateTime(timezone=True)"),
        (field(type="json"), "JSON_TYPE"),
        (field(type="uuid"), "sa.Uuid()"),
        (
            field(type="enum", enum=STATUS),
            "sa.Enum('draft', 'published', name='exam_status', create_constraint=True)",
        ),
        (PK, "sa.Integer()"),
        (UUID_PK, "sa.Uuid()"),
    ],
)
def test_sa_type(f: Field, expected: str) -> None:
    assert p.sa_type(f) == expected


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (field(type="datetime", default=Default("now")), "sa.func.current_timestamp()"),
        (field(type="date", default=Default("now")), "sa.func.current_date()"),
        (field(type="int", default=Default("literal", 60)), "sa.text('60')"),
        (field(type="float", default=Default("literal", 50.0)), "sa.text('50.0')"),
        (field(type="string", default=Default("literal", "it's")), "sa.text(\"'it''s'\")"),
        (field(type="decimal", default=Default("literal", "0.00")), "sa.text(\"'0.00'\")"),
        (field(type="bool", default=Default("literal", False)), "sa.text('false')"),
        (field(type="bool", default=Default("literal", True)), "sa.text('true')"),
        (field(type="json", default=Default("literal", {"a": 1})), None),
        (field(type="int"), None),
    ],
)
def test_server_default(f: Field, expected: str | None) -> None:
    assert p.server_default(f.default, f) == expected


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (PK, "mapped_column(sa.Integer(), primary_key=True)"),
        (UUID_PK, "mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)"),
        (
            AUTHOR_ID,
            "mapped_column(sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), "
            "nullable=False, index=True)",
        ),
        (
            field("email", "string", unique=True, index=True, max_length=255),
            "mapped_column(sa.String(255), nullable=False, unique=True)",
        ),
        (field("bio", "text", nullable=True), "mapped_column(sa.Text(), nullable=True)"),
        (
            field("points", "int", default=Default("literal", 1), description="Score."),
            "mapped_column(sa.Integer(), nullable=False, default=1, "
            "server_default=sa.text('1'), comment='Score.')",
        ),
        (
            field("created_at", "datetime", default=Default("now")),
            "mapped_column(sa.DateTime(timezone=True), nullable=False, "
            "server_default=sa.func.current_timestamp())",
        ),
        (
            field("meta", "json", default=Default("literal", [])),
            "mapped_column(JSON_TYPE, nullable=False, default=[])",
        ),
    ],
)
def test_column_call(f: Field, expected: str) -> None:
    assert p.column_call(f) == expected


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (field(type="decimal", default=Default("literal", "9.99")), "decimal.Decimal('9.99')"),
        (
            field(type="date", default=Default("literal", "2024-01-31")),
            "datetime.date.fromisoformat('2024-01-31')",
        ),
        (
            field(type="datetime", default=Default("literal", "2024-01-31T09:30:00+00:00")),
            "datetime.datetime.fromisoformat('2024-01-31T09:30:00+00:00')",
        ),
        (
            field(type="uuid", default=Default("literal", "12345678-1234-5678-1234-567812345678")),
            "uuid.UUID('12345678-1234-5678-1234-567812345678')",
        ),
        (field(type="string", default=Default("literal", "draft")), "'draft'"),
        (field(type="float", default=Default("literal", 0.5)), "0.5"),
        (field(type="bool", default=Default("literal", True)), "True"),
    ],
)
def test_python_literal(f: Field, expected: str) -> None:
    assert p.python_literal(f) == expected


def test_check_constraints() -> None:
    assert p.check_constraints(field("n", "int", min=1, max=600)) == [
        ("n_min", '"n >= 1"'),
        ("n_max", '"n <= 600"'),
    ]
    assert p.check_constraints(field("score", "float", min=0.5)) == [
        ("score_min", '"score >= 0.5"')
    ]
    assert p.check_constraints(field("body", "text", min_length=1, max_length=500)) == [
        ("body_min_length", '"length(body) >= 1"'),
        ("body_max_length", '"length(body) <= 500"'),
    ]
    # A string's max_length is a CHECK too: SQLite ignores the width of VARCHAR(n).
    assert p.check_constraints(field("title", "string", max_length=200)) == [
        ("title_max_length", '"length(title) <= 200"')
    ]
    assert p.check_constraints(field("title", "string", min_length=0)) == []
    # A pattern is a CHECK compiled per dialect (~ on PostgreSQL, REGEXP on SQLite).
    assert p.check_constraints(field("slug", "string", pattern="^[a-z]+$")) == [
        ("slug_pattern", 'pattern_match("slug", "^[a-z]+$")')
    ]


@pytest.mark.parametrize(
    ("f", "create", "update"),
    [
        (field(type="string", required=True), "str", "str | None"),
        (field(type="string"), "str | None", "str | None"),
        (field(type="int", default=Default("literal", 60)), "int", "int | None"),
        (field(type="json", default=Default("literal", {})), "Any | None", "Any | None"),
        (field(type="json", nullable=True), "Any | None", "Any | None"),
        (
            field(type="enum", enum=STATUS, required=True),
            "Literal['draft', 'published']",
            "Literal['draft', 'published'] | None",
        ),
        (
            field(type="enum", enum=STATUS, nullable=True),
            "Literal['draft', 'published'] | None",
            "Literal['draft', 'published'] | None",
        ),
        (field(type="uuid", required=True), "uuid.UUID", "uuid.UUID | None"),
    ],
)
def test_input_annotation(f: Field, create: str, update: str) -> None:
    assert p.input_annotation(f) == create
    assert p.input_annotation(f, update=True) == update


@pytest.mark.parametrize(
    ("f", "create", "update"),
    [
        (field(type="string", required=True), "Field()", "Field(default=None)"),
        (
            field(type="string", required=True, min_length=3, max_length=200, pattern="^[a-z]+$"),
            "Field(min_length=3, max_length=200, pattern='^[a-z]+$')",
            "Field(default=None, min_length=3, max_length=200, pattern='^[a-z]+$')",
        ),
        (
            field(type="int", default=Default("literal", 60), min=1, max=600),
            "Field(default=60, ge=1, le=600)",
            "Field(default=None, ge=1, le=600)",
        ),
        (
            field(type="float", required=True, min=0, max=100),
            "Field(ge=0.0, le=100.0)",
            "Field(default=None, ge=0.0, le=100.0)",
        ),
        (
            field(
                type="decimal",
                precision=10,
                scale=2,
                min=0,
                default=Default("literal", "0.00"),
            ),
            "Field(default=decimal.Decimal('0.00'), ge=decimal.Decimal('0'), "
            "max_digits=10, decimal_places=2)",
            "Field(default=None, ge=decimal.Decimal('0'), max_digits=10, decimal_places=2)",
        ),
        (
            field(type="json", default=Default("literal", {"a": 1})),
            "Field(default=None)",
            "Field(default=None)",
        ),
        (
            field(type="text", nullable=True, description="About me."),
            "Field(default=None, description='About me.')",
            "Field(default=None, description='About me.')",
        ),
    ],
)
def test_input_field_call(f: Field, create: str, update: str) -> None:
    assert p.input_field_call(f) == create
    assert p.input_field_call(f, update=True) == update


# --- graphql ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "named", "output", "create", "update"),
    [
        (PK, "ID", "ID!", "ID", "ID"),
        (AUTHOR_ID, "ID", "ID!", "ID!", "ID"),
        (field(type="string", required=True), "String", "String!", "String!", "String"),
        (field(type="text", nullable=True), "String", "String", "String", "String"),
        (field(type="int"), "Int", "Int!", "Int", "Int"),
        (field(type="float"), "Float", "Float!", "Float", "Float"),
        (field(type="decimal"), "Decimal", "Decimal!", "Decimal", "Decimal"),
        (field(type="bool"), "Boolean", "Boolean!", "Boolean", "Boolean"),
        (field(type="date"), "Date", "Date!", "Date", "Date"),
        (field(type="datetime"), "DateTime", "DateTime!", "DateTime", "DateTime"),
        (field(type="json", nullable=True), "JSON", "JSON", "JSON", "JSON"),
        (field(type="uuid"), "UUID", "UUID!", "UUID", "UUID"),
        (
            field(type="enum", enum=STATUS, required=True),
            "ExamStatus",
            "ExamStatus!",
            "ExamStatus!",
            "ExamStatus",
        ),
    ],
)
def test_gql_types(f: Field, named: str, output: str, create: str, update: str) -> None:
    assert g.gql_named(f) == named
    assert g.gql_type(f) == output
    assert g.gql_input_type(f) == create
    assert g.gql_input_type(f, update=True) == update


def test_enum_value() -> None:
    assert g.enum_value("single_choice") == "SINGLE_CHOICE"
    assert g.enum_value("p720") == "P720"


def test_description() -> None:
    assert g.description(None) == ""
    assert g.description("") == ""
    assert g.description("A course.") == '"""A course."""\n'
    assert g.description("A course.", "  ") == '  """A course."""\n'
    assert g.description('Say """hi"""') == '"""Say \\"""hi\\""""""\n'
