"""``load_yaml`` gives the same data, positions and error messages with libyaml's parser as
with PyYAML's pure-Python one (which is only used to word syntax errors)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from generator.spec import yaml_source
from generator.spec.yaml_source import YamlSyntaxError, load_yaml

DOCS = [
    "entity: Note\nfields:\n  id: {type: id}\n  title: {type: string, max_length: 80}\n",
    "a: é\nb: [1, {c: 2}]\nc:\n  - x\n  - {d: [3, 4]}\n",
    "a: &x 1\nb: *x\n",
    "",
    "# only a comment\n",
]
BAD = [
    "a: [1, 2\nb: 3\n",
    "a:\n\tb: 1\n",
    "a: b: c\n",
    "- a\nb: 1\n",
    "a: *x\n",
    'k: "\\q"\n',
    "{a: 1, a: 2}",
    "a: 1\n---\nb: 2\n",
]


def _parse(text: str, loader: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    monkeypatch.setattr(yaml_source, "_Loader", loader)
    try:
        doc = load_yaml(text, "f.yaml")
    except YamlSyntaxError as exc:
        return ("error", exc.line, exc.col, exc.message)
    return ("ok", doc.data, doc.positions, doc.key_positions)


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")
@pytest.mark.parametrize("text", DOCS + BAD)
def test_libyaml_and_python_parsers_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _parse(text, yaml.CSafeLoader, monkeypatch)
    assert fast == _parse(text, yaml.SafeLoader, monkeypatch)
    assert fast[0] == ("error" if text in BAD else "ok")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: b\x00\n", "control character '\\x00'"),
        ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested deeper than"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
                for i in range(8)
            ),
            "aliases expanding",
        ),
        ("a: " + "x" * 1_000_001, "more than 1000000"),
    ],
)
def test_hostile_yaml_is_a_positioned_error(text: str, message: str) -> None:
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml(text, "f.yaml")
    assert message in info.value.message
    assert info.value.line >= 1 and info.value.col >= 1


def test_yaml_boolean_words_as_keys_stay_names() -> None:
    assert load_yaml("on: 1\nno: 2\nnull: 3\ntrue: 4\n", "f.yaml").data == {
        "on": 1, "no": 2, "null": 3, "true": 4,
    }  # fmt: skip
