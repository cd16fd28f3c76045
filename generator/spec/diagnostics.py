"""Spec errors: every problem found in one run, each pointing at ``file:line:col``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in a spec file.

    >>> str(SpecError("specs/exam.yaml", 4, 15, "relations.author.belongs_to",
    ...               "unknown entity 'Usr'", "did you mean 'User'?"))
    "specs/exam.yaml:4:15: relations.author.belongs_to: unknown entity 'Usr' (did you mean 'User'?)"
    """

    file: str
    line: int
    col: int
    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        path = f" {self.path}:" if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{path} {self.message}{hint}"


class SpecErrors(Exception):
    """Raised with every :class:`SpecError` of a run, sorted by file and line."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(e) for e in self.errors))

    def report(self) -> str:
        n = len(self.errors)
        noun = "error" if n == 1 else "errors"
        return "\n".join(
            [*(str(e) for e in self.errors), f"{n} {noun} in specs; nothing was written."]
        )


def suggest(name: str, candidates: Sequence[str]) -> str | None:
    """A ``did you mean`` hint for a misspelt name, or ``None``.

    >>> suggest("Usr", ["User", "Exam"])
    "did you mean 'User'?"
    """
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            match = [lowered[name.lower()]]
    return f"did you mean '{match[0]}'?" if match else None
