"""Helpers of the base-operator tests: ad-hoc sources, a collecting sink, expression shorthands, a runner."""

from __future__ import annotations

from typing import Any

from pact_backend import contracts as pact
from pact_backend.executors.inline import InlineExecutor
from sopremo.expressions.nodes import (And, ArrayConstruction, Comparison, Constant, ElementIn, FieldAccess,
                                       FieldAssignment, InputRef, ObjectConstruction)
from sopremo.io import Source
from sopremo.operator import ElementaryOperator, JsonStream, Operator, SopremoPlan
from sopremo.to_pact import PactContext, to_pact
from sopremo.values import to_json


class _ListWriter:
    def __init__(self, target: list[Any]):
        self.target, self.pending = target, []

    def write(self, record: Any) -> None:
        self.pending.append(record)

    def commit(self) -> None:
        self.target.extend(self.pending)

    def abort(self) -> None:
        self.pending.clear()


class _ListOutput:
    def __init__(self, target: list[Any]):
        self.target = target

    def open(self) -> _ListWriter:
        return _ListWriter(self.target)

    def describe(self) -> str:
        return "test list"


class Collect(ElementaryOperator):
    """A sink that appends its input's records to ``self.records``."""

    verb = ""

    def __init__(self, inputs: list[JsonStream]):
        super().__init__(inputs)
        self.records: list[Any] = []

    def to_contract(self, inputs: list[Any], ctx: Any) -> pact.Sink:
        return pact.Sink(name="collect", inputs=inputs, output_format=_ListOutput(self.records))


def src(*values: Any) -> JsonStream:
    """An ad-hoc source of ``values`` as a stream."""
    source = Source(values=list(values))
    source.validate()
    return source.output()


def run(op: Operator, combine_threshold: int = 1024) -> list[Any]:
    """Validate ``op``, translate its plan to PACT, run it inline; its output as JSON values."""
    op.validate()
    sink = Collect([op.output()])
    InlineExecutor(combine_threshold=combine_threshold).run(to_pact(SopremoPlan(sinks=[sink]), PactContext()))
    return [to_json(r) for r in sink.records]


def contract_of(op: Operator) -> pact.Contract:
    """The contract of elementary ``op`` over placeholder input contracts (to inspect keys, dop, UDFs)."""
    op.validate()
    inputs = [pact.Source(name=f"in{i}") for i in range(len(op.inputs))]
    return op.to_contract(inputs, PactContext())


def canon(records: list[Any]) -> list[str]:
    """Order-insensitive comparison form of a list of JSON values."""
    import json
    return sorted(json.dumps(r, sort_keys=True) for r in records)


# ---- expression shorthands -----------------------------------------------------------------------------------

def inp(i: int = 0) -> InputRef:
    return InputRef(i)


def fld(base: Any, *names: str) -> Any:
    for name in names:
        base = FieldAccess(base, name)
    return base


def c(value: Any) -> Constant:
    return Constant(value)


def eq(left: Any, right: Any) -> Comparison:
    return Comparison("==", left, right)


def cmp(op: str, left: Any, right: Any) -> Comparison:
    return Comparison(op, left, right)


def both(*items: Any) -> And:
    return And(tuple(items))


def isin(element: Any, collection: Any, negate: bool = False) -> ElementIn:
    return ElementIn(element, collection, negate)


def arr(*items: Any) -> ArrayConstruction:
    return ArrayConstruction(tuple(items))


def obj(**fields: Any) -> ObjectConstruction:
    return ObjectConstruction(tuple(FieldAssignment(k, v) for k, v in fields.items()))
