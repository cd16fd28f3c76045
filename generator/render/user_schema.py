"""The app's own SDL (``<extensions>/schema/*.graphql``), checked and merged at build time.

The files are copied into the generated schema folder (``schema/_ext_<name>.graphql``), so
the server loads them with the generated SDL and the breaking-change report covers them.
The whole schema is built and validated first with graphql-core: an unknown type, a type
defined twice, a field that clashes with a generated one... is a spec error at the user
file's line and column, and nothing is written.

>>> files = merge({"schema/_base.graphql": "type Query { a: Int }"},
...               {"extensions/schema/x.graphql": "extend type Query { b: Int }"})
>>> sorted(files)
['schema/_ext_x.graphql']
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from graphql import GraphQLError, Source, build_ast_schema, concat_ast, parse, validate_schema
from graphql.validation.validate import validate_sdl

from ..spec.diagnostics import SpecError, SpecErrors
from .engine import header


def merge(generated: Mapping[str, str], user: Mapping[str, str]) -> dict[str, str]:
    """``{generated path: text}`` of the user's SDL files (``user``: display path -> text),
    after checking that they extend the generated schema cleanly; raises SpecErrors."""
    user = {path: text for path, text in user.items() if _has_definitions(text)}
    if not user:
        return {}
    sdl = {path: text for path, text in generated.items() if path.endswith(".graphql")}
    errors = _problems({**sdl, **user}, set(user))
    if errors:
        raise SpecErrors(errors)
    return {
        f"schema/_ext_{PurePosixPath(path).stem}.graphql": header(path) + text
        for path, text in sorted(user.items())
    }


def _has_definitions(text: str) -> bool:
    """False for a file with nothing but blank lines and comments (an emptied file)."""
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _problems(files: Mapping[str, str], user: set[str]) -> list[SpecError]:
    try:
        document = concat_ast([parse(Source(text, name)) for name, text in sorted(files.items())])
    except GraphQLError as exc:
        return [_error(exc, user)]
    errors = validate_sdl(document)
    if not errors:
        errors = validate_schema(build_ast_schema(document, assume_valid_sdl=True))
    return sorted(_error(e, user) for e in errors)


def _error(exc: GraphQLError, user: set[str]) -> SpecError:
    """The error at its place in a user file (the first one it names), else at the first
    user file: the user's SDL is what made the schema invalid."""
    for node in exc.nodes or ():
        if node.loc is not None and node.loc.source.name in user:
            where = node.loc.source.get_location(node.loc.start)
            return SpecError(node.loc.source.name, where.line, where.column, "", exc.message)
    if exc.source is not None and exc.source.name in user and exc.locations:
        return SpecError(
            exc.source.name, exc.locations[0].line, exc.locations[0].column, "", exc.message
        )
    return SpecError(sorted(user)[0], 1, 1, "", exc.message)
