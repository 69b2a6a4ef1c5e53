"""Tests of decomposition: composites expand to a fixpoint, consumers are rewired, sharing and hints survive."""

from __future__ import annotations

import pytest

from sopremo.decompose import PlanError, decompose
from sopremo.operator import CONSTANT, CompositeOperator, ElementaryOperator, JsonStream, PropertySpec, SopremoPlan


# -- tiny test operators (to_contract is not used by decompose) -----------------------------------------------

class Elementary(ElementaryOperator):
    def to_contract(self, inputs, ctx):
        raise AssertionError("decompose never translates")


class Values(Elementary):
    verb = "values"
    min_inputs = max_inputs = 0
    properties = (PropertySpec("values", "values", kind=CONSTANT),)


class Apply(Elementary):
    verb = "apply"
    properties = (PropertySpec("fn", "fn", kind=CONSTANT),)


class Merge(Elementary):
    verb = "merge"
    max_inputs = None


class Out(Elementary):
    verb = "out"
    outputs = 0


class AddThenDouble(CompositeOperator):
    """x -> (x + 1) * 2 as two elementary maps."""

    verb = "add then double"
    expansions = 0

    def expand(self):
        type(self).expansions += 1
        added = Apply([self.inputs[0]], fn=lambda x: x + 1)
        return [JsonStream(Apply([JsonStream(added)], fn=lambda x: x * 2))]


class Twice(CompositeOperator):
    """A composite expanding into two composites."""

    verb = "twice"

    def expand(self):
        first = AddThenDouble([self.inputs[0]])
        return [JsonStream(AddThenDouble([JsonStream(first)]))]


class EvensOdds(CompositeOperator):
    """Two outputs: the even and the odd records."""

    verb = "evens odds"
    outputs = 2

    def expand(self):
        return [JsonStream(Apply([self.inputs[0]], fn="even")), JsonStream(Apply([self.inputs[0]], fn="odd"))]


class Passthrough(CompositeOperator):
    verb = "passthrough"

    def expand(self):
        return [self.inputs[0]]


class Selfish(CompositeOperator):
    verb = "selfish"

    def expand(self):
        return [JsonStream(self)]


class Forever(CompositeOperator):
    verb = "forever"

    def expand(self):
        return [JsonStream(Forever(list(self.inputs)))]


class WrongCount(CompositeOperator):
    verb = "wrong count"
    outputs = 2

    def expand(self):
        return [self.inputs[0]]


def stream(op, index=0):
    return JsonStream(op, index)


def all_ops(plan):
    return plan.operators()


# -- tests ------------------------------------------------------------------------------------------------------

def test_plan_without_composites_is_returned_as_is():
    src = Values(values=[1])
    sink = Out([stream(Apply([stream(src)], fn=abs))])
    result = decompose(SopremoPlan([sink]))
    assert result.sinks[0] is sink
    assert [type(op) for op in all_ops(result)] == [Values, Apply, Out]


def test_composite_is_expanded_and_its_consumer_rewired():
    src = Values(values=[1])
    composite = AddThenDouble([stream(src)])
    sink = Out([stream(composite)])
    result = decompose(SopremoPlan([sink]))
    ops = all_ops(result)
    assert [type(op) for op in ops] == [Values, Apply, Apply, Out]
    assert ops[0] is src and ops[1].fn(1) == 2 and ops[2].fn(2) == 4
    assert result.sinks[0] is not sink and result.sinks[0].inputs[0].operator is ops[2]
    assert sink.inputs[0].operator is composite  # the input plan is untouched


def test_composite_expanding_into_composites_reaches_elementary_fixpoint():
    sink = Out([stream(Twice([stream(Values(values=[]))]))])
    ops = all_ops(decompose(SopremoPlan([sink])))
    assert [type(op) for op in ops] == [Values, Apply, Apply, Apply, Apply, Out]
    assert not any(isinstance(op, CompositeOperator) for op in ops)


def test_two_output_composite_feeds_two_consumers_and_expands_once():
    src = Values(values=[1, 2])
    split = EvensOdds([stream(src)])
    sinks = [Out([stream(split, 0)]), Out([stream(split, 1)])]
    result = decompose(SopremoPlan(sinks))
    evens, odds = (s.inputs[0].operator for s in result.sinks)
    assert (evens.fn, odds.fn) == ("even", "odd")
    assert evens.inputs[0].operator is src and odds.inputs[0].operator is src


def test_shared_composite_is_expanded_once_and_stays_shared():
    AddThenDouble.expansions = 0
    src = Values(values=[1])
    composite = AddThenDouble([stream(src)])
    merge = Merge([stream(composite), stream(composite)])
    other = Out([stream(Apply([stream(composite)], fn=str))])
    result = decompose(SopremoPlan([Out([stream(merge)]), other]))
    assert AddThenDouble.expansions == 1
    merged = result.sinks[0].inputs[0].operator
    doubled = merged.inputs[0].operator
    assert merged.inputs[1].operator is doubled
    assert result.sinks[1].inputs[0].operator.inputs[0].operator is doubled
    assert sum(isinstance(op, Values) for op in all_ops(result)) == 1


def test_shared_elementary_operator_below_composites_is_copied_once():
    src = Values(values=[1])
    shared = Apply([stream(AddThenDouble([stream(src)]))], fn=abs)
    result = decompose(SopremoPlan([Out([stream(shared)]), Out([stream(shared)])]))
    first, second = (s.inputs[0].operator for s in result.sinks)
    assert first is second and first is not shared and first.fn is abs


def test_passthrough_composite_rewires_to_its_input():
    src = Values(values=[1])
    result = decompose(SopremoPlan([Out([stream(Passthrough([stream(src)]))])]))
    assert result.sinks[0].inputs[0].operator is src


def test_expanded_operators_inherit_dop_name_and_span():
    src = Values(values=[1])
    composite = Twice([stream(src)])
    composite.dop, composite.name, composite.source_span = 4, "$t", ("script.meteor", 3, 7)
    ops = all_ops(decompose(SopremoPlan([Out([stream(composite)])])))
    applies = [op for op in ops if isinstance(op, Apply)]
    assert [op.dop for op in applies] == [4, 4, 4, 4]
    assert all(op.name.startswith("$t/add then double/") and op.name.endswith("apply") for op in applies)
    assert all(op.source_span == ("script.meteor", 3, 7) for op in applies)
    assert (src.dop, src.name) == (None, None)  # upstream operators keep their own settings


def test_own_dop_and_name_of_expanded_operators_win():
    class Pinned(CompositeOperator):
        verb = "pinned"

        def expand(self):
            op = Apply([self.inputs[0]], fn=abs)
            op.dop, op.name = 1, "sorter"
            return [JsonStream(op)]

    composite = Pinned([stream(Values(values=[]))])
    composite.dop = 8
    applied = decompose(SopremoPlan([Out([stream(composite)])])).sinks[0].inputs[0].operator
    assert (applied.dop, applied.name) == (1, "sorter")


def test_long_chain_of_composites_is_not_mistaken_for_endless_expansion():
    current = stream(Values(values=[]))
    for _ in range(100):
        current = stream(AddThenDouble([current]))
    ops = all_ops(decompose(SopremoPlan([Out([current])])))
    assert len(ops) == 1 + 200 + 1


def test_composite_expanding_to_itself_is_an_error():
    composite = Selfish([stream(Values(values=[]))])
    composite.source_span = type("Span", (), {"path": "q.meteor", "line": 2, "column": 5})()
    with pytest.raises(PlanError, match="expands to itself") as info:
        decompose(SopremoPlan([Out([stream(composite)])]))
    assert str(info.value).startswith("q.meteor:2:5: ")


def test_endless_expansion_is_an_error():
    with pytest.raises(PlanError, match="does not terminate.*Forever -> Forever"):
        decompose(SopremoPlan([Out([stream(Forever([stream(Values(values=[]))]))])]))


def test_expansion_with_wrong_output_count_is_an_error():
    with pytest.raises(PlanError, match=r"returned 1 stream\(s\) for 2 output\(s\)"):
        decompose(SopremoPlan([Out([stream(WrongCount([stream(Values(values=[]))]))])]))


def test_reading_a_missing_output_is_an_error():
    split = EvensOdds([stream(Values(values=[]))])
    with pytest.raises(PlanError, match="output 2 was read"):
        decompose(SopremoPlan([Out([stream(split, 2)])]))


def test_composite_sink_is_an_error():
    class CompositeOut(CompositeOperator):
        verb = "composite out"
        outputs = 0

        def expand(self):
            return []

    with pytest.raises(PlanError, match="sinks must be elementary"):
        decompose(SopremoPlan([CompositeOut([stream(Values(values=[]))])]))
