"""DocumentCache: what is validated once, and what again for new variables."""

from __future__ import annotations

from typing import Any

from ariadne.validation import cost_validator
from flowgen_runtime.graphql.documents import DocumentCache
from flowgen_runtime.graphql.schema import connection_cost_map

from generated.registry import REGISTRY

QUERY = "query($n: Int, $s: String) { users(first: $n, where: {name: {eq: $s}}) { nodes { id } } }"


def _cache() -> tuple[DocumentCache, list[Any]]:
    calls: list[Any] = []
    cost_map = connection_cost_map(REGISTRY.schema)

    def rules(variables: Any) -> list[Any]:
        calls.append(variables)
        return [cost_validator(maximum_cost=500, variables=variables, cost_map=cost_map)]

    return DocumentCache(REGISTRY.schema, {}, []), [calls, rules]


def test_the_cost_rule_runs_again_only_for_new_values_of_the_variables_it_reads() -> None:
    cache, (calls, rules) = _cache()
    doc = cache.get(QUERY)
    for s in ("a", "b", "c"):  # $s feeds no first/last: one validation for all three
        assert cache.validate(doc, {"n": 5, "s": s}, rules) == []
    assert len(calls) == 1
    assert cache.validate(doc, {"n": 6, "s": "a"}, rules) == []
    assert len(calls) == 2


def test_the_cost_limit_still_holds_for_every_value_of_first() -> None:
    cache, (calls, rules) = _cache()
    doc = cache.get(QUERY)
    assert cache.validate(doc, {"n": 10, "s": "x"}, rules) == []
    refused = cache.validate(doc, {"n": 10_000, "s": "x"}, rules)
    assert refused and "cost" in refused[0].message.lower()
    assert cache.validate(doc, {"n": 10_000, "s": "y"}, rules) == refused


def test_a_mutation_with_variables_only_in_its_input_is_validated_once() -> None:
    cache, (calls, rules) = _cache()
    doc = cache.get("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }")
    for n in range(5):
        assert cache.validate(doc, {"i": {"name": f"u{n}", "email": f"{n}@x.io"}}, rules) == []
    assert len(calls) == 1
