"""Context details the HTTP hot path relies on."""

from __future__ import annotations

from typing import Any

from flowgen_runtime.data.context import Context


def test_the_request_is_built_when_first_asked_for_and_once() -> None:
    built: list[str] = []

    def factory() -> Any:
        built.append("request")
        return {"path": "/graphql"}

    ctx = Context(None, request_factory=factory)  # type: ignore[arg-type]
    assert built == []
    assert ctx.request == {"path": "/graphql"} and ctx.request is ctx.request
    assert built == ["request"]
    assert Context(None).request is None  # type: ignore[arg-type]
