"""Read YAML into plain data while remembering where every value came from.

PyYAML's composer gives nodes with marks; we walk them once, building the Python
value and a table ``path -> (line, col)`` (1-based) used to place errors.
"""

from __future__ import annotations

import re
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


MAX_BYTES = 1_000_000
MAX_DEPTH = 50
MAX_NODES = 200_000
"""Bounds of a spec file: far above any real spec, far below what hurts (an alias bomb
expands to billions of values, 10,000 nested levels exhaust the recursion limit)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: yaml.Node, path: Path, doc: YamlDoc, loader: Any, budget: _Budget) -> Any:
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        line, col = _pos(node)
        raise YamlSyntaxError(
            doc.file, line, col, f"more than {MAX_NODES} values (aliases expanding too much?)"
        )
    if len(path) > MAX_DEPTH:
        line, col = _pos(node)
        raise YamlSyntaxError(doc.file, line, col, f"nested deeper than {MAX_DEPTH} levels")
    doc.positions[path] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, bool) or key is None:
                key = key_node.value  # `on:`, `no:`, `null:` are names here, not YAML 1.1 values
            if not isinstance(key, str | int):
                key = str(key)
            if key in out:
                line, col = _pos(key_node)
                raise YamlSyntaxError(doc.file, line, col, f"duplicate key '{key}'")
            doc.key_positions[(*path, key)] = _pos(key_node)
            out[key] = _build(value_node, (*path, key), doc, loader, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*path, i), doc, loader, budget) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(text: str, file: str) -> YamlDoc:
    """Parse one YAML document, keeping positions. Raises :class:`YamlSyntaxError`."""
    _check_text(text, file)
    if _Loader is not yaml.SafeLoader:
        try:
            return _load(text, file, _Loader)
        except yaml.MarkedYAMLError:
            pass  # parse again below: the pure-Python parser's messages are the ones we report
    return _load(text, file, yaml.SafeLoader)


def _check_text(text: str, file: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlSyntaxError(file, 1, 1, f"the file is {size} bytes, more than {MAX_BYTES}")
    m = _CONTROL.search(text)
    if m is not None:
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        raise YamlSyntaxError(
            file,
            line,
            col,
            f"control character {m.group()!r} in the file",
        )


def _load(text: str, file: str, loader_class: Any) -> YamlDoc:
    doc = YamlDoc(file=file, data=None)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        doc.data = None if node is None else _build(node, (), doc, loader, _Budget())
    except RecursionError:
        raise YamlSyntaxError(file, 1, 1, f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.reader.ReaderError as exc:
        raise YamlSyntaxError(file, 1, 1, f"invalid YAML: {exc.reason}") from None
    except yaml.MarkedYAMLError as exc:
        if loader_class is not yaml.SafeLoader:
            raise
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(file, line, col, f"invalid YAML: {exc.problem}") from None
    finally:
        loader.dispose()
    return doc
