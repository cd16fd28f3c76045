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


def _paged(maximum: int = 1000) -> Any:
    from flowgen_runtime.graphql.schema import cost_rule

    cost_map = connection_cost_map(REGISTRY.schema)

    def rules(variables: Any) -> list[Any]:
        return [cost_rule(maximum_cost=maximum, default_page_size=20, cost_map=cost_map,
                          variables=variables)]  # fmt: skip

    return rules


def test_the_cost_counts_variable_defaults_and_lists_without_first() -> None:
    cache = DocumentCache(REGISTRY.schema, {}, [])
    by_default = cache.get(
        "query($n: Int = 100) { users(first: $n) { nodes { exams(first: $n) { nodes { id } } } } }"
    )
    refused = cache.validate(by_default, {}, _paged())
    assert refused and "cost" in refused[0].message.lower()
    assert cache.validate(by_default, {"n": 2}, _paged()) == []  # a given value wins
    # no first: each list counts at the default page size (20 x 20 x 20 > 1000)
    unbounded = cache.get("{ users { nodes { exams { nodes { questions { nodes { id } } } } } } }")
    refused = cache.validate(unbounded, {}, _paged())
    assert refused and "cost" in refused[0].message.lower()
    fresh = DocumentCache(REGISTRY.schema, {}, [])  # (results are kept per document)
    assert fresh.validate(fresh.get(unbounded.text), {}, _paged(100_000)) == []


def test_the_document_cache_is_bounded_by_bytes() -> None:
    cache = DocumentCache(REGISTRY.schema, {}, [], max_bytes=1000)
    texts = [f"{{ users(first: {n}) {{ nodes {{ id }} }} }}" + " " * 200 for n in range(20)]
    for text in texts:
        cache.get(text)
    assert cache.bytes <= 1000 and len(cache._docs) == 1000 // len(texts[0])
    huge = "{ users { nodes { id } } }" + " " * 2000
    assert cache.get(huge).node is not None and cache.bytes <= 1000  # answered, not kept


def test_too_many_fields_or_schema_lookups_are_refused() -> None:
    from flowgen_runtime.graphql.schema import field_limit

    cache = DocumentCache(REGISTRY.schema, {}, [field_limit(50)])
    aliased = "{ " + " ".join(f"a{i}: apiVersion" for i in range(51)) + " }"
    errors = cache.validate(cache.get(aliased), {}, lambda _v: [])
    assert errors and errors[0].extensions == {"code": "QUERY_TOO_LARGE"}
    frag = (
        "fragment F on User { id name email } { users { nodes { ...F ...F } } "
        + " ".join(f"u{i}: users {{ nodes {{ ...F }} }}" for i in range(20))
        + " }"
    )
    assert cache.validate(cache.get(frag), {}, lambda _v: [])  # fragments count where spread
    schema = "{ a: __schema { queryType { name } } b: __schema { queryType { name } } }"
    assert cache.validate(cache.get(schema), {}, lambda _v: [])
    assert cache.validate(cache.get("{ __schema { queryType { name } } }"), {}, lambda _v: []) == []


def test_a_named_query_sent_without_operation_name_is_cacheable() -> None:
    """GraphQL runs a document's only operation when no operationName is sent: its cache
    TTL must be found under None too (it was not, so such queries were never cached)."""
    cache = DocumentCache(REGISTRY.schema, {"User": 30}, [])
    named = cache.get("query Me { user(id: 1) { id } }")
    assert named.cache_ttl == {"Me": 30, None: 30}
    two = cache.get("query A { user(id: 1) { id } } query B { user(id: 2) { id } }")
    assert None not in two.cache_ttl  # ambiguous: graphql-core refuses it anyway
