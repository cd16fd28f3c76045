"""Random valid specs and random edits of them, with the rows each edit must keep.

An :class:`Evolution` is a spec (entities with fields and relations) plus the rows written
so far, as the database should hold them. ``Evolution.start(seed)`` draws a first spec;
``evolution.edit(choice)`` applies one edit, picked and parametrised by the integer
``choice`` (so hypothesis shrinks edit lists, and a failing list is an explicit
``@example``), and moves the expected rows the way the migration must (renamed, converted,
filled with the default, dropped). Every kind of change the README's field table lists is
an edit: entities and fields added (with defaults, nullable, required), relations
(belongs_to, many-to-many with or without ``through``), renames of entities and fields,
strings widened and narrowed, enum values added and removed, unique constraints and
indexes, type changes, fields made required, removals.

>>> evo = Evolution.start(3)
>>> sorted(evo.entities) == sorted(set(evo.entities))
True
>>> isinstance(evo.edit(5), str)
True
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from generator.names import plural, snake

ENTITY_NAMES = ["Station", "Line", "Depot", "Ticket", "Route", "Driver", "Stop", "Zone", "Fare"]
FIELD_NAMES = ["title", "code", "note", "level", "amount", "flag", "kind", "label", "rank"]
ENUM_VALUES = ["red", "green", "blue", "amber", "white"]
TYPES = ["string", "text", "int", "decimal", "bool", "enum"]


@dataclass
class FieldDef:
    type: str
    nullable: bool = False
    default: Any = None
    unique: bool = False
    index: bool = False
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: list[str] = field(default_factory=list)
    min: int | None = None
    description: str | None = None
    renamed_from: str | None = None

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key in ("nullable", "unique", "index"):
            if getattr(self, key):
                out[key] = True
        keys = ("default", "max_length", "precision", "scale", "min", "description")
        for key in (*keys, "renamed_from"):
            if getattr(self, key) is not None:
                value = getattr(self, key)
                out[key] = float(value) if isinstance(value, Decimal) else value
        if self.values:
            out["values"] = list(self.values)
        return out


@dataclass
class RelationDef:
    kind: str  # belongs_to | many_to_many
    target: str
    through: str | None = None

    def spec(self) -> dict[str, Any]:
        if self.kind == "belongs_to":
            return {"belongs_to": self.target, "nullable": True}
        out: dict[str, Any] = {"many_to_many": self.target}
        if self.through:
            out["through"] = self.through
        return out


@dataclass
class EntityDef:
    fields: dict[str, FieldDef] = field(default_factory=dict)
    relations: dict[str, RelationDef] = field(default_factory=dict)
    indexes: list[list[str]] = field(default_factory=list)  # composite indexes (fields)
    renamed_from: str | None = None


@dataclass
class Evolution:
    """A spec and the rows it holds; ``rows[entity][id] = {field or belongs_to: value}``,
    ``links[(entity, relation)] = {(own id, target id)}`` for many-to-many relations."""

    entities: dict[str, EntityDef] = field(default_factory=dict)
    rows: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    links: dict[tuple[str, str], set[tuple[int, int]]] = field(default_factory=dict)
    counter: int = 0
    destructive: bool = False  # the last edit needs --allow-destructive

    @classmethod
    def start(cls, seed: int) -> Evolution:
        rng = random.Random(seed)
        evo = cls()
        for _ in range(rng.randint(1, 3)):
            evo._add_entity(rng)
        if rng.random() < 0.5:
            evo._add_relation(rng)
        return evo

    # -- the spec ---------------------------------------------------------------------

    def files(self) -> dict[str, str]:
        out = {"app.yaml": "app: evo\n"}
        for name, e in sorted(self.entities.items()):
            doc: dict[str, Any] = {"entity": name}
            if e.renamed_from:
                doc["renamed_from"] = e.renamed_from
            doc["fields"] = {n: f.spec() for n, f in e.fields.items()}
            if e.relations:
                doc["relations"] = {n: r.spec() for n, r in e.relations.items()}
            if e.indexes:
                doc["indexes"] = [list(i) for i in e.indexes]
            out[f"entities/{snake(name)}.yaml"] = yaml.safe_dump(doc, sort_keys=False)
        return out

    def settle(self) -> None:
        """After a build: the renames are migrated, drop them from the spec."""
        for e in self.entities.values():
            e.renamed_from = None
            for f in e.fields.values():
                f.renamed_from = None

    def copy(self) -> Evolution:
        return copy.deepcopy(self)

    # -- edits ------------------------------------------------------------------------

    def edit(self, choice: int) -> str:
        """Apply the edit ``choice`` picks among those that apply; a description of it."""
        rng = random.Random(choice)
        kinds = list(EDITS)
        start = choice % len(kinds)
        self.destructive = False
        for kind in kinds[start:] + kinds[:start]:
            done = EDITS[kind](self, rng)
            if done:
                return f"{kind}: {done}"
        raise AssertionError("no edit applies")  # add_entity always applies until names run out

    def _fields(self, pred: Callable[[str, str, FieldDef], bool]) -> list[tuple[str, str]]:
        return [
            (en, fn)
            for en, e in sorted(self.entities.items())
            for fn, f in e.fields.items()
            if pred(en, fn, f)
        ]

    def _new_field(self, rng: random.Random, *, with_default: bool) -> FieldDef:
        kind = rng.choice(TYPES)
        f = FieldDef(kind)
        if kind == "string":
            f.max_length = rng.choice([20, 40, 255])
        elif kind == "decimal":
            f.precision, f.scale = rng.choice([(10, 2), (12, 2), (8, 3)])
        elif kind == "enum":
            f.values = rng.sample(ENUM_VALUES, rng.randint(2, 3))
        if with_default:
            if rng.random() < 0.5 and kind != "bool":
                f.nullable = True
            else:
                f.default = _default_of(f)
        return f

    def _add_entity(self, rng: random.Random) -> str | None:
        free = [n for n in ENTITY_NAMES if n not in self.entities]
        if not free or len(self.entities) >= 4:
            return None
        name = rng.choice(free)
        e = EntityDef()
        for fname in rng.sample(FIELD_NAMES, rng.randint(1, 3)):
            e.fields[fname] = self._new_field(rng, with_default=rng.random() < 0.5)
        self.entities[name] = e
        self.rows[name] = {}
        return name

    def _add_field(self, rng: random.Random) -> str | None:
        if not self.entities:
            return None
        en = rng.choice(sorted(self.entities))
        e = self.entities[en]
        free = [n for n in FIELD_NAMES if n not in e.fields]
        if not free:
            return None
        fn = rng.choice(free)
        f = self._new_field(rng, with_default=True)  # existing rows need a value
        e.fields[fn] = f
        for row in self.rows[en].values():
            row[fn] = f.default
        return f"{en}.{fn} {f.spec()}"

    def _add_relation(self, rng: random.Random) -> str | None:
        names = sorted(self.entities)
        if len(names) < 2:
            return None
        en, target = rng.sample(names, 2)
        e = self.entities[en]
        if rng.random() < 0.5:
            rel = snake(target)
            if rel in e.relations:
                return None
            e.relations[rel] = RelationDef("belongs_to", target)
            for row in self.rows[en].values():
                row[rel] = None
        else:
            rel = plural(snake(target))
            taken = any(
                r.kind == "many_to_many" and r.target == en
                for r in self.entities[target].relations.values()
            )
            if rel in e.relations or taken:
                return None
            through = f"{snake(en)}_{snake(target)}_links" if rng.random() < 0.5 else None
            e.relations[rel] = RelationDef("many_to_many", target, through)
            self.links[(en, rel)] = set()
        return f"{en}.{rel} {e.relations[rel].spec()}"

    def _rename_entity(self, rng: random.Random) -> str | None:
        free = [n for n in ENTITY_NAMES if n not in self.entities]
        if not self.entities or not free:
            return None
        old, new = rng.choice(sorted(self.entities)), rng.choice(free)
        e = self.entities.pop(old)
        e.renamed_from = old
        self.entities[new] = e
        self.rows[new] = self.rows.pop(old)
        for other in self.entities.values():
            for r in other.relations.values():
                if r.target == old:
                    r.target = new
        self.links = {(new if en == old else en, rel): v for (en, rel), v in self.links.items()}
        return f"{old} -> {new}"

    def _rename_field(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: True)
        if not found:
            return None
        en, fn = rng.choice(found)
        e = self.entities[en]
        free = [n for n in FIELD_NAMES if n not in e.fields]
        if not free:
            return None
        new = rng.choice(free)
        f = e.fields.pop(fn)
        f.renamed_from = fn
        e.fields[new] = f
        e.indexes = [[new if x == fn else x for x in i] for i in e.indexes]
        for row in self.rows[en].values():
            row[new] = row.pop(fn)
        return f"{en}.{fn} -> {new}"

    def _resize_string(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: f.type == "string")
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        longest = max((len(str(r[fn])) for r in self.rows[en].values() if r[fn]), default=0)
        size = rng.choice([12, 30, 60, 255, 400])
        if size < max(longest, len(str(f.default or ""))) or size == f.max_length:
            return None
        self.destructive = size < (f.max_length or 255)
        was, f.max_length = f.max_length, size
        return f"{en}.{fn} max_length {was} -> {size}"

    def _enum_values(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: f.type == "enum")
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        used = {r[fn] for r in self.rows[en].values()} | {f.default, f.values[0]}
        free = [v for v in ENUM_VALUES if v not in f.values]
        unused = [v for v in f.values if v not in used]
        if unused and (not free or rng.random() < 0.5):
            gone = rng.choice(unused)
            f.values.remove(gone)
            self.destructive = True
            return f"{en}.{fn} drops {gone}"
        if not free:
            return None
        f.values.insert(rng.randint(0, len(f.values)), rng.choice(free))
        return f"{en}.{fn} values {f.values}"

    def _unique_or_index(self, rng: random.Random) -> str | None:
        def distinct(en: str, fn: str, f: FieldDef) -> bool:
            values = [r[fn] for r in self.rows[en].values() if r[fn] is not None]
            return f.type in ("string", "int") and len(values) == len(set(values))

        found = self._fields(distinct)
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        key = rng.choice(["unique", "index"])
        setattr(f, key, not getattr(f, key))
        return f"{en}.{fn} {key}={getattr(f, key)}"

    def _change_type(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: f.type in ("int", "string", "decimal"))
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        if f.type == "int":
            to = rng.choice(["string", "text", "decimal", "narrow decimal"])
        elif f.type == "string":
            to = "text"
        else:
            to = "wider decimal"
        was = f.spec()
        f.min = None  # a bound is for numbers
        if to in ("string", "text"):
            convert: Callable[[Any], Any] = str
            f.type, f.max_length = to, None
        elif to == "wider decimal":
            convert = Decimal
            f.precision = (f.precision or 18) + 4
        else:
            convert = Decimal
            f.type, f.precision, f.scale = "decimal", 12 if to == "decimal" else 8, 2
            self.destructive = to == "narrow decimal"
            f.unique = f.index = False  # comparisons of decimals: keep the constraints simple
        f.default = None if f.default is None else convert(f.default)
        for row in self.rows[en].values():
            row[fn] = None if row[fn] is None else convert(row[fn])
        return f"{en}.{fn} {was} -> {f.spec()}"

    def _require(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: f.nullable and not f.unique)
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        f.nullable, f.default = False, _default_of(f)
        if f.min is not None:
            f.default = max(f.default, f.min)
        for row in self.rows[en].values():
            if row[fn] is None:
                row[fn] = f.default
        return f"{en}.{fn} required, default {f.default!r}"

    def _remove_field(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: len(self.entities[en].fields) > 1)
        if not found:
            return None
        en, fn = rng.choice(found)
        e = self.entities[en]
        del e.fields[fn]
        e.indexes = [i for i in e.indexes if fn not in i]
        for row in self.rows[en].values():
            del row[fn]
        self.destructive = True
        return f"{en}.{fn}"

    def _remove_relation(self, rng: random.Random) -> str | None:
        found = [(en, rn) for en, e in sorted(self.entities.items()) for rn in e.relations]
        if not found:
            return None
        en, rn = rng.choice(found)
        self._drop_relation(en, rn)
        self.destructive = True
        return f"{en}.{rn}"

    def _drop_relation(self, en: str, rn: str) -> None:
        r = self.entities[en].relations.pop(rn)
        if r.kind == "belongs_to":
            for row in self.rows[en].values():
                del row[rn]
        else:
            del self.links[(en, rn)]

    def _remove_entity(self, rng: random.Random) -> str | None:
        if len(self.entities) < 2:
            return None
        gone = rng.choice(sorted(self.entities))
        for en, e in self.entities.items():
            for rn in [rn for rn, r in e.relations.items() if r.target == gone or en == gone]:
                self._drop_relation(en, rn)
        del self.entities[gone]
        del self.rows[gone]
        self.destructive = True
        return gone

    def _change_default(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: f.type in ("int", "string", "bool", "text"))
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        new = {"int": max(7, f.min or 7), "string": "other", "text": "more", "bool": True}[f.type]
        if f.default == new or (f.default is None and not f.nullable):
            return None  # a required field stays required (no default to give)
        f.default = new if f.default is None or rng.random() < 0.7 else None
        if f.default is None:
            f.nullable = True
        return f"{en}.{fn} default {f.default!r}"

    def _bound(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: f.type == "int")
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        low = min((r[fn] for r in self.rows[en].values() if r[fn] is not None), default=0)
        low = min(low, f.default if isinstance(f.default, int) else low)
        f.min = None if f.min is not None else int(low) - rng.randint(0, 2)
        return f"{en}.{fn} min {f.min}"

    def _describe(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: True)
        if not found:
            return None
        en, fn = rng.choice(found)
        f = self.entities[en].fields[fn]
        f.description = None if f.description else f"The {fn} of a {en.lower()}."
        return f"{en}.{fn} description {f.description!r}"

    def _make_nullable(self, rng: random.Random) -> str | None:
        found = self._fields(lambda en, fn, f: not f.nullable)
        if not found:
            return None
        en, fn = rng.choice(found)
        self.entities[en].fields[fn].nullable = True
        return f"{en}.{fn} nullable"

    def _composite_index(self, rng: random.Random) -> str | None:
        found = [en for en, e in sorted(self.entities.items()) if len(e.fields) >= 2]
        if not found:
            return None
        en = rng.choice(found)
        e = self.entities[en]
        if e.indexes:
            gone = e.indexes.pop()
            return f"{en} drops index {gone}"
        e.indexes.append(rng.sample(sorted(e.fields), 2))
        return f"{en} index {e.indexes[-1]}"

    # -- rows -------------------------------------------------------------------------

    def new_rows(self, rng: random.Random) -> tuple[dict[str, list[dict[str, Any]]], list[Any]]:
        """Rows to insert (per entity, ids chosen here) and links (entity, relation, a, b)."""
        inserts: dict[str, list[dict[str, Any]]] = {}
        for en, e in sorted(self.entities.items()):
            for _ in range(rng.randint(0, 3)):
                row_id = max(self.rows[en], default=0) + 1
                row: dict[str, Any] = {"id": row_id}
                for fn, f in e.fields.items():
                    row[fn] = self._value(f, rng)
                for rn, r in e.relations.items():
                    if r.kind == "belongs_to":
                        ids = sorted(self.rows[r.target])
                        row[rn] = rng.choice(ids) if ids and rng.random() < 0.7 else None
                self.rows[en][row_id] = {k: v for k, v in row.items() if k != "id"}
                inserts.setdefault(en, []).append(row)
        links = []
        for (en, rn), pairs in sorted(self.links.items()):
            target = self.entities[en].relations[rn].target
            for _ in range(rng.randint(0, 3)):
                if self.rows[en] and self.rows[target]:
                    pair = (
                        rng.choice(sorted(self.rows[en])),
                        rng.choice(sorted(self.rows[target])),
                    )
                    if pair not in pairs:
                        pairs.add(pair)
                        links.append((en, rn, *pair))
        return inserts, links

    def _value(self, f: FieldDef, rng: random.Random) -> Any:
        if f.nullable and rng.random() < 0.25:
            return None
        self.counter += 1
        n = self.counter
        if f.type in ("string", "text"):
            return f"{f.type[0]}{n}"
        if f.type == "int":
            return -n if rng.random() < 0.3 and f.min is None else n
        if f.type == "decimal":
            return Decimal(n) + Decimal("0.25")
        if f.type == "bool":
            return n % 2 == 0
        return f.values[0]


def _default_of(f: FieldDef) -> Any:
    return {
        "string": "none",
        "text": "empty",
        "int": 0,
        "decimal": Decimal("1.5"),
        "bool": False,
        "enum": f.values[0] if f.values else None,
    }[f.type]


EDITS: dict[str, Callable[[Evolution, random.Random], str | None]] = {
    "add entity": Evolution._add_entity,
    "add field": Evolution._add_field,
    "add relation": Evolution._add_relation,
    "rename entity": Evolution._rename_entity,
    "rename field": Evolution._rename_field,
    "resize string": Evolution._resize_string,
    "enum values": Evolution._enum_values,
    "unique or index": Evolution._unique_or_index,
    "change type": Evolution._change_type,
    "require field": Evolution._require,
    "change default": Evolution._change_default,
    "bound": Evolution._bound,
    "describe": Evolution._describe,
    "make nullable": Evolution._make_nullable,
    "composite index": Evolution._composite_index,
    "remove field": Evolution._remove_field,
    "remove relation": Evolution._remove_relation,
    "remove entity": Evolution._remove_entity,
}
