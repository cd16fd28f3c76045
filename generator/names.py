"""Name conversions shared by the model, the view-models and the templates.

>>> snake("ExamQuestion"), camel("created_at"), pascal("grade_submission")
('exam_question', 'createdAt', 'GradeSubmission')
>>> plural("category"), plural("status"), plural("video")
('categories', 'statuses', 'videos')
"""

from __future__ import annotations

import keyword
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


# Names a spec field may not keep as a Python attribute in the generated classes (models,
# pydantic inputs and payloads): keywords, the names their class bodies and annotations use
# (a field ``datetime`` would shadow the module in the annotations after it), SQLAlchemy's
# declarative attributes and pydantic's BaseModel API. Such a field keeps its column and
# GraphQL name and gets the attribute ``<name>_``.
PY_RESERVED_ATTRS = frozenset(
    [k for k in keyword.kwlist if k.islower()]
    + ["str", "int", "float", "bool", "list", "dict", "tuple", "frozenset", "set", "bytes"]
    + ["sa", "datetime", "decimal", "uuid", "mapped_column", "pattern_match", "typing"]
    + ["metadata", "registry"]  # reserved by SQLAlchemy's declarative base
    + ["copy", "dict", "json", "schema", "schema_json", "validate", "construct", "from_orm"]
    + ["parse_obj", "parse_raw", "parse_file", "update_forward_refs", "model_config"]
    + ["model_fields", "model_computed_fields", "model_extra", "model_fields_set"]
    + ["model_construct", "model_copy", "model_dump", "model_dump_json", "model_json_schema"]
    + ["model_parametrized_name", "model_post_init", "model_rebuild", "model_validate"]
    + ["model_validate_json", "model_validate_strings", "model_post_init"]
)


def py_attr(name: str) -> str:
    """The Python attribute of a spec field or relation: ``from`` -> ``from_``, ``title`` stays.

    >>> py_attr("from"), py_attr("metadata"), py_attr("title")
    ('from_', 'metadata_', 'title')
    """
    return name + "_" if name in PY_RESERVED_ATTRS else name


# Module-level names of the generated modules that an entity's, queue's or join table's
# Python name must not replace (``service = ObjectType("Service")`` would hide the service).
PY_RESERVED_MODULE_NAMES = frozenset(
    [k for k in keyword.kwlist if k.islower()]
    + ["service", "query", "mutation", "order_field", "group_field", "reads", "selects_total"]
    + ["sa", "postgresql", "datetime", "decimal", "uuid", "typing", "models", "base", "outbox"]
)


def py_module(name: str) -> str:
    """A Python module or module-level name for a snake_case spec name: ``class`` ->
    ``class_``, ``service`` -> ``service_``; other names stay.

    >>> py_module("class"), py_module("exam_question")
    ('class_', 'exam_question')
    """
    return name + "_" if name in PY_RESERVED_MODULE_NAMES else name


_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def graphql_field_name(name: str) -> str:
    """The GraphQL name of a spec field: ``camel(name)`` when the runtime's inverse
    (``flowgen_runtime.graphql.schema.python_name``) gives ``name`` back, else ``name`` itself
    (``title_2`` stays ``title_2``: ``title2`` would read back as ``title2``).

    >>> graphql_field_name("created_at"), graphql_field_name("title_2"), graphql_field_name("a__b")
    ('createdAt', 'title_2', 'a__b')
    """
    c = camel(name)
    return c if _BOUNDARY.sub("_", c).lower() == name else name


FILTERS = {
    "snake": snake,
    "camel": camel,
    "pascal": pascal,
    "upper_snake": upper_snake,
    "plural": plural_tail,
}
