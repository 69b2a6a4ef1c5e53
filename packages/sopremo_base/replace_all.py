"""Dictionary helpers of ``replace``; the internal steps of ``replace all`` (explode, look up, reassemble).

Items between the steps are tuples ``(record key, record, index, element)``. Records are reassembled by their
whole value, so identical input records are rebuilt together and emitted as many times as they came in.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from sopremo.api import (MISSING, CoGroup, ElementaryOperator, Expression, JsonStream, Map, Operator, OperatorError,
                         Reduce, hashable)

from .keys import compile_expr, contract_args, describe, internal, path_steps, set_path

NO_KEY = ("replace all", "no element")  # never produced by hashable(): items of records without elements


class ReplaceExplode(ElementaryOperator):
    """Map: one item per element of the array at ``path``; one item with index None for a missing, null or
    empty array. Raises OperatorError naming the record for another non-array."""

    verb = ""

    def __init__(self, inputs: list, *, path: Expression):
        super().__init__(inputs)
        self.path = path

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        array_of = compile_expr(self.path, 1)

        def explode(records: Iterator[Any]) -> Iterable[tuple]:
            for record in records:
                array, key = array_of(record), hashable(record)
                if array is MISSING or array is None or array == []:
                    yield (key, record, None, None)
                elif not isinstance(array, list):
                    raise OperatorError(f"replace all: the value of 'on' is not an array in record "
                                        f"{describe(record)}")
                else:
                    yield from ((key, record, index, element) for index, element in enumerate(array))

        return Map(udf=explode, **contract_args(self, inputs))


def dictionary_key(entry: Any) -> Any:
    """The key of a dictionary record ``[key, value]``; raises OperatorError for any other record."""
    if not isinstance(entry, list) or len(entry) != 2:
        raise OperatorError(f"replace: a dictionary record must be an array [key, value], got {describe(entry)}")
    return hashable(entry[0])


def fallback(default: Expression | None) -> Callable[[Any, Any], Any]:
    """``(record, old value) -> new value`` for values without a dictionary entry."""
    if default is None:
        return lambda record, old: old
    f = compile_expr(default, 1)
    return lambda record, old: f(record)


def _element_key(item: tuple) -> Any:
    return NO_KEY if item[2] is None else hashable(item[3])


class ReplaceLookup(ElementaryOperator):
    """CoGroup of items with the dictionary by element: the element becomes its entry's value, else
    ``otherwise(record, element)``."""

    verb = ""
    min_inputs = max_inputs = 2

    def __init__(self, inputs: list, *, otherwise: Expression | None):
        super().__init__(inputs)
        self.otherwise = otherwise

    def to_contract(self, inputs: list[Any], ctx: Any) -> CoGroup:
        otherwise = fallback(self.otherwise)

        def lookup(key: Any, items: list[tuple], entries: list[Any]) -> Iterable[tuple]:
            for rkey, record, index, element in items:
                if index is None:
                    yield (rkey, record, index, element)
                    continue
                new = entries[0][1] if entries else otherwise(record, element)
                yield (rkey, record, index, element if new is MISSING else new)

        return CoGroup(keys=(_element_key, dictionary_key), udf=lookup, sequence_groups=True,
                       **contract_args(self, inputs))


class ReplaceRegroup(ElementaryOperator):
    """Reduce by record: rebuilds each record with its replaced array, once per occurrence in the input."""

    verb = ""

    def __init__(self, inputs: list, *, path: Expression):
        super().__init__(inputs)
        self.path = path

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        steps = path_steps(self.path, "on")

        def regroup(_key: Any, items: list[tuple]) -> Iterable[Any]:
            values = {index: value for _, _, index, value in items if index is not None}
            record = items[0][1]
            if not values:
                return [record] * len(items)
            rebuilt = set_path(record, steps, [values[i] for i in range(len(values))])
            return [rebuilt] * (len(items) // len(values))

        return Reduce(key=lambda item: item[0], udf=regroup, **contract_args(self, inputs))


def expand_replace_all(op: Operator) -> list[JsonStream]:
    """The streams of a ``replace all`` operator ``op``: explode -> lookup -> regroup."""
    records, dictionary = op.inputs[0], op.inputs[op.dictionary or 1]
    explode = internal(ReplaceExplode, [records], op, "explode", path=op.path)
    lookup = internal(ReplaceLookup, [explode.output(), dictionary], op, "lookup", otherwise=op.default)
    regroup = internal(ReplaceRegroup, [lookup.output()], op, "regroup", path=op.path)
    return [regroup.output()]
