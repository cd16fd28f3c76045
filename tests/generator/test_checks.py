"""Build-time semantic checks: exact answers of the small functions behind them."""

from __future__ import annotations

import pytest

from generator.model.fields import default_violations
from generator.model.ir import EnumDef, Field
from generator.model.permissions import literal_problem
from generator.model.schedule import cron_problem
from generator.spec.models import FieldSpec


@pytest.mark.parametrize("cron", ["0 3 * * *", "*/5 * * * *", "0 0 1 * *", "* * * * * *", "@daily"])
def test_crons_the_worker_reads(cron: str) -> None:
    assert cron_problem(cron) is None


@pytest.mark.parametrize("cron", ["61 * * * *", "a b c d e", "", "0 0 31 2 *", "* * 32 * *"])
def test_crons_the_worker_would_die_on(cron: str) -> None:
    assert cron_problem(cron)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (FieldSpec(type="int", min=1), 0, ["is below min 1"]),
        (FieldSpec(type="int", max=5), 5, []),
        (FieldSpec(type="string", max_length=3), "abcd", ["is longer than max_length 3"]),
        (FieldSpec(type="string"), "x" * 256, ["is longer than 255 characters (a string's default max_length)"]),
        (FieldSpec(type="text", min_length=2), "a", ["is shorter than min_length 2"]),
        (FieldSpec(type="string", pattern="^[a-z]+$"), "A", ["does not match pattern '^[a-z]+$'"]),
        (FieldSpec(type="decimal", precision=4, scale=2), "12.34", []),
        (FieldSpec(type="decimal", precision=4, scale=2), "1.234", ["has 3 decimal places, more than scale 2"]),
    ],
)  # fmt: skip
def test_default_violations(spec: FieldSpec, value: object, expected: list[str]) -> None:
    assert default_violations(spec, value) == expected


INT = Field(name="qty", column="qty", type="int", min=0)
ENUM = Field(name="s", column="s", type="enum", enum=EnumDef("S", "s", ("a", "b")))


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        (INT, "$user.id", True), (INT, "5", True), (INT, 5, True), (INT, "x", False),
        (INT, "-1", False), (INT, "1.5", False), (ENUM, "a", True), (ENUM, "c", False),
        (Field(name="b", column="b", type="bool"), "true", True),
        (Field(name="b", column="b", type="bool"), "maybe", False),
        (Field(name="d", column="d", type="date"), "2024-02-30", False),
        (Field(name="t", column="t", type="string"), 5, False),
    ],
)  # fmt: skip
def test_preset_and_rule_literals(field: Field, value: object, ok: bool) -> None:
    assert (literal_problem(field, value) is None) is ok
