"""Tests of the inline executor (the stage runtime with one partition, in process): semantics of every contract,
sharing, lazy streaming of the last stage, sink safety, statistics."""

from __future__ import annotations

import itertools

import pytest

from pact_backend import contracts as pact
from pact_backend.executors.inline import InlineExecutor
from pact_backend.plan_text import plan_text
from pact_backend.planner import plan_physical
from pact_backend.runtime.checks import PlanStructureError


# -- in-memory formats (test doubles of InputFormat / OutputFormat) -------------------------------------------

class MemoryInput:
    """Streams ``records`` (or the iterator of ``factory()``), counting every record handed out."""

    def __init__(self, records=(), factory=None, log=None, tag="in"):
        self.records, self.factory, self.log, self.tag = list(records), factory, log, tag
        self.reads = 0
        self.opens = 0

    def read(self):
        self.opens += 1
        for record in (self.factory() if self.factory else self.records):
            self.reads += 1
            if self.log is not None:
                self.log.append((self.tag, record))
            yield record

    def describe(self):
        return f"memory:{self.tag}"


class MemoryOutput:
    """Collects written records; ``records`` is set only by commit. ``on_write(record)`` hooks each write."""

    def __init__(self, on_write=None, events=None, tag="out"):
        self.records = None
        self.on_write, self.events, self.tag = on_write, events if events is not None else [], tag
        self.commits = self.aborts = 0

    def open(self):
        self.events.append(("open", self.tag))
        return _Writer(self)

    def describe(self):
        return f"memory:{self.tag}"


class _Writer:
    def __init__(self, output):
        self.output, self.pending = output, []

    def write(self, record):
        if self.output.on_write:
            self.output.on_write(record)
        self.pending.append(record)

    def commit(self):
        self.output.events.append(("commit", self.output.tag))
        self.output.commits += 1
        self.output.records = self.pending

    def abort(self):
        self.output.events.append(("abort", self.output.tag))
        self.output.aborts += 1


def source(records, name="src", **kw):
    return pact.Source(name, input_format=MemoryInput(records, **kw))


def mapping(fn, src, name="map"):
    return pact.Map(name, [src], udf=lambda records: (fn(r) for r in records))


def run(contract, **executor_options):
    """Run ``contract`` into one memory sink; return the committed records."""
    out = MemoryOutput()
    InlineExecutor(**executor_options).run(pact.PactPlan([pact.Sink("sink", [contract], output_format=out)]))
    return out.records


def key_of(field):
    return lambda record: record[field]


# -- Source, Map, Union ------------------------------------------------------------------------------------------

def test_source_to_sink_keeps_records_and_order():
    assert run(source([3, 1, 2])) == [3, 1, 2]


def test_empty_source_commits_empty_output():
    assert run(mapping(lambda x: x, source([]))) == []


def test_map_may_emit_zero_or_many_records():
    flat = pact.Map("flat", [source([1, 2, 3])], udf=lambda rs: (x for r in rs for x in [r] * (r - 1)))
    assert run(flat) == [2, 3, 3]


def test_map_chain_streams_into_the_sink():
    # the last stage is pulled by the sink writer: the first record reaches the sink long before the source
    # has handed out all of its records (it reads ahead in growing blocks, never the whole input)
    src = source(range(1000))
    seen = []
    out = MemoryOutput(on_write=lambda r: seen.append((r, src.input_format.reads)))
    chain = mapping(lambda x: x * 2, mapping(lambda x: x + 1, src, "m1"), "m2")
    InlineExecutor().run(pact.PactPlan([pact.Sink("sink", [chain], output_format=out)]))
    assert [r for r, _ in seen] == [(i + 1) * 2 for i in range(1000)]
    assert seen[0][1] < 10 and all(reads <= 2 * (i + 1) + 16 for i, (_, reads) in enumerate(seen))


def test_map_chain_over_unbounded_source_stops_when_map_stops():
    src = pact.Source("naturals", input_format=MemoryInput(factory=itertools.count))
    first = pact.Map("first5", [mapping(lambda x: x * x, src)], udf=lambda rs: itertools.islice(rs, 5))
    assert run(first) == [0, 1, 4, 9, 16]
    assert src.input_format.reads <= 16  # timed contracts pull blocks of 1, 2, 4, ... records



def test_unfinished_udf_generators_are_closed_before_commit():
    events = []

    def squares(records):
        try:
            for r in records:
                yield r * r
        finally:
            events.append(("cleanup", "squares"))

    src = pact.Source("naturals", input_format=MemoryInput(factory=itertools.count))
    first = pact.Map("first3", [pact.Map("squares", [src], udf=squares)], udf=lambda rs: itertools.islice(rs, 3))
    out = MemoryOutput(events=events)
    InlineExecutor().run(pact.PactPlan([pact.Sink("s", [first], output_format=out)]))
    assert out.records == [0, 1, 4]
    assert events == [("open", "out"), ("cleanup", "squares"), ("commit", "out")]

def test_union_chains_inputs_in_order():
    union = pact.Union("u", [source([1, 2], "a"), source([], "b"), source([3], "c")])
    assert run(union) == [1, 2, 3]


def test_union_without_inputs_is_empty():
    assert run(pact.Union("u", [])) == []


# -- Reduce ----------------------------------------------------------------------------------------------------

ROWS = [{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}, {"k": "c", "v": 4}, {"k": "b", "v": 5}]


def test_reduce_groups_by_key_in_first_seen_order_and_input_order():
    reduce = pact.Reduce("g", [source(ROWS)], key=key_of("k"),
                         udf=lambda k, g: [(k, [r["v"] for r in g])])
    assert run(reduce) == [("a", [1, 3]), ("b", [2, 5]), ("c", [4])]


def test_reduce_without_key_is_one_global_group():
    reduce = pact.Reduce("all", [source(ROWS)], udf=lambda k, g: [(k, sum(r["v"] for r in g))])
    assert run(reduce) == [(None, 15)]


def test_reduce_on_empty_input_calls_no_udf():
    calls = []
    for key in (None, key_of("k")):
        reduce = pact.Reduce("g", [source([])], key=key, udf=lambda k, g: calls.append(k) or [k])
        assert run(reduce) == []
    assert calls == []


@pytest.mark.parametrize("descending, expected", [(False, [1, 3, 2, 5, 4]), (True, [4, 2, 5, 1, 3])])
def test_group_order_sorts_each_group_stably(descending, expected):
    rows = [{"k": "x", "v": v, "rank": rank} for v, rank in [(1, 0), (2, 1), (3, 0), (4, 2), (5, 1)]]
    reduce = pact.Reduce("g", [source(rows)], key=key_of("k"), group_order=(key_of("rank"), descending),
                         udf=lambda k, g: [r["v"] for r in g])
    assert run(reduce) == expected


def test_global_group_with_order_sorts_the_whole_stream():
    reduce = pact.Reduce("sort", [source([5, 3, 9, 1, 3])], key=None, group_order=(lambda r: r, True),
                         udf=lambda k, g: g)
    assert run(reduce) == [9, 5, 3, 3, 1]


def _sum_reducer(k, group):
    return [(k, sum(v for _, v in group))]


def test_combiner_gives_the_same_result_and_is_used():
    rows = [(i % 3, i) for i in range(50)]
    calls = []

    def combiner(k, group):
        calls.append(len(group))
        return _sum_reducer(k, group)

    plain = run(pact.Reduce("r", [source(rows)], key=lambda r: r[0], udf=_sum_reducer))
    combined = run(pact.Reduce("r", [source(rows)], key=lambda r: r[0], udf=_sum_reducer, combiner=combiner),
                   combine_threshold=4)
    assert combined == plain == [(0, sum(range(0, 50, 3))), (1, sum(range(1, 50, 3))), (2, sum(range(2, 50, 3)))]
    assert calls


def test_combiner_is_not_applied_when_groups_are_ordered():
    def combiner(k, group):
        raise AssertionError("combiner must not run under a group order")

    reduce = pact.Reduce("r", [source(list(range(10)))], group_order=(lambda r: -r, False),
                         udf=lambda k, g: [g[0]], combiner=combiner)
    assert run(reduce, combine_threshold=2) == [9]


def test_non_shrinking_combiner_is_combined_rarely():
    calls = []

    def identity(k, group):
        calls.append(len(group))
        return list(group)

    reduce = pact.Reduce("r", [source(list(range(1000)))], key=lambda r: 0, udf=lambda k, g: [len(g)],
                         combiner=identity)
    assert run(reduce, combine_threshold=10) == [1000]
    # a group is combined again only after it doubled (before shipping and in the Reduce): linear, not quadratic
    assert 0 < len(calls) < 20


# -- Match, Cross, CoGroup ---------------------------------------------------------------------------------------

LEFT = [("a", 1), ("b", 2), ("a", 3), ("z", 9)]
RIGHT = [("a", "x"), ("c", "y"), ("a", "w"), ("b", "v")]


def pair(left, right):
    return [(left, right)]


def test_match_joins_equal_keys_with_left_from_input_zero():
    match = pact.Match("j", [source(LEFT, "l"), source(RIGHT, "r")], keys=(key_of(0), key_of(0)), udf=pair)
    assert run(match) == [(("a", 1), ("a", "x")), (("a", 1), ("a", "w")), (("b", 2), ("b", "v")),
                          (("a", 3), ("a", "x")), (("a", 3), ("a", "w"))]


def test_match_builds_the_smaller_side_when_hints_say():
    left, right = source(LEFT, "l"), source(RIGHT, "r")
    left.hints = pact.Hints(output_records=4)
    right.hints = pact.Hints(output_records=1000)
    match = pact.Match("j", [left, right], keys=(key_of(0), key_of(0)), udf=pair)
    out = MemoryOutput()
    plan = pact.PactPlan([pact.Sink("sink", [match], output_format=out)])
    executor = InlineExecutor()
    physical = plan_physical(plan, executor.resources())
    assert physical.node(match).local == "hybrid-hash-build-first"
    stats = executor.run(plan, physical)
    assert stats.executed[match.id]["local"] == "hybrid-hash-build-first"  # what the driver ran
    assert all(isinstance(l[1], int) and isinstance(r[1], str) for l, r in out.records)
    assert sorted(out.records) == sorted(run(pact.Match("j", [source(LEFT), source(RIGHT)],
                                                        keys=(key_of(0), key_of(0)), udf=pair)))


def test_match_without_equal_keys_is_empty_but_reads_both_sides():
    left, right = source([("q", 1)], "l"), source([], "r")
    assert run(pact.Match("j", [left, right], keys=(key_of(0), key_of(0)), udf=pair)) == []
    assert left.input_format.reads == 1


def test_cross_pairs_everything():
    cross = pact.Cross("x", [source([1, 2]), source(["a", "b", "c"])], udf=pair)
    assert run(cross) == [(1, "a"), (1, "b"), (1, "c"), (2, "a"), (2, "b"), (2, "c")]
    assert run(pact.Cross("x", [source([1, 2]), source([])], udf=pair)) == []


def test_cogroup_calls_udf_for_keys_of_either_side():
    cogroup = pact.CoGroup("cg", [source(LEFT), source(RIGHT)], keys=(key_of(0), key_of(0)),
                           udf=lambda k, l, r: [(k, [v for _, v in l], [v for _, v in r])])
    assert run(cogroup) == [("a", [1, 3], ["x", "w"]), ("b", [2], ["v"]), ("z", [9], []), ("c", [], ["y"])]


def test_cogroup_orders_groups_per_side():
    cogroup = pact.CoGroup("cg", [source(LEFT), source(RIGHT)], keys=(key_of(0), key_of(0)),
                           group_order=((key_of(1), True), None),
                           udf=lambda k, l, r: [(k, [v for _, v in l], [v for _, v in r])] if k == "a" else [])
    assert run(cogroup) == [("a", [3, 1], ["x", "w"])]


def test_cogroup_of_empty_inputs_is_empty():
    cogroup = pact.CoGroup("cg", [source([]), source([])], keys=(key_of(0), key_of(0)), udf=lambda k, l, r: [k])
    assert run(cogroup) == []


# -- shared contracts (DAGs) -------------------------------------------------------------------------------------

def test_contract_with_two_consumers_is_computed_once():
    calls = []
    src = source(range(5))
    shared = pact.Map("shared", [src], udf=lambda rs: (calls.append(r) or r for r in rs))
    union = pact.Union("u", [mapping(lambda x: x * 10, shared, "tens"), mapping(lambda x: -x, shared, "neg")])
    assert run(union) == [0, 10, 20, 30, 40, 0, -1, -2, -3, -4]
    assert calls == [0, 1, 2, 3, 4]
    assert src.input_format.opens == 1


def test_two_sinks_share_one_computation():
    src = source([1, 2, 3])
    shared = mapping(lambda x: x + 1, src)
    first, second = MemoryOutput(tag="a"), MemoryOutput(tag="b")
    sinks = [pact.Sink("a", [shared], output_format=first),
             pact.Sink("b", [mapping(lambda x: x * 2, shared)], output_format=second)]
    stats = InlineExecutor().run(pact.PactPlan(sinks))
    assert (first.records, second.records) == ([2, 3, 4], [4, 6, 8])
    assert src.input_format.reads == 3
    assert stats.of(shared).records_out == 3
    assert [s.records_out for s in stats.sinks()] == [3, 3]


def test_self_join_reads_its_input_once():
    src = source([("a", 1), ("b", 2), ("a", 3)])
    match = pact.Match("self", [src, src], keys=(key_of(0), key_of(0)), udf=lambda l, r: [(l[1], r[1])])
    assert run(match) == [(1, 1), (1, 3), (2, 2), (3, 1), (3, 3)]
    assert src.input_format.reads == 3


def test_diamond_dag_with_reduce_and_cogroup():
    src = source(ROWS)
    totals = pact.Reduce("totals", [src], key=key_of("k"), udf=lambda k, g: [(k, sum(r["v"] for r in g))])
    counts = pact.Reduce("counts", [src], key=key_of("k"), udf=lambda k, g: [(k, len(g))])
    both = pact.CoGroup("both", [totals, counts], keys=(key_of(0), key_of(0)),
                        udf=lambda k, t, c: [(k, t[0][1], c[0][1])])
    assert run(both) == [("a", 4, 2), ("b", 7, 2), ("c", 4, 1)]


# -- sinks: commit at the end, abort on failure ----------------------------------------------------------------

def test_sinks_commit_only_after_all_sinks_wrote():
    events = []
    outs = [MemoryOutput(events=events, tag=t) for t in "ab"]
    sinks = [pact.Sink(t, [source([1])], output_format=o) for t, o in zip("ab", outs)]
    InlineExecutor().run(pact.PactPlan(sinks))
    assert events == [("open", "a"), ("open", "b"), ("commit", "a"), ("commit", "b")]


def test_failing_udf_aborts_every_opened_writer_and_propagates_unchanged():
    boom = ZeroDivisionError("udf failed at script.meteor:3")
    events = []

    def explode(records):
        for r in records:
            if r == 2:
                raise boom
            yield r

    good = pact.Sink("good", [source([1, 2])], output_format=MemoryOutput(events=events, tag="good"))
    bad = pact.Sink("bad", [pact.Map("explode", [source([1, 2])], udf=explode)],
                    output_format=MemoryOutput(events=events, tag="bad"))
    with pytest.raises(ZeroDivisionError) as info:
        InlineExecutor().run(pact.PactPlan([good, bad]))
    assert info.value is boom
    assert events == [("open", "good"), ("open", "bad"), ("abort", "good"), ("abort", "bad")]
    assert good.output_format.records is None and bad.output_format.records is None


def test_failing_source_aborts_the_writer():
    def broken():
        yield 1
        raise OSError("disk gone")

    out = MemoryOutput()
    with pytest.raises(OSError, match="disk gone"):
        InlineExecutor().run(pact.PactPlan([pact.Sink("s", [pact.Source("src", input_format=MemoryInput(
            factory=broken))], output_format=out)]))
    assert (out.aborts, out.commits, out.records) == (1, 0, None)


def test_failing_commit_aborts_the_writers_not_yet_committed():
    events = []

    class BadCommit(MemoryOutput):
        def open(self):
            writer = super().open()
            writer.commit = lambda: (_ for _ in ()).throw(OSError("rename failed"))
            return writer

    outs = [MemoryOutput(events=events, tag="a"), BadCommit(events=events, tag="b"),
            MemoryOutput(events=events, tag="c")]
    sinks = [pact.Sink(o.tag, [source([1])], output_format=o) for o in outs]
    with pytest.raises(OSError, match="rename failed"):
        InlineExecutor().run(pact.PactPlan(sinks))
    assert events[-3:] == [("commit", "a"), ("abort", "b"), ("abort", "c")]


# -- statistics, structure checks, plan text -------------------------------------------------------------------

def _stats_plan():
    src = source(ROWS)
    evens = pact.Map("evens", [src], udf=lambda rs: (r for r in rs if r["v"] % 2 == 0))
    groups = pact.Reduce("groups", [src], key=key_of("k"), udf=lambda k, g: [k])
    union = pact.Union("union", [evens, groups])
    return src, pact.PactPlan([pact.Sink("sink", [union], output_format=MemoryOutput())])


def test_stats_count_records_in_and_out_per_contract():
    src, plan = _stats_plan()
    stats = InlineExecutor().run(plan)
    assert [(s.name, s.kind, s.records_in, s.records_out) for s in stats.contracts] == [
        ("src", "Source", 5, 5), ("evens", "Map", 5, 2), ("groups", "Reduce", 5, 3),
        ("union", "Union", 5, 5), ("sink", "Sink", 5, 5)]
    assert all(s.seconds >= 0 for s in stats.contracts)
    assert stats.seconds >= sum(s.seconds for s in stats.contracts) * 0.5
    assert stats.get("groups").records_out == 3
    with pytest.raises(KeyError, match="nope"):
        stats.get("nope")
    table = stats.table()
    assert "groups" in table and "Reduce" in table and "wall clock of the whole run" in table
    assert len(table.splitlines()) == 5 + 4


@pytest.mark.parametrize("make, message", [
    (lambda s: pact.Map("m", [s]), "has no udf"),
    (lambda s: pact.Match("j", [s], keys=(id, id), udf=pair), "needs 2 input"),
    (lambda s: pact.CoGroup("c", [s, s], udf=pair), "has no keys"),
    (lambda s: pact.Map("m", [pact.Sink("inner", [s], output_format=MemoryOutput())], udf=iter), "reads from the sink"),
])
def test_malformed_programs_are_rejected_before_running(make, message):
    src = source([1])
    out = MemoryOutput()
    with pytest.raises(PlanStructureError, match=message):
        InlineExecutor().run(pact.PactPlan([pact.Sink("s", [make(src)], output_format=out)]))
    assert src.input_format.opens == 0 and out.events == []


def test_plan_text_prints_shared_contracts_once():
    src, plan = _stats_plan()
    text = plan_text(plan)
    lines = text.splitlines()
    assert lines[0].startswith(f"#{plan.sinks[0].id} Sink sink to memory:out")
    assert sum("Source src from memory:in" in line for line in lines) == 1
    assert any("(shared, see above)" in line for line in lines)
    assert any("Reduce groups key=fn" in line for line in lines)
    stats = InlineExecutor().run(plan)
    assert "[in=5 out=2" in plan_text(plan, stats)


def test_block_metering_counts_exactly_when_the_consumer_stops_early():
    src = pact.Source("naturals", input_format=MemoryInput(factory=itertools.count))
    squares = mapping(lambda x: x * x, src, "squares")
    first = pact.Map("first5", [squares], udf=lambda rs: itertools.islice(rs, 5))
    out = MemoryOutput()
    stats = InlineExecutor().run(pact.PactPlan([pact.Sink("sink", [first], output_format=out)]))
    assert (stats.get("first5").records_in, stats.get("first5").records_out) == (5, 5)
    assert stats.get("squares").records_out == 5
    assert stats.get("squares").records_in == stats.get("naturals").records_out >= 5
