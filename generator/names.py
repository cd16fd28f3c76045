"""Name conversions shared by the model, the view-models and the templates.

>>> snake("ExamQuestion"), camel("created_at"), pascal("grade_submission")
('exam_question', 'createdAt', 'GradeSubmission')
>>> plural("category"), plural("status"), plural("video")
('categories', 'statuses', 'videos')
"""

from __future__ import annotations

import re

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``ExamQuestion`` / ``examQuestion`` / ``exam-question`` -> ``exam_question``."""
    return _CAMEL_BOUNDARY.sub("_", name).replace("-", "_").lower()


def pascal(name: str) -> str:
    """``grade_submission`` -> ``GradeSubmission``; already-Pascal names are kept."""
    if "_" not in name and "-" not in name:
        return name[:1].upper() + name[1:]
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_-]+", name) if part)


def camel(name: str) -> str:
    """``created_at`` -> ``createdAt``."""
    p = pascal(name)
    return p[:1].lower() + p[1:]


def upper_snake(name: str) -> str:
    """``multiple-choice`` / ``multipleChoice`` -> ``MULTIPLE_CHOICE`` (GraphQL enum values)."""
    return snake(name).upper()


_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women"}


def plural(word: str) -> str:
    """English plural of a lower-case word, good enough for table and field names."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def plural_tail(name: str) -> str:
    """Pluralise the last word of a snake or camel name: ``exam_question`` -> ``exam_questions``."""
    m = re.search(r"([A-Za-z][a-z0-9]*)$", name)
    if not m:
        return name + "s"
    head, tail = name[: m.start()], m.group(1)
    p = plural(tail.lower())
    if tail[:1].isupper():
        p = p[:1].upper() + p[1:]
    return head + p


FILTERS = {
    "snake": snake,
    "camel": camel,
    "pascal": pascal,
    "upper_snake": upper_snake,
    "plural": plural_tail,
}
