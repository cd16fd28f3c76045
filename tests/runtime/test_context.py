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


def test_acting_as_the_system_is_explicit_and_logged(caplog: Any) -> None:
    from flowgen_runtime.auth.access import Identity
    from flowgen_runtime.core.errors import ForbiddenError

    class Meta:
        name = "Thing"
        permissions = {"read": ()}  # nobody may read

    me = Identity("7", frozenset({"student"}))
    ctx = Context(None, identity=me, request_id="r1")  # type: ignore[arg-type]
    try:
        ctx.access(Meta, "read")
        raise AssertionError("the caller has no read access")
    except ForbiddenError:
        pass
    with caplog.at_level("INFO", logger="flowgen.access"):
        system = ctx.as_system("grading")
    assert system.system and system.identity is me and system.request_id == "r1"
    assert system.access(Meta, "read").rows is None and not ctx.system
    assert "acting as the system for user 7: grading" in caplog.text


def test_whole_response_cache_scopes_hold_every_claim_a_rule_reads() -> None:
    from types import SimpleNamespace

    from flowgen_runtime.auth.access import Grant, Identity
    from flowgen_runtime.data.context import caller_scope, claims_read

    rule = {"org_id": {"eq": {"$user": "org"}}}
    meta = SimpleNamespace(permissions={"read": (Grant(roles=frozenset({"t"}), row=rule),)})
    registry = SimpleNamespace(services={"Doc": SimpleNamespace(meta=meta)})
    state = SimpleNamespace(registry=registry)
    paths = claims_read(registry)
    assert paths == {"org"} and claims_read(registry) is paths
    one, two = (Identity("7", frozenset({"t"}), {"org": n, "iat": n}) for n in (1, 2))
    assert caller_scope(one, claims=paths) != caller_scope(two, claims=paths)
    assert Context(state, identity=one).scope != Context(state, identity=two).scope  # type: ignore[arg-type]
    same = Identity("7", frozenset({"t"}), {"org": 1, "iat": 99})  # a claim no rule reads
    assert Context(state, identity=one).scope == Context(state, identity=same).scope  # type: ignore[arg-type]
