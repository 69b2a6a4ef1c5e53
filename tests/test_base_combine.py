"""The group combiner: algebraic aggregations pre-aggregated in partial groups give the same result as the
plain projection; projections that read the group otherwise get no combiner."""

from __future__ import annotations

import pytest

from sopremo.expressions.nodes import Arithmetic, ArrayIndex, ArrayProjection, ElementRef, FunctionCall
from sopremo.functions import BUILTIN_FUNCTIONS
from sopremo_base import Grouping
from sopremo_base.combine import GroupCombiner
from test_base_helpers import arr, c, canon, contract_of, fld, inp, obj, run, src

ROWS = [{"k": i % 3, "x": i, "name": f"n{i}" if i % 4 else None} for i in range(40)]


def call(name, arg):
    return FunctionCall(name, BUILTIN_FUNCTIONS[name], (arg,))


def each(*path):
    return ArrayProjection(inp(), fld(ElementRef(), *path))


INTO = obj(k=fld(ArrayIndex(inp(), c(0)), "k"), n=call("count", inp()),
           total=call("sum", Arithmetic("*", each("x"), c(2))), avg=call("mean", each("x")),
           lo=call("min", each("x")), hi=call("max", each("x")), f=call("first", each("name")))


def expected():
    out = []
    for k in (0, 1, 2):
        xs = [r["x"] for r in ROWS if r["k"] == k]
        names = [r["name"] for r in ROWS if r["k"] == k and r["name"] is not None]
        out.append({"k": k, "n": len(xs), "total": 2 * sum(xs), "avg": sum(xs) / len(xs), "lo": min(xs),
                    "hi": max(xs), "f": names[0]})
    return out


@pytest.mark.parametrize("threshold", [1, 2, 5, 1024])
def test_combined_groups_equal_plain_groups(threshold):
    op = Grouping(inputs=[src(*ROWS)], keys=fld(inp(), "k"), projection=INTO)
    assert canon(run(op, combine_threshold=threshold)) == canon(expected())


def test_global_group_is_combined_too():
    op = Grouping(inputs=[src(*ROWS)], projection=arr(call("count", inp()), call("sum", each("x"))))
    assert run(op, combine_threshold=3) == [[40, sum(range(40))]]
    assert contract_of(op).combiner is not None


@pytest.mark.parametrize("projection", [
    call("all", inp()),                                   # not algebraic
    fld(ArrayIndex(inp(), c(1)), "x"),                    # a record other than the first
    arr(call("count", inp()), inp()),                     # the whole group array
])
def test_projections_reading_the_whole_group_get_no_combiner(projection):
    assert GroupCombiner.plan(projection) is None
    op = Grouping(inputs=[src(*ROWS)], keys=fld(inp(), "k"), projection=projection)
    assert contract_of(op).combiner is None
