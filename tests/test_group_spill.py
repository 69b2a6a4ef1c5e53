"""Groups larger than memory handed to UDFs that need more than one pass: spilled, re-readable sequences.

A Reduce or CoGroup whose UDF declares ``sequence_groups`` gets a group past its share of the budget as a
``SpilledGroup`` read back from a spill file (``pact_backend.runtime.groups``). Checked here: the sequence
itself (len, indexes, slices, several passes, release), the drivers (hash and sort grouping and co-grouping,
the one global group, group orders) holding a small multiple of the budget (tracemalloc) on groups twenty
times larger and agreeing with plain Python, the expression runtime reading such a group, which ``into``
expressions may receive one (``reads_as_sequence``), and whole scripts through ``meteor.query`` on a tiny
budget. The measured runs of ``meteor run`` with one huge group are in test_memory_budget.py.
"""

from __future__ import annotations

import pickle
import random
import tracemalloc

import pytest

import meteor
from pact_backend import contracts as pact
from pact_backend.physical import HASH_GROUP, SORT_GROUP
from pact_backend.runtime import drivers
from pact_backend.runtime.drivers import DriverContext
from pact_backend.runtime.groups import GroupCollector, SpilledGroup, collect_group, release
from pact_backend.runtime.memory import SizeEstimator, deep_size
from pact_backend.runtime.sorter import SpillDir
from sopremo.errors import OperatorError
from sopremo.expressions.compiler import compile_expression
from sopremo.expressions.group_reads import reads_as_sequence
from sopremo.expressions.nodes import (Arithmetic, ArrayConstruction, ArrayIndex, ArrayProjection, ArraySlice,
                                       Comparison, Constant, ElementIn, ElementRef, FieldAccess, FieldAssignment,
                                       FunctionCall, InputRef, ObjectConstruction)
from sopremo.functions import BUILTIN_FUNCTIONS
from sopremo_base import Grouping
from test_base_helpers import contract_of, src

BUDGET = 512 << 10
IN, IN1 = InputRef(0), InputRef(1)


def rows(n: int, key: int = 1, start: int = 0) -> list[dict]:
    return [{"k": key, "v": i, "pad": "x" * 40} for i in range(start, start + n)]


def spilled(tmp_path, records: list, limit: float = 16 << 10) -> SpilledGroup:
    group = collect_group(iter(records), limit, SpillDir(str(tmp_path), "t"))
    assert type(group) is SpilledGroup
    return group


# -- the sequence --------------------------------------------------------------------------------------------------

def test_a_group_past_its_limit_is_a_sequence_read_back_from_its_file(tmp_path):
    data = rows(5000)
    group = spilled(tmp_path, data)
    assert len(group) == 5000 and len(group.segments) > 10 and bool(group)
    assert list(group) == data and list(group) == data  # read twice
    assert group[0] == data[0] and group[-1] == data[-1] and group[-5000] == data[0]
    rng = random.Random(4)
    for i in (rng.randrange(-5000, 5000) for _ in range(200)):
        assert group[i] == data[i]
    assert group[10:20] == data[10:20] and group[::-700] == data[::-700] and group[4990:] == data[4990:]
    assert list(reversed(group)) == data[::-1] and data[77] in group and {"k": 2} not in group
    with pytest.raises(IndexError):
        group[5000]
    with pytest.raises(TypeError, match="only during its UDF call"):
        pickle.dumps(group)
    release(group, [1, 2])
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="after its UDF call"):
        list(group)


def test_a_group_within_its_limit_stays_a_list_and_a_list_is_taken_as_it_is(tmp_path):
    spill = SpillDir(str(tmp_path), "t")
    data = rows(100)
    assert collect_group(iter(data), 1 << 20, spill) == data and spill.files == 0
    assert collect_group(data, 1, spill) is data  # a list is in memory already: its table kept the budget
    collector = GroupCollector(1 << 20, spill)
    for record in data:
        collector.append(record)
    assert type(collector.group()) is list and list(tmp_path.iterdir()) == []
    shared = SizeEstimator()  # the groups of one driver share their estimate: small ones are not measured
    assert collect_group(iter(data[:3]), 64 << 10, spill, shared) == data[:3] and shared.measured == 1
    assert collect_group(iter(data[:5]), 64 << 10, spill, shared) == data[:5] and shared.measured == 1
    large = collect_group(iter(rows(3000)), 64 << 10, spill, shared)
    assert type(large) is SpilledGroup and list(large) == rows(3000)
    large.close()


def test_the_collector_holds_about_its_limit(tmp_path):
    limit = 256 << 10
    whole = deep_size(rows(40_000))
    assert whole > 20 * limit
    tracemalloc.start()
    try:
        lazy = ({"k": 1, "v": i, "pad": "x" * 40} for i in range(40_000))
        group = collect_group(lazy, limit, SpillDir(str(tmp_path), "t"))
        collected = tracemalloc.get_traced_memory()[1]
        total = sum(r["v"] for r in group) + sum(r["v"] for r in reversed(group)) + group[20_000]["v"]
        read = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 2 * sum(range(40_000)) + 20_000
    assert collected < 2 * limit and read < 2 * limit, (collected, read, whole)
    group.close()


# -- the drivers ---------------------------------------------------------------------------------------------------

def twice(key, group):
    """A UDF that needs its group as a sequence: its length, both ends and two passes."""
    yield {"k": key, "n": len(group), "first": group[0]["v"], "last": group[-1]["v"],
           "sum": sum(r["v"] for r in group), "again": sum(1 for _ in group), "spilled": type(group) is SpilledGroup}


def reduce_head(local: str, key, order=None, limit=None) -> dict:
    return {"key": key, "udf": twice, "combiner": None, "group_order": order, "limit": limit,
            "sequence_groups": True, "local": local}


def traced(tmp_path, kind: str, head: dict, inputs: list) -> tuple[list, int, SpillDir]:
    """(output, peak traced heap bytes, the task's spill dir) of one driver run with BUDGET."""
    ctx = DriverContext(BUDGET, SpillDir(str(tmp_path), "t"))
    tracemalloc.start()
    try:
        out = list(drivers.run_head(kind, head, 1, inputs, ctx))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not any("-sequence-" in path for path in ctx.spill.paths)  # every spilled group released after its call
    ctx.spill.cleanup()
    assert list(tmp_path.iterdir()) == []
    return out, peak, ctx.spill


def summary(key, values: list[int], spilled: bool) -> dict:
    return {"k": key, "n": len(values), "first": values[0], "last": values[-1], "sum": sum(values),
            "again": len(values), "spilled": spilled}


@pytest.mark.parametrize("local", [HASH_GROUP, SORT_GROUP])
def test_a_reduce_taking_sequences_never_holds_a_group_larger_than_its_budget(tmp_path, local):
    n = 60_000
    assert deep_size(rows(n)) > 20 * BUDGET
    small = [r for k in (2, 3) for r in rows(50, key=k)]
    out, peak, spill = traced(tmp_path, "reduce", reduce_head(local, lambda r: r["k"]), [iter(rows(n) + small)])
    assert sorted(out, key=lambda r: r["k"]) == [summary(1, list(range(n)), True),
                                                 summary(2, list(range(50)), False),
                                                 summary(3, list(range(50)), False)]
    assert spill.files > 1 and peak < 4 * BUDGET, peak


@pytest.mark.parametrize("local", [HASH_GROUP, SORT_GROUP])
def test_the_one_global_group_and_ordered_groups_spill_too(tmp_path, local):
    n = 40_000
    out, peak, _ = traced(tmp_path, "reduce", reduce_head(local, None), [iter(rows(n))])
    assert out == [summary(None, list(range(n)), True)] and peak < 4 * BUDGET, peak
    descending = (lambda r: r["v"], True)
    shuffled = rows(n)
    random.Random(2).shuffle(shuffled)
    out, peak, _ = traced(tmp_path, "reduce", reduce_head(local, lambda r: r["k"], descending), [iter(shuffled)])
    assert out == [summary(1, list(range(n - 1, -1, -1)), True)] and peak < 4 * BUDGET, peak
    out, _, _ = traced(tmp_path, "reduce", reduce_head(local, None, descending, limit=25_000), [iter(shuffled)])
    assert out == [summary(None, list(range(n - 1, n - 25_001, -1)), True)]


def cogroup_udf(key, left, right):
    yield {"k": key, "left": [len(left), sum(r["v"] for r in left), left[-1]["v"] if len(left) else None],
           "right": [len(right), sum(r["v"] for r in right), right[0]["v"] if len(right) else None],
           "pairs": sum(1 for _ in left for _ in right[:3]), "spilled": type(left) is SpilledGroup}


@pytest.mark.parametrize("local", [HASH_GROUP, SORT_GROUP])
def test_a_cogroup_with_one_huge_key_holds_a_small_multiple_of_its_budget(tmp_path, local):
    n = 60_000
    left = rows(n) + rows(10, key=2)
    right = rows(5, key=1, start=7) + rows(3, key=3)
    random.Random(5).shuffle(left)
    head = {"keys": (lambda r: r["k"], lambda r: r["k"]), "udf": cogroup_udf, "group_order": None,
            "sequence_groups": True, "local": local}
    out, peak, spill = traced(tmp_path, "cogroup", head, [iter(left), iter(right)])
    expected = []
    for key in (1, 2, 3):
        ls, rs = [r for r in left if r["k"] == key], [r for r in right if r["k"] == key]
        expected.append({"k": key, "left": [len(ls), sum(r["v"] for r in ls), ls[-1]["v"] if ls else None],
                         "right": [len(rs), sum(r["v"] for r in rs), rs[0]["v"] if rs else None],
                         "pairs": len(ls) * min(3, len(rs)), "spilled": key == 1})
    assert sorted(out, key=lambda r: r["k"]) == expected
    assert spill.files > 1 and peak < 4 * BUDGET, peak


def test_a_cogroup_orders_a_spilled_side(tmp_path):
    n = 30_000
    left = rows(n)
    random.Random(6).shuffle(left)
    seen = []

    def udf(key, left_group, right_group):
        seen.append((type(left_group), [r["v"] for r in left_group] == list(range(n)), list(right_group)))
        return []

    head = {"keys": (lambda r: r["k"], lambda r: r["k"]), "udf": udf, "sequence_groups": True,
            "group_order": ((lambda r: r["v"], False), None), "local": SORT_GROUP}
    traced(tmp_path, "cogroup", head, [iter(left), iter([])])
    assert seen == [(SpilledGroup, True, [])]


@pytest.mark.parametrize("kind", ["reduce", "cogroup"])
def test_a_sort_that_did_not_spill_hands_its_groups_over_as_lists(tmp_path, kind):
    """A group past a quarter of the budget is not written out when the sort it comes from held everything in
    memory anyway."""
    data, budget = rows(10_000), 8 << 20
    assert budget / 4 < deep_size(data) < budget / 2
    seen = []
    udf = lambda k, *sides: seen.append([type(side) for side in sides]) or []  # noqa: E731
    head = {"key": lambda r: r["k"], "keys": (lambda r: r["k"], lambda r: r["k"]), "udf": udf, "combiner": None,
            "group_order": None, "sequence_groups": True, "local": SORT_GROUP}
    ctx = DriverContext(budget * (2 if kind == "cogroup" else 1), SpillDir(str(tmp_path), "t"))
    list(drivers.run_head(kind, head, 1, [iter(data), iter(rows(2))], ctx))
    assert ctx.spill.files == 0 and seen == [[list] * (2 if kind == "cogroup" else 1)]


def test_udfs_without_the_declaration_still_get_lists(tmp_path):
    seen = []
    head = {"keys": (lambda r: r["k"], lambda r: r["k"]), "group_order": None, "local": HASH_GROUP,
            "udf": lambda k, a, b: seen.append((type(a), type(b), len(a))) or []}
    ctx = DriverContext(64 << 10, SpillDir(str(tmp_path), "t"))
    list(drivers.run_head("cogroup", head, 1, [iter(rows(20_000)), iter(rows(3))], ctx))
    assert ctx.spill.files > 1 and seen == [(list, list, 20_000)]
    ctx.spill.cleanup()


# -- the expression runtime and the group operator -----------------------------------------------------------------

def call(name, *args):
    return FunctionCall(name, BUILTIN_FUNCTIONS[name], tuple(args))


def each(base, name):
    return ArrayProjection(base, FieldAccess(ElementRef(), name))


def obj(**entries):
    return ObjectConstruction(tuple(FieldAssignment(k, v) for k, v in entries.items()))


LAST = ArrayIndex(IN, Arithmetic("-", call("count", IN), Constant(1)))
INTO = obj(n=call("count", IN), s=call("sum", each(IN, "v")), first=FieldAccess(ArrayIndex(IN, Constant(0)), "v"),
           last=FieldAccess(LAST, "v"), lo=ArrayIndex(call("sort", each(IN, "v")), Constant(0)),
           mid=each(ArraySlice(IN, Constant(100), Constant(102)), "v"), has=ElementIn(Constant(7), each(IN, "v")),
           none=FieldAccess(IN, "v"), concat=call("concat", each(ArraySlice(IN, Constant(0), Constant(2)), "v")))


def test_expressions_read_a_spilled_group_as_they_read_a_list(tmp_path):
    data = rows(3000)
    random.Random(1).shuffle(data)
    group = spilled(tmp_path, data)
    function = compile_expression(INTO)
    assert function(group) == function(list(data))
    assert function(group)["last"] == data[-1]["v"] and function(group)["lo"] == 0
    failing = compile_expression(Arithmetic("/", FieldAccess(LAST, "v"), Constant(0)))
    with pytest.raises(OperatorError, match="division by zero") as caught:
        failing(group)
    assert caught.value.record_text.startswith('[{"k":1,')  # the group shown shortened, as a list is
    group.close()


@pytest.mark.parametrize(("expr", "sequence"), [
    (INTO, True),
    (call("count", IN), True),
    (ArrayIndex(IN, call("count", IN)), True),
    (IN, False),                                                   # the default into: the group array itself
    (obj(n=call("count", IN), items=IN), False),                   # an output record holding the array
    (ArrayConstruction((IN,)), False),
    (call("concat", IN, Constant("x")), False),                    # not an aggregation call: a plain argument
    (Comparison("==", IN, Constant([])), False),
    (Constant(1), True),                                           # the group is not read at all
])
def test_which_expressions_may_read_a_spilled_group(expr, sequence):
    assert reads_as_sequence(expr, 0) is sequence


def test_the_group_operator_declares_sequences_where_into_reads_the_group_element_by_element():
    records = src(*rows(10))
    key = FieldAccess(IN, "k")
    declared = lambda into: (lambda c: (c.streams_group, c.sequence_groups))(  # noqa: E731
        contract_of(Grouping(inputs=[records], keys=key, projection=into)))
    assert declared(INTO) == (False, True)
    assert declared(obj(n=call("count", IN), s=call("sum", each(IN, "v")))) == (True, False)  # a fold streams
    assert declared(obj(items=IN, n=call("count", IN))) == (False, False)
    other = src(*rows(3))
    cogroup = contract_of(Grouping(inputs=[records, other], keys=[key, FieldAccess(IN1, "k")],
                                   projection=obj(a=call("count", IN), b=IN1)))
    assert isinstance(cogroup, pact.CoGroup) and cogroup.sequence_groups


def test_scripts_on_a_tiny_budget_give_what_they_give_with_lists(monkeypatch):
    """Through the whole stack (inline executor, 256 KB): one-input groups and a co-group whose ``into`` reads
    their groups twice and by index, compared with plain Python; the spilled path really ran."""
    made = []
    original = GroupCollector.group
    monkeypatch.setattr(GroupCollector, "group", lambda self: made.append(original(self)) or made[-1])
    data = [{"g": 1 if i % 100 else 2, "v": i % 97, "i": i} for i in range(30_000)]
    dims = [{"g": 1, "w": 5}, {"g": 3, "w": 6}]
    grouped = ("$a = group $r by $r.g into {g: $r[0].g, n: count($r), s: sum($r[*].v), first: $r[0].i,\n"
               "                            last: $r[count($r) - 1].i, top: sort($r[*].v)[count($r) - 1]};\n$a;")
    cogrouped = ("$b = group $x in $r by $x.g, $y in $d by $y.g into {g: $x.g, n: count($x), w: $y[*].w,\n"
                 "                                                  last: $x[count($x) - 1].i};\n$b;")
    a = meteor.query(grouped, memory="256KB", r=data).records()
    b = meteor.query(cogrouped, memory="256KB", r=data, d=dims).records()
    assert any(type(group) is SpilledGroup for group in made)
    by_g = {g: [r for r in data if r["g"] == g] for g in (1, 2)}
    assert sorted(a, key=lambda r: r["g"]) == [
        {"g": g, "n": len(rs), "s": sum(r["v"] for r in rs), "first": rs[0]["i"], "last": rs[-1]["i"],
         "top": max(r["v"] for r in rs)} for g, rs in by_g.items()]
    assert sorted(b, key=lambda r: r["g"]) == [
        {"g": 1, "n": len(by_g[1]), "w": [5], "last": by_g[1][-1]["i"]},
        {"g": 2, "n": len(by_g[2]), "w": [], "last": by_g[2][-1]["i"]},
        {"g": 3, "n": 0, "w": [6]}]


def test_the_pact_api_declares_sequences_for_reduce_group_and_cogroup():
    """``reduce_group(fn, sequences=True)`` and ``cogroup(..., sequences=True)`` on a tiny budget: a function
    reading its group by index and twice gets a spilled group and answers as with lists."""
    from pact_backend.api import ExecutionEnvironment

    env = ExecutionEnvironment("inline", memory="256KB")
    data = [(i % 2, i, "x" * 40) for i in range(40_000)]
    seen = []

    def ends(key, group):
        seen.append(type(group))
        yield key, len(group), group[0][1], group[-1][1], sum(r[1] for r in group)

    grouped = env.from_collection(data).group_by(0).reduce_group(ends, sequences=True).collect()
    assert sorted(grouped) == [(k, 20_000, k, 39_998 + k, sum(range(k, 40_000, 2))) for k in (0, 1)]
    assert SpilledGroup in seen
    pairs = env.from_collection(data).cogroup(env.from_collection([(1, "one")]), 0, 0, sequences=True,
                                              fn=lambda k, a, b: [(k, len(a), a[-1][1], [r[1] for r in b])])
    assert sorted(pairs.collect()) == [(0, 20_000, 39_998, []), (1, 20_000, 39_999, ["one"])]


def test_the_packages_cogroups_read_a_huge_key_as_a_spilled_group(monkeypatch):
    """Outer, semi and anti joins (with and without a residual condition), intersect and subtract, replace:
    their CoGroups declare ``sequence_groups``, so one key holding most of the data reaches them as a spilled
    group on a tiny budget, with the answers plain Python gives."""
    made = []
    original = GroupCollector.group
    monkeypatch.setattr(GroupCollector, "group", lambda self: made.append(original(self)) or made[-1])
    r = [{"g": 1 if i % 50 else 2, "i": i, "pad": "x" * 30} for i in range(20_000)]
    d = [{"g": 1, "w": 5}, {"g": 3, "w": 6}]
    ids = [{"g": 1, "i": i, "pad": "y" * 30} for i in range(0, 20_000, 7)]
    VALUES = "$v = transform $x in $r into {g: $x.g, p: $x.pad};\n$v2 = filter $x in $v where $x.g == 1;\n"
    scripts = {
        "outer": "$o = join $x in $r, $y in $d where $x.g == $y.g preserve $x into {i: $x.i, w: $y.w};\n$o;",
        "semi": "$s = join $x in $r, $y in $ids where $x.g in $y.g into $x;\n$s;",
        "semi_residual": "$s = join $x in $r, $y in $ids where $x.g in $y.g and $x.i == $y.i into $x;\n$s;",
        "anti": "$a = join $x in $r, $y in $ids where $x.g not in $y.g into $x;\n$a;",
        "intersect": VALUES + "$w = intersect $v, $v2;\n$w;",
        "subtract": VALUES + "$u = subtract $v, $v2;\n$u;",
        "replace": "$e = transform $x in $d into [$x.g, $x.w];\n"
                   "$p = replace $x in $r on $x.g with $e default 0;\n$p;",
    }
    answers = {}
    for name, script in scripts.items():
        made.clear()
        answers[name] = meteor.query(script, memory="256KB", r=r, d=d, ids=ids).records()
        assert any(type(group) is SpilledGroup for group in made), name
    kept = {row["i"] for row in ids}
    by_i = lambda records: sorted(records, key=lambda rec: rec["i"])  # noqa: E731
    assert by_i(answers["outer"]) == [{"i": x["i"], "w": 5} if x["g"] == 1 else {"i": x["i"]} for x in r]
    assert by_i(answers["semi"]) == [x for x in r if x["g"] == 1]
    assert by_i(answers["semi_residual"]) == [x for x in r if x["g"] == 1 and x["i"] in kept]
    assert by_i(answers["anti"]) == [x for x in r if x["g"] != 1]
    distinct = [{"g": 1, "p": "x" * 30}, {"g": 2, "p": "x" * 30}]
    assert answers["intersect"] == distinct[:1]
    assert answers["subtract"] == distinct[1:]
    assert by_i(answers["replace"]) == [{**x, "g": 5 if x["g"] == 1 else 0} for x in r]
