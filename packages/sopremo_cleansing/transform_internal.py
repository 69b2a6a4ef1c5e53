"""The internal elementary operators of ``transform records`` (one PACT contract each; sopremo_cleansing.transform).

A *source tuple* is a list with one slot per input of transform records: the joined record of each input the
tuple covers, None elsewhere. Expressions over the inputs are compiled with one argument per input (the tuple
spread), then one per entity name (``Var``), so ``$m.name`` and ``$company.id`` read the right value.
- ``StartTuples`` (Map): record of input ``slot`` -> tuple;
- ``JoinTuples`` (Match on an equality conjunct, else Cross): tuple x record of input ``slot`` -> tuple;
- ``FilterTuples`` (Map): keeps tuples satisfying the applicable where conjuncts;
- ``BuildEntities`` (Map): tuple -> ``(identity key, record)`` of one entity (its references built first);
- ``FuseEntities`` (Reduce per identity): one fused record per entity identity.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from sopremo.api import (MISSING, Comparison, Cross, Expression, InputRef, Map, Match, OperatorError, Reduce,
                         compile_expression, hashable, input_refs, replace_inputs, truthy)

from .detect_internal import Internal, contract_args
from .fuse import fuse_cluster
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


class BuildEntities(Internal):
    """Map: tuple -> ``(identity key, record)`` of the last entity of ``entities`` (``(name, fields,
    identity)`` in dependency order; the earlier ones are its references). ``names``: all entity names.
    Raises OperatorError when ``with`` gives no object."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        names, arity = tuple(self.names), self.arity
        steps = [(name, _over_tuple(fields, arity, names), _over_tuple(identity, arity, names))
                 for name, fields, identity in self.entities]
        position = {name: i for i, name in enumerate(names)}

        def build(rows: Iterator[list]) -> Iterable[tuple]:
            for row in rows:
                values = [MISSING] * len(names)
                for name, fields_of, identity_of in steps:
                    fields = fields_of(*row, *values)
                    if not isinstance(fields, dict):
                        raise OperatorError(f"entity ${name}: 'with' must give an object, got "
                                            f"{canonical(fields).decode()[:60]}")
                    values[position[name]] = fields
                    identity = identity_of(*row, *values)
                    record = dict(fields) if "id" in fields or identity is MISSING else {"id": identity, **fields}
                    values[position[name]] = record
                if identity is not MISSING and identity is not None:
                    yield _key(identity), record

        return Map(udf=build, **contract_args(self, inputs))


class FuseEntities(Internal):
    """Reduce per identity: the records of one entity fused into one (canonical order, no resolutions)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        def fuse(_key: Any, group: list[tuple]) -> Iterable[dict]:
            records = sorted((record for _, record in group), key=canonical)
            yield records[0] if len(records) == 1 else fuse_cluster(records, {}, {})

        return Reduce(key=lambda item: item[0], udf=fuse, **contract_args(self, inputs))
