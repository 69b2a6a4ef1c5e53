"""Tests of Sopremo -> PACT translation: one contract per elementary operator, sharing, hints, errors."""

from __future__ import annotations

import pytest

from pact_backend import contracts as pact
from pact_backend.executors.inline import InlineExecutor
from sopremo.decompose import PlanError
from sopremo.operator import CONSTANT, CompositeOperator, ElementaryOperator, JsonStream, PropertySpec, SopremoPlan
from sopremo.to_pact import PactContext, to_pact


# -- in-memory formats and tiny test operators -----------------------------------------------------------------

class MemoryInput:
    def __init__(self, records):
        self.records, self.reads = list(records), 0

    def read(self):
        for record in self.records:
            self.reads += 1
            yield record

    def describe(self):
        return "memory"


class MemoryOutput:
    def __init__(self):
        self.records = None

    def open(self):
        output, pending = self, []

        class Writer:
            write = staticmethod(pending.append)

            def commit(self):
                output.records = pending

            def abort(self):
                output.records = None

        return Writer()

    def describe(self):
        return "memory"


class Values(ElementaryOperator):
    verb = "values"
    min_inputs = max_inputs = 0
    properties = (PropertySpec("values", "values", kind=CONSTANT),)

    def to_contract(self, inputs, ctx):
        self.format = MemoryInput(self.values)
        return pact.Source("values", inputs, input_format=self.format)


class Apply(ElementaryOperator):
    verb = "apply"
    properties = (PropertySpec("fn", "fn", kind=CONSTANT),)
    contexts: list = []

    def to_contract(self, inputs, ctx):
        type(self).contexts.append(ctx)
        fn = self.fn
        return pact.Map("", inputs, udf=lambda records: (fn(r) for r in records))


class Merge(ElementaryOperator):
    verb = "merge"
    max_inputs = None

    def to_contract(self, inputs, ctx):
        return pact.Union("merge", inputs, dop=2)


class Out(ElementaryOperator):
    """A sink into its own MemoryOutput (``format``), shared by the rewired copies decomposition makes."""

    verb = "out"
    outputs = 0

    def __init__(self, inputs):
        super().__init__(inputs)
        self.format = MemoryOutput()

    def to_contract(self, inputs, ctx):
        return pact.Sink("out", inputs, output_format=self.format)


class AddThenDouble(CompositeOperator):
    verb = "add then double"

    def expand(self):
        added = Apply([self.inputs[0]], fn=lambda x: x + 1)
        return [JsonStream(Apply([JsonStream(added)], fn=lambda x: x * 2))]


class SplitSign(CompositeOperator):
    verb = "split sign"
    outputs = 2

    def expand(self):
        keep = (lambda sign: lambda x: x if (x >= 0) == sign else None)
        return [JsonStream(Apply([self.inputs[0]], fn=keep(True))),
                JsonStream(Apply([self.inputs[0]], fn=keep(False)))]


def s(op, index=0):
    return JsonStream(op, index)


def run(plan):
    InlineExecutor().run(to_pact(plan))


# -- tests ------------------------------------------------------------------------------------------------------

def test_plan_with_composites_translates_and_runs():
    src = Values(values=[1, 2, 3])
    sink = Out([s(AddThenDouble([s(src)]))])
    pact_plan = to_pact(SopremoPlan([sink]))
    assert [c.kind for c in pact_plan.contracts()] == ["Source", "Map", "Map", "Sink"]
    InlineExecutor().run(pact_plan)
    assert sink.format.records == [4, 6, 8]


def test_shared_stream_becomes_one_contract_computed_once():
    src = Values(values=[-1, 2])
    doubled = AddThenDouble([s(src)])
    sink = Out([s(Merge([s(doubled), s(Apply([s(doubled)], fn=lambda x: -x))]))])
    pact_plan = to_pact(SopremoPlan([sink]))
    union = pact_plan.sinks[0].inputs[0]
    shared = union.inputs[0]
    assert union.inputs[1].inputs[0] is shared
    assert sum(c.kind == "Source" for c in pact_plan.contracts()) == 1
    InlineExecutor().run(pact_plan)
    assert sink.format.records == [0, 6, 0, -6]
    assert src.format.reads == 2


def test_two_output_composite_feeds_two_sinks():
    src = Values(values=[-2, 5, -1, 7])
    split = SplitSign([s(src)])
    positive, negative = Out([s(split, 0)]), Out([s(split, 1)])
    pact_plan = to_pact(SopremoPlan([positive, negative]))
    assert [c.kind for c in pact_plan.sinks] == ["Sink", "Sink"]
    InlineExecutor().run(pact_plan)
    assert [r for r in positive.format.records if r is not None] == [5, 7]
    assert [r for r in negative.format.records if r is not None] == [-2, -1]


def test_dop_hints_and_names_are_copied_onto_contracts():
    src = Values(values=[1])
    src.dop = 3
    composite = AddThenDouble([s(src)])
    composite.dop, composite.name = 4, "$x"
    merge = Merge([s(composite)])
    merge.dop = 7
    contracts = to_pact(SopremoPlan([Out([s(merge)])])).contracts()
    assert [(c.kind, c.dop) for c in contracts] == [("Source", 3), ("Map", 4), ("Map", 4), ("Union", 2),
                                                    ("Sink", None)]
    assert [c.name for c in contracts[1:3]] == ["$x/apply", "$x/apply"]  # filled in where empty
    assert contracts[0].name == "values"


def test_context_reaches_every_operator():
    Apply.contexts = []
    ctx = PactContext(dop=8, options={"spill_dir": "/tmp/x"})
    to_pact(SopremoPlan([Out([s(AddThenDouble([s(Values(values=[]))]))])]), ctx)
    assert Apply.contexts == [ctx, ctx]
    assert ctx.option("spill_dir") == "/tmp/x" and ctx.option("absent", 5) == 5
    Apply.contexts = []
    to_pact(SopremoPlan([Out([s(Apply([s(Values(values=[]))], fn=abs))])]))
    assert Apply.contexts == [PactContext()]


def test_elementary_operator_with_two_outputs_is_rejected():
    class TwoWay(Apply):
        outputs = 2

    with pytest.raises(PlanError, match="declares 2 outputs.*must be composite"):
        to_pact(SopremoPlan([Out([s(TwoWay([s(Values(values=[]))], fn=abs))])]))


def test_reading_output_one_of_an_elementary_operator_is_rejected():
    with pytest.raises(PlanError, match="reads output 1"):
        to_pact(SopremoPlan([Out([s(Values(values=[]), 1)])]))


def test_to_contract_must_return_a_contract():
    class Broken(Apply):
        def to_contract(self, inputs, ctx):
            return "not a contract"

    op = Broken([s(Values(values=[]))], fn=abs)
    op.source_span = type("Span", (), {"path": "q.meteor", "line": 4, "column": 1})()
    with pytest.raises(PlanError, match=r"^q\.meteor:4:1: Broken\.to_contract returned 'not a contract'"):
        to_pact(SopremoPlan([Out([s(op)])]))


def test_sink_operator_must_translate_to_a_sink():
    class FakeOut(Apply):
        outputs = 0

    with pytest.raises(PlanError, match="not to a Sink contract"):
        to_pact(SopremoPlan([FakeOut([s(Values(values=[]))], fn=abs)]))


def test_errors_of_to_contract_propagate_unchanged():
    error = ValueError("bad expression")

    class Failing(Apply):
        def to_contract(self, inputs, ctx):
            raise error

    with pytest.raises(ValueError) as info:
        to_pact(SopremoPlan([Out([s(Failing([s(Values(values=[]))], fn=abs))])]))
    assert info.value is error
