"""Errors clients see. Each carries a GraphQL ``extensions.code``; nothing else leaks."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from flowgen_runtime.core.metrics import GRAPHQL_ERRORS
from graphql import GraphQLError
from pydantic import ValidationError

log = logging.getLogger("flowgen.errors")


class FlowgenError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, extensions: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": self.code, **(extensions or {})}


class UserInputError(FlowgenError):
    """Bad input; ``errors`` lists every field problem as ``{"path": [...], "message": ...}``."""

    code = "BAD_USER_INPUT"

    def __init__(self, errors: Sequence[dict[str, Any]], message: str | None = None) -> None:
        self.errors = list(errors)
        text = message or "Invalid input: " + "; ".join(
            f"{'.'.join(str(p) for p in e['path'])}: {e['message']}" for e in self.errors
        )
        super().__init__(text, extensions={"errors": self.errors})


class NotFoundError(FlowgenError):
    code = "NOT_FOUND"


class ConflictError(FlowgenError):
    code = "CONFLICT"


class ForbiddenError(FlowgenError):
    code = "FORBIDDEN"


class UnauthenticatedError(FlowgenError):
    code = "UNAUTHENTICATED"


UNAVAILABLE = "SERVICE_UNAVAILABLE"
"""The code of an error a retry may not meet (the database unreachable): HTTP 503."""


def from_validation(
    exc: ValidationError, prefix: Sequence[str | int] = ("input",)
) -> UserInputError:
    """Every pydantic error at once, with GraphQL-style (camelCase) field paths."""
    from flowgen_runtime.core.naming import camel

    errors = []
    for err in exc.errors():
        loc = [camel(p) if isinstance(p, str) else p for p in err["loc"]]
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        errors.append({"path": [*prefix, *loc], "message": msg})
    return UserInputError(errors)


_VARIABLE = re.compile(
    r"^Variable '\$(?P<name>\w+)' (?:has invalid value(?: at (?P<at>(?:\.\w+|\[\d+\])+))?: "
    r"(?P<reason>.*)|.*)$",
    re.DOTALL,
)
"""graphql-core's message for a variable value it (or a scalar's parser) refused."""


def _variable_path(match: re.Match[str]) -> list[str | int]:
    """``Variable '$w' has invalid value at .ids[2]: ...`` -> ``["w", "ids", 2]``."""
    parts: list[str | int] = [match["name"]]
    for part in re.findall(r"\.(\w+)|\[(\d+)\]", match["at"] or ""):
        parts.append(part[0] or int(part[1]))
    return parts


def format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """Ariadne error formatter: known errors keep their message and code; anything else is
    logged once with its traceback and shown as a generic internal error. Each error is
    counted by code in ``flowgen_graphql_errors_total``."""
    formatted = _format_error(error, debug)
    code = (formatted.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR")
    GRAPHQL_ERRORS.labels(str(code)).inc()
    return formatted


def _format_error(error: GraphQLError, debug: bool) -> dict[str, Any]:
    original = error.original_error
    formatted: dict[str, Any] = dict(error.formatted)
    if isinstance(original, FlowgenError):
        formatted["message"] = original.message
        formatted["extensions"] = original.extensions
        return formatted
    # validation problems, including a scalar refusing a literal (ValueError raised while
    # the document is validated, so the error has no path): the message is for the client
    parse_problem = error.path is None and isinstance(original, ValueError | TypeError)
    variable = _VARIABLE.match(formatted.get("message", "")) if error.path is None else None
    if variable is not None:  # a variable's value refused (by its type or a scalar)
        formatted["extensions"] = {
            "code": "BAD_USER_INPUT",
            "errors": [
                {
                    "path": _variable_path(variable),
                    "message": variable["reason"] or formatted["message"],
                }
            ],
        }
        return formatted
    if original is None or isinstance(original, GraphQLError) or parse_problem:
        ext = dict(formatted.get("extensions") or {})
        cost = "exceeds the maximum cost" in formatted.get("message", "")
        ext.setdefault("code", "QUERY_TOO_COSTLY" if cost else "GRAPHQL_VALIDATION_FAILED")
        formatted["extensions"] = ext
        return formatted
    from flowgen_runtime.core.db import is_unavailable  # (db imports this module)

    if is_unavailable(original):
        log.warning("database unavailable in %s: %s",
                    ".".join(str(p) for p in error.path or []), original)  # fmt: skip
        formatted["message"] = "The database is unavailable; retry shortly."
        formatted["extensions"] = {"code": UNAVAILABLE, "retryable": True}
        return formatted
    log.error(
        "unhandled error in %s", ".".join(str(p) for p in error.path or []), exc_info=original
    )
    formatted["message"] = "Internal server error"
    formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
    if debug:
        formatted["extensions"]["exception"] = {
            "type": type(original).__name__,
            "message": str(original),
        }
    return formatted
