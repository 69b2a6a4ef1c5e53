"""Side channels: a whole data set as one value next to every record of another (the original's
JsonStreamExpression, which Stratosphere shipped as a broadcast variable; VLDB J. 2014, sec. 5.1).

``sopremo.decorrelate`` wires two internal elementary operators for ``max($revenue[*].total)`` inside a filter:
``DataSetValue`` computes ``max`` over all records of ``$revenue`` once (a CoGroup of the data set with a
one-record guard, so that an empty data set gives one value too: ``max([])``), and ``AttachValue`` pairs every
record of the filter's input with that value (a Cross whose one-record side the optimizer broadcasts). The
filter then reads ``[record, value]`` pairs. A nested operator that reads no record of the operator holding it
is such a data set too (``uncorrelated_to_data_set``).
"""

from __future__ import annotations

from typing import Any, Iterable

from pact_backend.contracts import CoGroup, Cross
from sopremo.correlation import use_of
from sopremo.expressions.nodes import DataSetRef, Expression, InputRef, NestedOperator
from sopremo.expressions.render import render
from sopremo.flow import COMBINE, RecordFlow
from sopremo.io.operators import Source
from sopremo.nested import nested_in, outer_levels
from sopremo.operator import ElementaryOperator, JsonStream, Operator
from sopremo.unnesting import (Slot, holder_flow, holding, null_supplied, over_pairs, pairs_ok, replace_node,
                               with_property)


def _constant_key(record: Any) -> int:
    return 0


_constant_key.description = "constant"  # type: ignore[attr-defined]  # every record in one group


class DataSetValue(ElementaryOperator):
    """One record: ``value`` evaluated over the array of all records of input 0 (in the order they arrive).

    Input 1 is a one-record guard (``guard()``), so the value exists for an empty data set too. A CoGroup of
    both inputs on a constant key; its estimate is one record, so consumers broadcast it.
    """

    verb = ""
    min_inputs = max_inputs = 2

    def __init__(self, inputs: list[JsonStream], *, value: Expression):
        super().__init__(inputs)
        self.value = value

    def describe(self) -> str:
        name = self.inputs[0].operator.display_name() if self.inputs else "$all"
        return f"data set value {render(self.value, (name if name.startswith('$') else '$' + name,))}"

    def to_contract(self, inputs: list[Any], ctx: Any) -> CoGroup:
        from sopremo.expressions.compiler import compile_expression

        value = compile_expression(self.value, 1)

        def whole(_key: Any, records: list[Any], _guard: list[Any]) -> Iterable[Any]:
            yield value(list(records))

        contract = CoGroup(name=self.display_name(), inputs=list(inputs), dop=self.dop,
                           keys=(_constant_key, _constant_key), udf=whole)
        contract.hints.output_records = 1
        return contract


def guard() -> JsonStream:
    """A one-record ad-hoc source: the second input of a ``DataSetValue``."""
    source = Source(values=[None])
    source.name = "one record"
    return source.output()


class AttachValue(ElementaryOperator):
    """``[record, value]`` for every record of input 0 and the single record ``value`` of input 1 (a Cross)."""

    verb = ""
    min_inputs = max_inputs = 2

    def describe(self) -> str:
        return "attach value"

    def to_contract(self, inputs: list[Any], ctx: Any) -> Cross:
        def pair(record: Any, value: Any) -> Iterable[list]:
            return ([record, value],)

        return Cross(name=self.display_name(), inputs=list(inputs), dop=self.dop, udf=pair)


def attached(records: JsonStream, data: JsonStream, value: Expression, template: Operator) -> JsonStream:
    """``[record, value]`` for every record of ``records``, ``value`` (over ``InputRef(0)`` = all records of
    ``data`` as an array) computed once."""
    whole = DataSetValue([data, guard()], value=value)
    whole.name, whole.source_span = data.operator.display_name(), template.source_span
    pairs = AttachValue([records, whole.output()])
    pairs.name, pairs.source_span, pairs.dop = records.operator.display_name(), template.source_span, template.dop
    return pairs.output()


# ---- the rules (sopremo.decorrelate.RULES) -----------------------------------------------------------------------


def uncorrelated_to_data_set(op: Operator) -> JsonStream | None:
    """A nested operator that reads no record of an enclosing operator -> the data set of its output (computed
    once, as part of the plan, then brought to the records as a side channel)."""
    for node in nested_in(op):
        if isinstance(node, NestedOperator) and not outer_levels(node.operator):
            attr, root = holding(op, node)
            data = DataSetRef(node.operator.output(), node.operator.source_span)
            return with_property(op, attr, replace_node(root, node, data))
    return None


def data_set_to_attached_value(op: Operator) -> JsonStream | None:
    """A data set read inside an expression -> the largest part of the expression that depends on it alone
    (``max($d[*].v)``) computed once over the whole data set, attached to every record (a broadcast Cross), and
    the operator evaluated on the ``[record, value]`` pairs."""
    flow = holder_flow(op)
    if flow is None or not pairs_ok(flow):
        return None
    for node in nested_in(op):
        if not isinstance(node, DataSetRef):
            continue
        attr, root = holding(op, node)
        index = _attach_to(op, flow, attr)
        if index is None:
            continue
        use = use_of(root, node)
        pairs = attached(op.inputs[index], node.stream, replace_node(use, node, InputRef(0)), op)
        return over_pairs(op, index, pairs, [(use, Slot())])
    return None


def _attach_to(op: Operator, flow: RecordFlow, attr: str) -> int | None:
    """The input whose records carry a side value: the only one, or in a join one that is never missing."""
    if flow.kind != COMBINE:
        return 0
    if attr == flow.attr("condition"):
        return 0
    return next((i for i in range(len(op.inputs)) if not null_supplied(flow, i)), None)
