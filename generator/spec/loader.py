"""Load a specs folder: YAML with positions -> validated pydantic specs, or every error.

>>> # specs/entities/exam.yaml starts with `entity: Exam`, specs/jobs/exam.yaml with `queue: exam`
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from .diagnostics import SpecError, SpecErrors, suggest
from .models import AppSpec, EntitySpec, QueueSpec
from .yaml_source import YamlDoc, YamlSyntaxError, load_yaml

_KINDS: dict[str, type[BaseModel]] = {"entity": EntitySpec, "queue": QueueSpec, "app": AppSpec}


@dataclass
class LoadedSpecs:
    """Validated specs, each with the document it came from (for positions)."""

    root: Path
    entities: list[tuple[EntitySpec, YamlDoc]] = field(default_factory=list)
    queues: list[tuple[QueueSpec, YamlDoc]] = field(default_factory=list)
    app: tuple[AppSpec, YamlDoc] | None = None
    errors: list[SpecError] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)
    """Entity and queue names whose file could not be used: references to them are not
    reported again as unknown."""


def spec_files(root: Path) -> list[Path]:
    """Every ``*.yaml`` / ``*.yml`` below ``root``, sorted for deterministic output."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_specs(root: Path, *, display_root: Path | None = None, strict: bool = True) -> LoadedSpecs:
    """Read and validate every spec file under ``root``.

    ``strict``: raise :class:`SpecErrors` listing every problem. Otherwise the problems are
    returned in ``errors`` beside what could be validated, so the model step can report its
    own problems in the same run.
    """
    root = Path(root)
    if not root.is_dir():
        raise SpecErrors([SpecError(str(root), 1, 1, "", "specs folder not found")])
    base = display_root if display_root is not None else Path.cwd()
    loaded = LoadedSpecs(root=root)
    errors: list[SpecError] = []
    files = spec_files(root)
    if not files:
        errors.append(SpecError(str(root), 1, 1, "", "no *.yaml spec files found"))
    for path in files:
        name = _display(path, base)
        try:
            doc = load_yaml(path.read_text(encoding="utf-8"), name)
        except YamlSyntaxError as exc:
            errors.append(SpecError(exc.file, exc.line, exc.col, "", exc.message))
            continue
        except UnicodeDecodeError:
            errors.append(SpecError(name, 1, 1, "", "file is not UTF-8 text"))
            continue
        errors.extend(_validate(doc, loaded))
    if errors and strict:
        raise SpecErrors(errors)
    loaded.errors = errors
    return loaded


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _validate(doc: YamlDoc, loaded: LoadedSpecs) -> list[SpecError]:
    data = doc.data
    if not isinstance(data, dict):
        return [SpecError(doc.file, 1, 1, "", "a spec file must be a mapping")]
    kinds = [k for k in _KINDS if k in data]
    if len(kinds) != 1:
        what = "has both " + " and ".join(kinds) if kinds else "names no kind"
        return [
            SpecError(
                doc.file, 1, 1, "", f"spec file {what}",
                "start it with `entity: Name`, `queue: name` or `app: name`",
            )
        ]  # fmt: skip
    model = _KINDS[kinds[0]]
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        errors = [_from_pydantic(doc, model, err) for err in exc.errors()]
        partial = _validate_pruned(model, data, exc)
        if partial is None:
            name = data.get(kinds[0])
            if isinstance(name, str):
                loaded.broken.add(name)
            return errors
        _register(partial, doc, loaded)
        return errors
    return _register(spec, doc, loaded)


_PRUNABLE = ("fields", "relations", "jobs")


def _prune(data: dict[str, Any], exc: ValidationError) -> dict[str, Any] | None:
    """``data`` without the entries that failed (a bad field, relation or job), so the rest
    of the file can still be checked; ``None`` when a failure is not in such an entry."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) < 2 or loc[0] not in _PRUNABLE or not isinstance(out.get(loc[0]), dict):
            return None
        out[loc[0]].pop(loc[1], None)
    return out


def _validate_pruned(
    model: type[BaseModel], data: dict[str, Any], exc: ValidationError
) -> BaseModel | None:
    pruned = _prune(data, exc)
    if pruned is None:
        return None
    try:
        return model.model_validate(pruned)
    except ValidationError:
        return None


def _register(spec: BaseModel, doc: YamlDoc, loaded: LoadedSpecs) -> list[SpecError]:
    if isinstance(spec, EntitySpec):
        loaded.entities.append((spec, doc))
    elif isinstance(spec, QueueSpec):
        loaded.queues.append((spec, doc))
    elif isinstance(spec, AppSpec):
        if loaded.app is not None:
            return [SpecError(doc.file, 1, 1, "app", "a second app file", loaded.app[1].file)]
        loaded.app = (spec, doc)
    return []


def _from_pydantic(doc: YamlDoc, model: type[BaseModel], err: Any) -> SpecError:
    loc = tuple(err["loc"])
    dotted = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        line, col = doc.where(loc, key=True)
        allowed = _allowed_keys(model, loc[:-1])
        hint = suggest(str(loc[-1]), allowed) if allowed else None
        if hint is None and allowed:
            hint = "allowed: " + ", ".join(allowed)
        return SpecError(doc.file, line, col, dotted, f"unknown key '{loc[-1]}'", hint)
    if kind == "missing":
        line, col = doc.where(loc[:-1])
        return SpecError(doc.file, line, col, dotted, f"required key '{loc[-1]}' is missing")
    line, col = doc.where(loc)
    message = err["msg"]
    if kind == "literal_error":
        message = f"{message}, got {err['input']!r}"
        hint = suggest(str(err["input"]), _literal_options(err))
        return SpecError(doc.file, line, col, dotted, message, hint)
    if kind == "string_pattern_mismatch" and loc and loc[-1] in ("handler",):
        message = "handler must be a dotted path like `handlers.exam.grade`"
    elif kind == "string_pattern_mismatch":
        message = f"invalid name {err['input']!r}: {err['msg'].lower()}"
    return SpecError(doc.file, line, col, dotted, message)


def _literal_options(err: Any) -> list[str]:
    expected = (err.get("ctx") or {}).get("expected", "")
    return [part.strip(" '\"") for part in expected.replace(" or ", ",").split(",") if part.strip()]


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if args else tp
            if len(args) <= 1:
                continue
            return tp
        else:
            return tp


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names accepted at ``loc`` inside ``model`` (for ``did you mean`` hints)."""
    tp: Any = model
    parts = list(loc)
    while parts:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(parts.pop(0)))
            if info is None:
                return []
            tp = info.annotation
            continue
        origin = typing.get_origin(tp)
        if origin in (dict, list):
            parts.pop(0)
            tp = typing.get_args(tp)[-1]
            continue
        return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []
