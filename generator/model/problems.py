"""Error collection while building the model: every problem, each at its YAML position."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..spec.diagnostics import SpecError
from ..spec.yaml_source import Path, YamlDoc
from .ir import Source


@dataclass
class Problems:
    errors: list[SpecError] = field(default_factory=list)

    def add(
        self, doc: YamlDoc, path: Path, message: str, hint: str | None = None, *, key: bool = False
    ) -> None:
        line, col = doc.where(path, key=key)
        dotted = ".".join(str(p) for p in path)
        self.errors.append(SpecError(doc.file, line, col, dotted, message, hint))


def source(doc: YamlDoc, path: Path) -> Source:
    line, col = doc.where(path)
    return Source(doc.file, line, col)
