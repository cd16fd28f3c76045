"""Read YAML into plain data while remembering where every value came from.

PyYAML's composer gives nodes with marks; we walk them once, building the Python
value and a table ``path -> (line, col)`` (1-based) used to place errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

# libyaml's parser (about 15x faster than the pure-Python one) when PyYAML was built with it;
# its nodes carry the same start marks. On a syntax error the file is parsed again with the
# pure-Python parser, whose messages are more precise (they name the offending character).
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDoc:
    """A parsed YAML file: its data and the position of each path in it."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Best position for ``path``: the exact node, else its nearest ancestor."""
        table = self.key_positions if key else self.positions
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if not key and p in self.key_positions:
                return self.key_positions[p]
            p = p[:-1]
        return self.positions.get((), (1, 1))


class YamlSyntaxError(Exception):
    def __init__(self, file: str, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.file, self.line, self.col, self.message = file, line, col, message


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: yaml.Node, path: Path, doc: YamlDoc, loader: Any) -> Any:
    doc.positions[path] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                key = str(key)
            if key in out:
                line, col = _pos(key_node)
                raise YamlSyntaxError(doc.file, line, col, f"duplicate key '{key}'")
            doc.key_positions[(*path, key)] = _pos(key_node)
            out[key] = _build(value_node, (*path, key), doc, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*path, i), doc, loader) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(text: str, file: str) -> YamlDoc:
    """Parse one YAML document, keeping positions. Raises :class:`YamlSyntaxError`."""
    if _Loader is not yaml.SafeLoader:
        try:
            return _load(text, file, _Loader)
        except yaml.MarkedYAMLError:
            pass  # parse again below: the pure-Python parser's messages are the ones we report
    return _load(text, file, yaml.SafeLoader)


def _load(text: str, file: str, loader_class: Any) -> YamlDoc:
    doc = YamlDoc(file=file, data=None)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        doc.data = None if node is None else _build(node, (), doc, loader)
    except yaml.MarkedYAMLError as exc:
        if loader_class is not yaml.SafeLoader:
            raise
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(file, line, col, f"invalid YAML: {exc.problem}") from None
    finally:
        loader.dispose()
    return doc
