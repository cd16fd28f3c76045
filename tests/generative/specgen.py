"""Random VALID spec folders, as a hypothesis strategy (reusable by any generative test).

``spec_sets()`` draws a :class:`SpecSet`: ``{relative path: YAML data}`` for a whole
specs folder, valid by construction: every field type and option, every relation kind
(self relations, several ``belongs_to`` to one target with their ``has_many`` inverses,
``many_to_many`` with and without ``through`` and with and without a counterpart),
permissions (roles, anonymous, row rules, hidden, readonly, preset), queued mutations, jobs
with payloads, options and schedules, and an optional ``app`` file. Names are drawn from
Python keywords and builtins, SQL and GraphQL keywords, names the generated code itself
uses, and random identifiers.

>>> from hypothesis import given
>>> @given(spec_sets())
... def test_builds(specs: SpecSet) -> None:
...     out = build_spec_set(specs, tmp_path)      # tests/generative/builder.py
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from generator.model.names_check import PY_RESERVED_CLASSES
from generator.names import camel, pascal, plural_tail, snake

# -- name pools ----------------------------------------------------------------------------

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")

PYTHON_KEYWORDS = sorted(k for k in keyword.kwlist + keyword.softkwlist if _IDENT.match(k))
PYTHON_BUILTINS = [
    "list", "dict", "str", "int", "float", "bool", "type", "object", "min", "max", "len",
    "sum", "range", "filter", "map", "input", "format", "hash", "vars", "super", "property",
    "open", "set", "frozenset", "tuple", "bytes", "print", "next", "iter", "any", "all",
]  # fmt: skip
SQL_KEYWORDS = [
    "limit", "order", "group", "select", "user", "table", "where", "offset", "check",
    "default", "primary", "references", "all", "and", "or", "not", "null", "desc", "asc",
    "column", "constraint", "index", "key", "values", "end", "to", "between", "like",
    "current_date", "session_user", "window", "analyse", "having", "union", "unique",
    "foreign", "grant", "natural", "only", "returning", "using", "when", "both", "leading",
]  # fmt: skip
GRAPHQL_WORDS = [
    "query", "mutation", "subscription", "fragment", "on", "input", "enum", "schema",
    "scalar", "interface", "union", "directive", "extend", "implements", "true", "false",
    "typename", "node", "edges", "cursor", "page_info", "total_count", "first", "after",
    "last", "before", "order_by", "group_by", "idempotency_key", "job_id", "inputs",
]  # fmt: skip
GENERATED_NAMES = [
    "meta", "service", "metadata", "registry", "sa", "datetime", "decimal", "uuid",
    "mapped_column", "pattern_match", "json", "copy", "schema", "validate", "construct",
    "field", "fields", "relations", "info", "obj", "args", "create", "update", "delete",
    "order_field", "group_field", "base", "mapped", "literal", "class_var", "model",
    "model_fields", "model_dump", "dict", "parse_obj", "from_orm", "payload", "ctx",
]  # fmt: skip
FIELD_NAME_POOL = sorted(
    set(PYTHON_KEYWORDS + PYTHON_BUILTINS + SQL_KEYWORDS + GRAPHQL_WORDS + GENERATED_NAMES) - {"id"}
)
ENTITY_NAME_POOL = [
    "Book", "Author", "Order", "Group", "User", "Table", "Select", "Class", "Global",
    "Import", "From", "Lambda", "Type", "Object", "List", "Dict", "Str", "Int", "Node",
    "Edge", "Field", "Base", "Any", "Literal", "Mapped", "Enum", "Service", "Meta", "Model",
    "Schema", "Input", "Payload", "Person", "Category", "Status", "Box", "Child", "Job",
    "Registry", "Session", "Filter", "Where", "Page", "Result", "Aggregate", "Numbers",
    "Limit", "Offset", "Check", "Default", "Json", "Uuid", "Datetime", "Sa", "Settings",
]  # fmt: skip
TABLE_HINTS = ["order", "user", "group", "select", "table", "limit", "from", "check"]

FIELD_TYPES = [
    "string", "text", "int", "float", "decimal", "bool", "date", "datetime", "json",
    "enum", "uuid",
]  # fmt: skip
SAFE_PATTERNS = ["^[a-z]+$", "^[a-z0-9 ]*$", "^.*$", "^[A-Za-z][A-Za-z0-9_-]*$"]
CRONS = ["0 3 * * *", "*/5 * * * *", "0 0 1 * *", "15 10 * * 1-5", "0 */2 * * *", "0 0 * * 0"]

random_identifiers = st.from_regex(r"\A[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,4}){0,2}\Z")
random_type_names = st.from_regex(r"\A[A-Z][a-z]{1,7}([A-Z][a-z]{1,5})?\Z")


@dataclass(frozen=True)
class SpecSet:
    """A whole specs folder: ``files`` maps a relative path to the YAML data it holds."""

    files: dict[str, Any] = field(default_factory=dict)

    def write(self, root: Path) -> Path:
        """Write every file under ``root`` (created); return ``root``."""
        for rel, data in sorted(self.files.items()):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return root

    @property
    def entity_names(self) -> list[str]:
        return [d["entity"] for d in self.files.values() if "entity" in d]

    @property
    def queue_names(self) -> list[str]:
        return [d["queue"] for d in self.files.values() if "queue" in d]

    def __repr__(self) -> str:  # readable falsifying examples
        return "SpecSet(\n" + yaml.safe_dump(self.files, sort_keys=True) + ")"


# -- helpers -------------------------------------------------------------------------------


def _names(draw: Any, pool: list[str], n: int, taken: set[str], ok: Any = None) -> list[str]:
    """``n`` names from ``pool`` or random identifiers, none in ``taken`` (updated)."""
    out: list[str] = []
    for _ in range(n * 4):
        if len(out) == n:
            break
        name = draw(st.one_of(st.sampled_from(pool), random_identifiers))
        if name in taken or (ok is not None and not ok(name)):
            continue
        taken.add(name)
        out.append(name)
    return out


def _entity_keys(name: str) -> set[str]:
    """The forms of an entity name the compiler derives (module, table, root fields)."""
    module = snake(name)
    return {module, plural_tail(module), camel(name).lower(), camel(plural_tail(module)).lower()}


def _entity_names(draw: Any, n: int) -> list[str]:
    out: list[str] = []
    keys: set[str] = set()
    for _ in range(n * 4):
        if len(out) == n:
            break
        name = draw(st.one_of(st.sampled_from(ENTITY_NAME_POOL), random_type_names))
        if name in PY_RESERVED_CLASSES:  # refused on purpose (tests/cases/bad_names)
            continue
        mine = _entity_keys(name)
        # no entity name is a prefix of another (Book / BookConnection / Books), and no two
        # share a derived form (Person / People)
        if mine & keys or any(o.startswith(name) or name.startswith(o) for o in out):
            continue
        keys |= mine
        out.append(name)
    return out


def _constrained_value(draw: Any, spec: dict[str, Any]) -> Any:
    """A value of the field's type meeting its own min/max/length/pattern (or None)."""
    t = spec["type"]
    if t in ("string", "text"):
        lo, hi = spec.get("min_length", 0), spec.get("max_length", 12)
        pat = spec.get("pattern")
        alphabet = "abcdefghij" if pat in (None, "^[a-z]+$", "^[A-Za-z][A-Za-z0-9_-]*$") else "ab1 "
        if pat == "^[a-z]+$" or pat == "^[A-Za-z][A-Za-z0-9_-]*$":
            lo = max(lo, 1)
        if lo > hi:
            return None
        return draw(st.text(alphabet, min_size=lo, max_size=min(hi, lo + 8)))
    if t in ("int", "float", "decimal"):
        lo, hi = spec.get("min", -1000), spec.get("max", 1000)
        v = draw(st.integers(int(lo) if lo == int(lo) else int(lo) + 1, int(hi)))
        return str(v) if t == "decimal" else v
    if t == "bool":
        return draw(st.booleans())
    if t == "enum":
        return draw(st.sampled_from(spec["values"]))
    if t == "date":
        return draw(st.sampled_from(["2024-02-29", "now", "1999-12-31"]))
    if t == "datetime":
        return draw(st.sampled_from(["2024-02-29T10:00:00+00:00", "now"]))
    if t == "uuid":
        return "12345678-1234-5678-1234-567812345678"
    return draw(st.sampled_from([{"a": 1}, [1, 2], "x"]))


def _text_options(draw: Any, spec: dict[str, Any]) -> None:
    if draw(st.booleans()):
        spec["max_length"] = draw(st.integers(1, 300))
    if draw(st.booleans()):
        spec["min_length"] = draw(st.integers(0, spec.get("max_length", 10)))
    if draw(st.booleans()):
        spec["pattern"] = draw(st.sampled_from(SAFE_PATTERNS))


def _number_options(draw: Any, spec: dict[str, Any]) -> None:
    if spec["type"] == "decimal":
        spec["precision"] = draw(st.integers(4, 20))
        spec["scale"] = draw(st.integers(0, min(spec["precision"] - 3, 6)))
    if draw(st.booleans()):
        spec["min"] = draw(st.integers(-50, 50))
    if draw(st.booleans()):
        spec["max"] = draw(st.integers(spec.get("min", -50), 500))


def _presence(draw: Any, spec: dict[str, Any], in_payload: bool) -> None:
    """Required, nullable, defaulted (a value meeting the field's constraints) or optional."""
    mode = draw(st.sampled_from(["required", "nullable", "default", "optional"]))
    if mode == "default":
        value = _constrained_value(draw, spec)
        if value is not None and not (value == "now" and in_payload):
            spec["default"] = value
    if "default" not in spec and (mode in ("nullable", "optional") or in_payload):
        spec["nullable"] = True


@st.composite
def field_specs(draw: Any, *, in_payload: bool = False) -> dict[str, Any]:
    """One valid field spec of any type with options that apply to it."""
    t = draw(st.sampled_from(FIELD_TYPES))
    spec: dict[str, Any] = {"type": t}
    if t in ("string", "text"):
        _text_options(draw, spec)
    elif t in ("int", "float", "decimal"):
        _number_options(draw, spec)
    elif t == "enum":
        spec["values"] = draw(
            st.lists(st.one_of(st.sampled_from(FIELD_NAME_POOL), random_identifiers),
                     min_size=1, max_size=4, unique=True)
        )  # fmt: skip
    _presence(draw, spec, in_payload)
    if not in_payload and t not in ("json", "text") and draw(st.integers(0, 5)) == 0:
        spec["unique"] = True
    elif not in_payload and t != "json" and draw(st.integers(0, 4)) == 0:
        spec["index"] = True
    if draw(st.integers(0, 3)) == 0:
        spec["description"] = draw(st.sampled_from(["A field.", 'Says "hi" \\ o/', "é ü 日本"]))
    return spec


def _literal(spec: dict[str, Any], value: Any) -> str:
    """A row-rule literal for ``value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "\\'") + "'"


# -- entities ------------------------------------------------------------------------------


@dataclass
class _Entity:
    name: str
    pk: str
    pk_kind: str
    fields: dict[str, dict[str, Any]]
    relations: dict[str, dict[str, Any]] = field(default_factory=dict)
    table: str | None = None

    def taken(self) -> set[str]:
        names = set(self.fields) | set(self.relations)
        return names | {f"{r}_id" for r, s in self.relations.items() if "belongs_to" in s}


def _new_relation_name(draw: Any, e: _Entity) -> str | None:
    taken = e.taken()

    def ok(n: str) -> bool:
        return f"{n}_id" not in taken and n != "id" and not n.endswith("_id")

    names = _names(draw, FIELD_NAME_POOL, 1, taken, ok)
    return names[0] if names else None


def _draw_entity(draw: Any, name: str, tables: set[str]) -> _Entity:
    pk = draw(st.sampled_from(["id", "id", "key", "from", "pk"]))
    kind = draw(st.sampled_from(["integer", "uuid"]))
    taken: set[str] = {pk, "id"}
    names = _names(draw, FIELD_NAME_POOL, draw(st.integers(1, 6)), taken,
                   lambda n: not n.endswith("_id"))  # fmt: skip
    fields: dict[str, dict[str, Any]] = {}
    if pk != "id" or draw(st.booleans()):
        fields[pk] = {"type": "id", "kind": kind} if kind == "uuid" else {"type": "id"}
    else:
        pk, kind = "id", "integer"
    for n in names:
        fields[n] = draw(field_specs())
    e = _Entity(name, pk, kind, fields)
    if draw(st.integers(0, 3)) == 0:
        table = draw(st.sampled_from(TABLE_HINTS))
        if table not in tables:
            e.table = table
    tables.add(e.table or plural_tail(snake(name)))
    return e


def _belongs_to(draw: Any, e: _Entity, target: _Entity, rname: str) -> None:
    nullable = draw(st.booleans()) or target is e
    rel: dict[str, Any] = {"belongs_to": target.name}
    if nullable:
        rel["nullable"] = True
    choices = ["cascade", "set_null", "restrict"] if nullable else ["cascade", "restrict"]
    rel["on_delete"] = draw(st.sampled_from(choices))
    e.relations[rname] = rel
    if draw(st.booleans()):  # its has_many inverse on the target
        back = _new_relation_name(draw, target)
        if back is not None:
            target.relations[back] = {"has_many": e.name, "inverse": rname}


def _many_to_many(draw: Any, e: _Entity, target: _Entity, rname: str, tables: set[str]) -> None:
    rel: dict[str, Any] = {"many_to_many": target.name}
    through = None
    if draw(st.booleans()):
        through = f"{snake(e.name)}_{rname}_links"
        if through in tables:
            return
        tables.add(through)
        rel["through"] = through
    else:
        tables.add(f"{e.table or plural_tail(snake(e.name))}_{rname}")
    e.relations[rname] = rel
    if draw(st.booleans()):  # a counterpart on the target
        back = _new_relation_name(draw, target)
        if back is not None:
            rel["inverse"] = back
            other: dict[str, Any] = {"many_to_many": e.name, "inverse": rname}
            if through:
                other["through"] = through
            target.relations[back] = other


def _draw_relations(draw: Any, ents: list[_Entity], tables: set[str]) -> None:
    for e in ents:
        for _ in range(draw(st.integers(0, 3))):
            target = draw(st.sampled_from(ents))
            kind = draw(st.sampled_from(["belongs_to", "belongs_to", "many_to_many"]))
            rname = _new_relation_name(draw, e)
            if rname is None:
                continue
            if kind == "belongs_to":
                _belongs_to(draw, e, target, rname)
            else:
                _many_to_many(draw, e, target, rname, tables)


def _row_rule(draw: Any, e: _Entity, by_name: dict[str, _Entity]) -> str | None:
    """A row rule over the entity's fields and belongs_to relations, or None."""
    rules = []
    for n, s in e.fields.items():
        if s["type"] in ("string", "text", "int", "enum", "bool"):
            v = _constrained_value(draw, s)
            if v is not None:
                rules.append(f"{n} = {_literal(s, v)}")
        if s.get("nullable"):
            rules.append(f"{n} = null")
    for r, s in e.relations.items():
        if "belongs_to" in s:
            rules.append(f"{r}_id = $user.id")
            rules.append(f"{r}.{by_name[s['belongs_to']].pk} != null")
    if not rules:
        return None
    picked = draw(st.lists(st.sampled_from(rules), min_size=1, max_size=2))
    return str(draw(st.sampled_from([" and ", " or "])).join(picked))


def _preset(draw: Any, plain: dict[str, Any], readonly: list[str]) -> dict[str, Any]:
    for n, s in plain.items():
        if s["type"] in ("string", "text") and n not in readonly:
            v = _constrained_value(draw, s)
            if v is not None:
                return {n: v}
    return {}


def _grant(draw: Any, e: _Entity, op: str, by_name: dict[str, _Entity]) -> dict[str, Any]:
    g: dict[str, Any] = {}
    if draw(st.booleans()):
        g["roles"] = draw(st.lists(st.sampled_from(["admin", "user", "authenticated", "class"]),
                                   min_size=1, max_size=2, unique=True))  # fmt: skip
    if "roles" not in g or draw(st.booleans()):
        g["anonymous"] = True
    plain = {n: s for n, s in e.fields.items() if s["type"] not in ("id", "json")}
    if op != "create" and draw(st.booleans()):
        rule = _row_rule(draw, e, by_name)
        if rule:
            g["row"] = rule
    some_fields = st.lists(st.sampled_from(sorted(plain or {"x": 0})), max_size=2, unique=True)
    if op == "read" and plain and draw(st.booleans()):
        g["hidden"] = draw(some_fields)
    if op in ("create", "update") and plain and draw(st.booleans()):
        g["readonly"] = draw(some_fields)
    if op in ("create", "update") and draw(st.booleans()):
        g["preset"] = _preset(draw, plain, g.get("readonly", []))
    return g


def _operations(draw: Any, queues: list[str]) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for op in ("get", "list", "create", "update", "delete"):
        roll = draw(st.integers(0, 7))
        if roll == 0:
            ops[op] = False
        elif roll == 1 and op in ("create", "update", "delete") and queues:
            ops[op] = {"queued": True, "queue": draw(st.sampled_from(queues))}
    return ops


def _column_sets(draw: Any, e: _Entity, data: dict[str, Any]) -> None:
    plain = [n for n, s in e.fields.items() if s["type"] not in ("id", "json", "text")]
    cols = plain + [r for r, s in e.relations.items() if "belongs_to" in s]
    some = st.lists(st.sampled_from(cols or ["x"]), min_size=1, max_size=2, unique=True)
    for key in ("unique", "indexes"):
        if cols and draw(st.integers(0, 3)) == 0:
            data[key] = [draw(some)]


def _entity_data(
    draw: Any, e: _Entity, by_name: dict[str, _Entity], queues: list[str]
) -> dict[str, Any]:
    data: dict[str, Any] = {"entity": e.name}
    if e.table:
        data["table"] = e.table
    if draw(st.booleans()):
        data["description"] = f"The {e.name} entity."
    data["fields"] = e.fields
    if e.relations:
        data["relations"] = e.relations
    _column_sets(draw, e, data)
    ops = _operations(draw, queues)
    if ops:
        data["operations"] = ops
    data["cache"] = draw(st.sampled_from([{"ttl": 30}, "off", 120, {"enabled": True}]))
    if draw(st.booleans()):
        perms = {}
        for op in ("read", "create", "update", "delete"):
            if draw(st.integers(0, 3)):
                perms[op] = [_grant(draw, e, op, by_name) for _ in range(draw(st.integers(1, 2)))]
        data["permissions"] = perms
    return data


# -- queues --------------------------------------------------------------------------------


def _safe(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name


def _job_options(draw: Any) -> dict[str, Any]:
    o: dict[str, Any] = {}
    if draw(st.booleans()):
        o["attempts"] = draw(st.integers(1, 5))
    backoff = draw(st.sampled_from([None, "fixed", "exponential", "custom"]))
    if backoff == "custom":
        o["backoff"] = {"type": "custom", "delays_ms": [100, 1000]}
    elif backoff:
        o["backoff"] = {"type": backoff, "delay_ms": draw(st.integers(0, 5000))}
    for key, strat in (("delay_ms", st.integers(0, 1000)), ("priority", st.integers(0, 10)),
                       ("timeout_ms", st.integers(1, 60000))):  # fmt: skip
        if draw(st.integers(0, 3)) == 0:
            o[key] = draw(strat)
    if draw(st.integers(0, 3)) == 0:
        o["remove_on_complete"] = {"count": 10, "age_s": 3600}
    if draw(st.integers(0, 3)) == 0:
        o["remove_on_fail"] = {"count": 100}
    return o


def _job(draw: Any, queue: str, jname: str) -> dict[str, Any]:
    job: dict[str, Any] = {"handler": f"handlers.{_safe(snake(queue))}.{_safe(jname)}"}
    scheduled = draw(st.integers(0, 3)) == 0
    payload_names = _names(draw, FIELD_NAME_POOL, draw(st.integers(0, 3)), set())
    if payload_names:
        job["payload"] = {}
        for p in payload_names:
            spec = draw(field_specs(in_payload=scheduled))
            job["payload"][p] = {k: v for k, v in spec.items() if k not in ("unique", "index")}
    if draw(st.booleans()):
        job["options"] = _job_options(draw)
    if scheduled:
        job["schedule"] = (
            {"cron": draw(st.sampled_from(CRONS))}
            if draw(st.booleans())
            else {"every_ms": draw(st.integers(1000, 600000))}
        )
    if draw(st.booleans()):
        job["permissions"] = [{"roles": ["admin"]}, {"anonymous": True}][: draw(st.integers(1, 2))]
    if draw(st.booleans()):
        job["description"] = f"Job {jname}."
    return job


def _queue_data(draw: Any, name: str, job_roots: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"queue": name}
    if draw(st.booleans()):
        data["concurrency"] = draw(st.integers(1, 20))
    if draw(st.integers(0, 3)) == 0:
        data["rate_limit"] = {"max": draw(st.integers(1, 50)), "duration_ms": 1000}
    if draw(st.booleans()):
        data["defaults"] = _job_options(draw)

    def ok(n: str) -> bool:
        root = pascal(n)
        return not any(root.startswith(r) or r.startswith(root) for r in job_roots)

    jobs: dict[str, Any] = {}
    for jname in _names(draw, FIELD_NAME_POOL, draw(st.integers(0, 3)), set(), ok):
        job_roots.add(pascal(jname))
        jobs[jname] = _job(draw, name, jname)
    if jobs:
        data["jobs"] = jobs
    return data


# -- the strategy --------------------------------------------------------------------------


@st.composite
def spec_sets(draw: Any, *, max_entities: int = 4, max_queues: int = 2) -> SpecSet:
    """A whole valid specs folder (entities, queues, maybe an app file)."""
    names = _entity_names(draw, draw(st.integers(0, max_entities)))
    queue_names = _names(
        draw, FIELD_NAME_POOL, draw(st.integers(0, max_queues)), set(),
        lambda n: not keyword.iskeyword(n) and not keyword.issoftkeyword(n),
    )  # fmt: skip
    tables: set[str] = set()
    ents = [_draw_entity(draw, n, tables) for n in names]
    _draw_relations(draw, ents, tables)
    by_name = {e.name: e for e in ents}
    files: dict[str, Any] = {}
    for e in ents:
        files[f"entities/{snake(e.name)}.yaml"] = _entity_data(draw, e, by_name, queue_names)
    job_roots = set(names)
    for q in queue_names:
        files[f"jobs/{q}.yaml"] = _queue_data(draw, q, job_roots)
    if not files or draw(st.booleans()):
        default = draw(st.integers(1, 50))
        app: dict[str, Any] = {"app": "genapp", "default_page_size": default}
        app["max_page_size"] = draw(st.integers(default, 200))
        files["app.yaml"] = app
    return SpecSet(files)
