"""The internal elementary operators of ``transform records`` (one PACT contract each; sopremo_cleansing.transform).

A *source tuple* is a list with one slot per input of transform records: the joined record of each input the
tuple covers, None elsewhere. Expressions over the inputs are compiled with one argument per input (the tuple
spread), then one per entity name (``Var``), so ``$m.name`` and ``$company.id`` read the right value.
- ``StartTuples`` (Map): record of input ``slot`` -> tuple;
- ``JoinTuples`` (Match on an equality conjunct, else Cross): tuple x record of input ``slot`` -> tuple;
- ``FilterTuples`` (Map): keeps tuples satisfying the applicable where conjuncts;
- ``OuterJoinTuples`` (CoGroup on an equality conjunct, else one group): tuple x records of input ``slot``
  satisfying the linking conjuncts, a tuple without any kept with None in ``slot`` (left outer join);
- ``BuildEntities`` (Map): tuple -> ``(group key, record)`` of one entity (its references built first);
- ``MergeEntities`` (Reduce per group key): one merged record per entity identity (sopremo_cleansing.transform).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from collections import Counter

from sopremo.api import (MISSING, CoGroup, Comparison, Cross, Expression, InputRef, Map, Match, OperatorError, Reduce,
                         compile_expression, hashable, input_refs, replace_inputs, truthy)

from .detect_internal import Internal, contract_args
from .pairs import canonical

_NO_MATCH = (("missing",), 0), (("missing",), 1)  # per side: missing keys of the two sides never match


def equi_key(conjunct: Expression, joined: set[int], slot: int) -> tuple[Expression, Expression] | None:
    """``(tuple side, record side)`` of an equality conjunct linking input ``slot`` to inputs already
    ``joined``, else None."""
    if not (isinstance(conjunct, Comparison) and conjunct.op == "=="):
        return None
    for a, b in ((conjunct.left, conjunct.right), (conjunct.right, conjunct.left)):
        if input_refs(b) == {slot} and input_refs(a) and input_refs(a) <= joined:
            return a, b
    return None


def _over_tuple(expr: Expression, arity: int, names: tuple[str, ...] = ()) -> Callable[..., Any]:
    return compile_expression(expr, arity, names)


def _key(value: Any, side: int = 0) -> Any:
    return _NO_MATCH[side] if value is MISSING or value is None else hashable(value)


class StartTuples(Internal):
    """Map: each record of the input -> a tuple with the record in ``slot``. Props: ``arity``, ``slot``."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        arity, slot = self.arity, self.slot

        def start(records: Iterator[Any]) -> Iterable[list]:
            for record in records:
                row = [None] * arity
                row[slot] = record
                yield row

        return Map(udf=start, **contract_args(self, inputs))


class JoinTuples(Internal):
    """Match (``keys`` = tuple-side and record-side expressions) or Cross (``keys`` None) of tuples with the
    records of input ``slot``. Missing or null keys match nothing. Props: ``arity``, ``slot``, ``keys``."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> Match | Cross:
        slot = self.slot

        def put(row: list, record: Any) -> Iterable[list]:
            row = list(row)
            row[slot] = record
            yield row

        if self.keys is None:
            return Cross(udf=put, **contract_args(self, inputs))
        left = _over_tuple(self.keys[0], self.arity)
        right = compile_expression(replace_inputs(self.keys[1], {slot: InputRef(0)}), 1)
        left_key = lambda row: _key(left(*row))  # noqa: E731
        right_key = lambda record: _key(right(record), 1)  # noqa: E731
        return Match(keys=(left_key, right_key), udf=put, **contract_args(self, inputs))


class FilterTuples(Internal):
    """Map: the tuples satisfying ``condition`` (the where conjuncts over the covered inputs)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        test = _over_tuple(self.condition, self.arity)

        def keep(rows: Iterator[list]) -> Iterable[list]:
            return (row for row in rows if truthy(test(*row)))

        return Map(udf=keep, **contract_args(self, inputs))


class OuterJoinTuples(Internal):
    """CoGroup of tuples with the records of input ``slot`` on ``keys`` (tuple-side and record-side expressions;
    None: one group of all): each tuple with every record satisfying ``conditions`` (the where conjuncts linking
    the input), or once with None in ``slot`` when there is none (a left outer join). Missing or null keys
    match nothing. Props: ``arity``, ``slot``, ``keys``, ``conditions``."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> CoGroup:
        slot, arity = self.slot, self.arity
        tests = [_over_tuple(c, arity) for c in self.conditions]
        if self.keys is None:
            keys = (lambda row: 0, lambda record: 0)
        else:
            left = _over_tuple(self.keys[0], arity)
            right = compile_expression(replace_inputs(self.keys[1], {slot: InputRef(0)}), 1)
            keys = (lambda row: _key(left(*row)), lambda record: _key(right(record), 1))

        def outer(_key: Any, rows: list[list], records: list[Any]) -> Iterable[list]:
            for row in rows:
                kept = False
                for record in records:
                    joined = list(row)
                    joined[slot] = record
                    if all(truthy(test(*joined)) for test in tests):
                        kept = True
                        yield joined
                if not kept:
                    yield list(row)

        return CoGroup(keys=keys, udf=outer, sequence_groups=True, **contract_args(self, inputs))


def _at(record: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        record = record.get(name, MISSING) if isinstance(record, dict) else MISSING
    return record


class BuildEntities(Internal):
    """Map: tuple -> ``(group key, record)`` of the last entity of ``entities`` (``(name, fields, identity,
    default identity path, own inputs)`` in dependency order; the earlier ones are its references, all-null
    records when the tuple lacks one of their own inputs). ``names``: all entity names. The group key is the
    identity with ``identified by``, else the record without its array fields. Raises OperatorError when
    ``with`` gives no object."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        names, arity = tuple(self.names), self.arity
        steps = [(name, _over_tuple(fields, arity, names),
                  _over_tuple(identity, arity, names) if identity is not None else None, path, own,
                  [e.name for e in getattr(fields, "entries", ()) if hasattr(e, "name")])
                 for name, fields, identity, path, own in self.entities]
        position = {name: i for i, name in enumerate(names)}

        def build(rows: Iterator[list]) -> Iterable[tuple]:
            for row in rows:
                values = [MISSING] * len(names)
                for name, fields_of, identity_of, path, own, declared in steps:
                    if any(row[i] is None for i in own):  # an outer join found no partner: all nulls
                        values[position[name]] = {"id": None, **dict.fromkeys(declared)}
                        record = None
                        continue
                    fields = fields_of(*row, *values)
                    if not isinstance(fields, dict):
                        raise OperatorError(f"entity ${name}: 'with' must give an object, got "
                                            f"{canonical(fields).decode()[:60]}")
                    values[position[name]] = fields
                    identity = identity_of(*row, *values) if identity_of is not None else _at(fields, path)
                    record = dict(fields) if "id" in fields or identity is MISSING else {"id": identity, **fields}
                    values[position[name]] = record
                if record is None or identity is MISSING or identity is None:
                    continue
                if identity_of is not None:
                    yield _key(identity), record
                else:
                    yield canonical({k: v for k, v in record.items() if not isinstance(v, list)}), record

        return Map(udf=build, **contract_args(self, inputs))


def merge_entity(records: list[dict]) -> dict:
    """The records of one identity as one: arrays are sets (each element once over all records, canonical
    order); other fields the most frequent non-null value, ties broken by canonical order."""
    records = sorted(records, key=canonical)
    merged: dict = {}
    for field in dict.fromkeys(k for r in records for k in r):
        values = [r[field] for r in records if field in r]
        if all(isinstance(v, list) for v in values):
            items: dict[bytes, Any] = {}
            for value in values:
                for item in value:
                    items.setdefault(canonical(item), item)
            merged[field] = [items[k] for k in sorted(items)]
            continue
        present = [v for v in values if v is not None]
        if not present:
            merged[field] = None
            continue
        counts = Counter(canonical(v) for v in present)
        best = max(counts.values())
        merged[field] = next(v for v in present if counts[canonical(v)] == best)
    return merged


class MergeEntities(Internal):
    """Reduce per group key: the records of one entity identity merged into one (``merge_entity``)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        def merge(_key: Any, group: list[tuple]) -> Iterable[dict]:
            yield merge_entity([record for _, record in group])

        return Reduce(key=lambda item: item[0], udf=merge, **contract_args(self, inputs))
