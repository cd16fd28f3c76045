"""Row rules: ``author_id = $user.id``, ``course.students.id = $user.id and status != 'draft'``.

A rule is compiled once, at build time, into the same ``where`` structure clients send
(``{"course": {"students": {"some": {"id": {"eq": {"$user": "id"}}}}}}``, in the
runtime's snake_case form); the runtime puts
the caller's claims in the ``{"$user": ...}`` slots and ANDs it into every statement.

Grammar::

    rule  := conj ("or" conj)*
    conj  := atom ("and" atom)*
    atom  := "(" rule ")" | path op value
    path  := name ("." name)*          relations, then a field (or a relation's foreign key)
    op    := "=" | "!=" | "in" | "not in"
    value := $user.<claim> | 'text' | number | true | false | null | "[" value, ... "]"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<user>\$user\.[A-Za-z_][\w.]*)"
    r"|(?P<op>!=|=|\(|\)|\[|\]|,)|(?P<word>[A-Za-z_][\w.]*))"
)


class RuleError(ValueError):
    """A rule that cannot be compiled; the message says why."""


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise RuleError(f"cannot read {text[pos : pos + 12]!r} at character {pos + 1}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


# A field resolver maps a path (["course", "students", "id"]) on the rule's entity to the
# where structure around the comparison, or raises RuleError naming the bad segment.
Resolver = Callable[[list[str], dict[str, Any]], dict[str, Any]]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], resolve: Resolver) -> None:
        self.tokens, self.i, self.resolve = tokens, 0, resolve

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def rule(self) -> dict[str, Any]:
        parts = [self.conj()]
        while self.peek() == ("word", "or"):
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else {"or": parts}

    def conj(self) -> dict[str, Any]:
        parts = [self.atom()]
        while self.peek() == ("word", "and"):
            self.take()
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else {"and": parts}

    def atom(self) -> dict[str, Any]:
        if self.peek() == ("op", "("):
            self.take()
            inner = self.rule()
            if self.take() != ("op", ")"):
                raise RuleError("missing ')'")
            return inner
        kind, path = self.take()
        if kind != "word":
            raise RuleError(f"expected a field name, found {path or 'the end'!r}")
        op = self._op()
        value = self.value()
        if op in ("in", "not_in") and not isinstance(value, list):
            raise RuleError(f"'{op}' needs a list, e.g. ['a', 'b']")
        if value is None:
            if op not in ("eq", "ne"):
                raise RuleError("null only compares with = or !=")
            return self.resolve(path.split("."), {"is_null": op == "eq"})
        return self.resolve(path.split("."), {op: value})

    def _op(self) -> str:
        tok = self.take()
        if tok == ("op", "="):
            return "eq"
        if tok == ("op", "!="):
            return "ne"
        if tok == ("word", "in"):
            return "in"
        if tok == ("word", "not") and self.take() == ("word", "in"):
            return "not_in"
        raise RuleError(f"expected =, !=, in or not in, found {tok[1] or 'the end'!r}")

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("\\'", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "user":
            return {"$user": text.removeprefix("$user.")}
        if kind == "word" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if (kind, text) == ("op", "["):
            items = [self.value()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.value())
            if self.take() != ("op", "]"):
                raise RuleError("missing ']'")
            return items
        raise RuleError(
            f"expected a value ($user.id, 'text', a number, true, false, null), found {text or 'the end'!r}"
        )


def compile_rule(text: str, resolve: Resolver) -> dict[str, Any]:
    """The where template of ``text``; raises :class:`RuleError`."""
    parser = _Parser(tokenize(text), resolve)
    where = parser.rule()
    if parser.i != len(parser.tokens):
        raise RuleError(f"unexpected {parser.peek()[1]!r}")
    return where
