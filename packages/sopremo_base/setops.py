"""Set operators over whole JSON values: ``union``, ``union all``, ``intersect``, ``subtract``, ``unique``.

Values are compared whole (objects, arrays, primitives; ``1`` equals ``1.0``) through sopremo.values.hashable
(docs/language.md, "Comparisons, casts and sets"). The set operators yield each distinct value
once; ``union all`` is the bag union (VLDB J. 2014, Table 1; PACT Union, Reduce and CoGroup).
"""

from __future__ import annotations

from typing import Any, Iterable

from sopremo.api import CoGroup, CompositeOperator, ElementaryOperator, JsonStream, RecordFlow, Reduce, Union as PactUnion

from . import package
from .keys import contract_args, internal, whole_value_key


@package.operator
class UnionAll(ElementaryOperator):
    """Bag union: every record of every input (duplicates kept). In: one or more data sets. PACT Union."""

    verb = "union all"
    min_inputs, max_inputs = 1, None
    doc = "union all $a, $b, ...: all records of all inputs, duplicates kept"

    def record_flow(self) -> RecordFlow:
        """Every record of every input, unchanged."""
        return RecordFlow.pass_through()

    def to_contract(self, inputs: list[Any], ctx: Any) -> PactUnion:
        return PactUnion(**contract_args(self, inputs))


@package.operator
class Unique(ElementaryOperator):
    """A bag to a set: each distinct whole value once (the first occurrence). PACT Reduce keyed by the value,
    with the same function as combiner."""

    verb = "unique"
    doc = "unique $in: each distinct value once"

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        return Reduce(key=whole_value_key, udf=_first, combiner=_first, **contract_args(self, inputs))


def _first(_key: Any, group: list[Any]) -> Iterable[Any]:
    return group[:1]


@package.operator
class Union(CompositeOperator):
    """Set union: each distinct value of any input once. Expands to ``union all`` followed by ``unique``."""

    verb = "union"
    min_inputs, max_inputs = 1, None
    doc = "union $a, $b, ...: each distinct value of any input once"

    def expand(self) -> list[JsonStream]:
        bag = internal(UnionAll, self.inputs, self, "all")
        return [internal(Unique, [bag.output()], self, "unique").output()]


class SetPair(ElementaryOperator):
    """CoGroup by whole value: a distinct left value is kept when the right side has it (``intersect``) or
    when it has not (``subtract``). Internal; the steps of the intersect/subtract chains."""

    verb = ""
    min_inputs = max_inputs = 2

    def __init__(self, inputs: list, *, keep_common: bool):
        super().__init__(inputs)
        self.keep_common = keep_common

    def to_contract(self, inputs: list[Any], ctx: Any) -> CoGroup:
        keep_common = self.keep_common

        def pair(_key: Any, left: list[Any], right: list[Any]) -> Iterable[Any]:
            return left[:1] if left and bool(right) == keep_common else ()

        return CoGroup(keys=(whole_value_key, whole_value_key), udf=pair, sequence_groups=True,
                       **contract_args(self, inputs))


class _SetChain(CompositeOperator):
    """A left-deep chain of SetPair steps over the inputs (one input: its distinct values)."""

    min_inputs, max_inputs = 1, None
    keep_common = True

    def expand(self) -> list[JsonStream]:
        if len(self.inputs) == 1:
            return [internal(Unique, self.inputs, self, "unique").output()]
        stream = self.inputs[0]
        for index, other in enumerate(self.inputs[1:], start=1):
            step = internal(SetPair, [stream, other], self, f"step{index}", keep_common=self.keep_common)
            stream = step.output()
        return [stream]


@package.operator
class Intersection(_SetChain):
    """Set intersection: each distinct value present in every input once."""

    verb = "intersect"
    doc = "intersect $a, $b, ...: each distinct value present in every input once"
    keep_common = True


@package.operator
class Difference(_SetChain):
    """Set difference ``a - b - ...``: each distinct value of the first input absent from all others once."""

    verb = "subtract"
    doc = "subtract $a, $b, ...: distinct values of the first input that occur in no other input"
    keep_common = False
