"""The PACT API (pact_backend.api): every contract, group orders, collectors, annotations (kept and violated),
annotation-driven optimizer decisions, explain, and equal results on the inline, process and Dask executors."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from pact_backend import contracts as pact
from pact_backend import physical as ph
from pact_backend.api import (AnnotationViolation, ExecutionEnvironment, constant_fields, constant_fields_except,
                              key_of, output_cardinality, reads, selectivity)
from pact_backend.optimizer import optimize

WORDS = [(w, i) for i, w in enumerate("a b a c b a d".split())]


@pytest.fixture
def env() -> ExecutionEnvironment:
    return ExecutionEnvironment("inline")


# -- record at a time ---------------------------------------------------------------------------------------------

def test_map_returns_one_record_and_none_drops_it(env):
    out = env.from_collection([1, 2, 3, 4]).map(lambda x: x * 10 if x % 2 else None).collect()
    assert sorted(out) == [10, 30]


def test_flat_map_by_return_generator_and_collector(env):
    lines = env.from_collection(["a b", "", "c"])

    def by_yield(line):
        yield from line.split()

    def by_collector(line, out):
        for word in line.split():
            out.collect(word.upper())

    assert sorted(lines.flat_map(str.split).collect()) == ["a", "b", "c"]
    assert sorted(lines.map(by_yield).collect()) == ["a", "b", "c"]
    assert sorted(lines.flat_map(by_collector).collect()) == ["A", "B", "C"]


def test_filter_keeps_records_and_tells_the_optimizer(env):
    kept = env.from_collection(range(10)).filter(lambda x: x > 6)
    assert sorted(kept.collect()) == [7, 8, 9]
    assert kept.contract.hints.preserves_records and kept.contract.hints.cardinality == (0, 1)


def test_map_partition_sees_the_whole_stream(env):
    assert env.from_collection([3, 4]).map_partition(lambda records: [sum(records)]).collect() == [7]


# -- grouping -----------------------------------------------------------------------------------------------------

def test_reduce_group_gets_key_and_group(env):
    groups = env.from_collection(WORDS).group_by(0).reduce_group(lambda k, g: [(k, sorted(i for _, i in g))])
    assert sorted(groups.collect()) == [("a", [0, 2, 5]), ("b", [1, 4]), ("c", [3]), ("d", [6])]


def test_combiner_runs_and_its_output_feeds_the_reducer(env):
    calls = []

    def combine(key, group):
        calls.append(len(group))
        return [(key, sum(v for _, v in group))]

    records = [("k", 1)] * 3000 + [("j", 2)] * 5
    total = env.from_collection(records).group_by(0).reduce_group(combine, combine=combine)
    assert sorted(total.collect()) == [("j", 10), ("k", 3000)]
    assert any(n >= 1024 for n in calls)  # the combiner shrank the big group while it grew


def test_binary_reduce_and_aggregates_on_tuples_and_dicts(env):
    tuples = env.from_collection([("a", 1, 5), ("a", 4, 2), ("b", 3, 3)])
    assert sorted(tuples.group_by(0).sum(1).collect()) == [("a", 5, 5), ("b", 3, 3)]
    assert sorted(tuples.group_by(0).min(2).collect()) == [("a", 1, 2), ("b", 3, 3)]
    assert sorted(tuples.group_by(0).max(1).collect()) == [("a", 4, 5), ("b", 3, 3)]
    dicts = env.from_collection([{"k": "x", "n": 1}, {"k": "x", "n": 2}])
    assert dicts.group_by("k").reduce(lambda a, b: {"k": a["k"], "n": a["n"] * 10 + b["n"]}).collect() \
        in ([{"k": "x", "n": 12}], [{"k": "x", "n": 21}])
    assert env.from_collection([1, 2, 3]).reduce(lambda a, b: a + b).collect() == [6]
    assert env.from_collection([1, 2]).reduce_group(lambda k, g: [(k, len(g))]).collect() == [(None, 2)]


def test_group_order_sorts_every_group(env):
    records = [("g", 2, "x"), ("g", 1, "y"), ("g", 2, "z"), ("h", 9, "q"), ("h", 3, "r")]
    ds = env.from_collection(records)
    asc = ds.group_by(0).sort_group(1).reduce_group(lambda k, g: [(k, [r[1] for r in g])])
    desc = ds.group_by(0).sort_group(1, descending=True).reduce_group(lambda k, g: [(k, [r[1] for r in g])])
    mixed = ds.group_by(0).sort_group(1).sort_group(2, descending=True).reduce_group(
        lambda k, g: [(k, [r[1:] for r in g])])
    assert sorted(asc.collect()) == [("g", [1, 2, 2]), ("h", [3, 9])]
    assert sorted(desc.collect()) == [("g", [2, 2, 1]), ("h", [9, 3])]
    assert sorted(mixed.collect()) == [("g", [(1, "y"), (2, "z"), (2, "x")]), ("h", [(3, "r"), (9, "q")])]


# -- two inputs ---------------------------------------------------------------------------------------------------

def test_join_on_fields_composite_keys_and_functions(env):
    left = env.from_collection([(1, "a", "x"), (2, "b", "y"), (3, "c", "z")])
    right = env.from_collection([("b", 2, 20), ("c", 9, 30), ("a", 1, 10)])
    pairs = left.join(right, 1, 0).collect()
    assert sorted(pairs) == [((1, "a", "x"), ("a", 1, 10)), ((2, "b", "y"), ("b", 2, 20)),
                             ((3, "c", "z"), ("c", 9, 30))]
    composite = left.join(right, (0, 1), (1, 0), lambda l, r: (l[2], r[2])).collect()
    assert sorted(composite) == [("x", 10), ("y", 20)]
    by_function = left.join(right, lambda r: r[0] * 10, lambda r: r[2], lambda l, r: l[1]).collect()
    assert sorted(by_function) == ["a", "b", "c"]


def test_join_udf_may_emit_many_by_collector(env):
    left = env.from_collection([("k", 2)])
    right = env.from_collection([("k", "v")])
    out = left.join(right, 0, 0, lambda l, r, out: [out(r[1]) for _ in range(l[1])]).collect()
    assert out == ["v", "v"]


def test_cross_and_union(env):
    a, b = env.from_collection([1, 2]), env.from_collection(["x", "y"])
    assert sorted(a.cross(b).collect()) == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]
    assert sorted(a.cross(b, lambda n, s: s * n).collect()) == ["x", "xx", "y", "yy"]
    assert sorted(a.union(a, env.from_collection([3])).collect()) == [1, 1, 2, 2, 3]


def test_cogroup_every_key_of_either_side_with_orders(env):
    left = env.from_collection([("a", 3), ("a", 1), ("b", 5)])
    right = env.from_collection([("a", 9), ("c", 7), ("c", 8)])

    def summary(key, lefts, rights):
        yield (key, [v for _, v in lefts], [v for _, v in rights])

    out = left.cogroup(right, 0, 0, summary, left_order=[(1, False)], right_order=[(1, True)]).collect()
    assert sorted(out) == [("a", [1, 3], [9]), ("b", [5], []), ("c", [], [8, 7])]


def test_keys_are_fields_lists_or_functions():
    assert key_of(0)((5, 6)) == 5 and key_of("a")({"a": 1}) == 1 and key_of([1, 0])((5, 6)) == (6, 5)
    assert key_of(len)("abc") == 3
    with pytest.raises(TypeError):
        key_of(1.5)


# -- annotations --------------------------------------------------------------------------------------------------

def _ship_of(plan: pact.PactPlan, name: str, dop: int = 4) -> str:
    physical = optimize(plan, dop)
    return next(physical.node(c).ship[0] for c in plan.contracts() if c.name == name)


def _regroup(env, first_udf):
    ds = env.from_collection(WORDS).group_by(0).reduce_group(first_udf)
    out = ds.group_by(0).reduce_group(lambda k, g: [(k, len(g))]).named("again")
    return pact.PactPlan([pact.Sink(name="s", inputs=[out.contract], output_format=None)])


def test_constant_fields_keep_the_partitioning_for_the_next_reduce(env):
    @constant_fields(0)
    def annotated(key, group):
        return [(key, len(group))]

    def plain(key, group):
        return [(key, len(group))]

    assert _ship_of(_regroup(env, annotated), "again") == ph.FORWARD
    assert _ship_of(_regroup(env, plain), "again") == ph.HASH_PARTITION
    summed = env.from_collection(WORDS).group_by(0).sum(1)  # all fields constant except the sum
    again = summed.group_by(0).reduce_group(lambda k, g: g).named("again")
    assert _ship_of(pact.PactPlan([pact.Sink(name="s", inputs=[again.contract])]), "again") == ph.FORWARD


def test_debug_mode_checks_constant_fields_and_cardinality():
    env = ExecutionEnvironment("inline", debug=True)
    ds = env.from_collection([(1, "a"), (2, "b")])

    @constant_fields(0)
    def keeps(record):
        return (record[0], record[1] * 2)

    @constant_fields(0)
    def breaks(record):
        return (record[0] + 1, record[1])

    @constant_fields_except(1)
    def breaks_other(record):
        return (record[0], "changed", "and this too")

    @output_cardinality(1)
    def too_many(record):
        return [record, record]

    assert sorted(ds.map(keeps).collect()) == [(1, "aa"), (2, "bb")]
    with pytest.raises(AnnotationViolation, match="field 0"):
        ds.map(breaks).collect()
    assert ds.map(breaks_other).collect()  # fields the input does not have are new, not changed
    with pytest.raises(AnnotationViolation, match="field 2"):
        env.from_collection([(1, "a", "z")]).map(breaks_other).collect()
    with pytest.raises(AnnotationViolation, match="cardinality"):
        ds.flat_map(too_many).collect()


def test_debug_mode_checks_join_sides_and_groups():
    env = ExecutionEnvironment("inline", debug=True)
    left, right = env.from_collection([(1, "l")]), env.from_collection([(1, "r")])
    ok = constant_fields(1, input=1)(lambda l, r: (l[0], r[1]))
    bad = constant_fields(1, input=1)(lambda l, r: (l[0], l[1]))
    assert left.join(right, 0, 0, ok).collect() == [(1, "r")]
    with pytest.raises(AnnotationViolation, match="input 1"):
        left.join(right, 0, 0, bad).collect()
    group_bad = constant_fields(0)(lambda k, g: [(k + 1, len(g))])
    with pytest.raises(AnnotationViolation):
        left.group_by(0).reduce_group(group_bad).collect()


def test_selectivity_and_cardinality_hints_reach_the_estimates(env):
    ds = env.from_collection(range(100))
    rare = ds.flat_map(selectivity(0.1)(lambda x: [x] if x < 10 else []))
    double = ds.flat_map(output_cardinality(2)(lambda x: [x, x]))
    plan = pact.PactPlan([pact.Sink(name="a", inputs=[rare.contract]), pact.Sink(name="b", inputs=[double.contract])])
    physical = optimize(plan, 1)
    assert physical.node(rare.contract).estimate.records == pytest.approx(10)
    assert physical.node(double.contract).estimate.records == pytest.approx(200)


def test_a_selection_moves_below_a_join_by_its_read_set():
    def program(optimize: bool):
        env = ExecutionEnvironment("inline", optimize=optimize)
        orders = env.from_collection([(i, i % 10, i * 1.5) for i in range(200)], "orders")
        customers = env.from_collection([(c, f"c{c}") for c in range(10)], "customers")
        joined = orders.join(customers, 1, 0, constant_fields(0, 1, 2)(lambda o, c: (o[0], o[1], o[2], c[1])))
        big = joined.filter(reads(2)(lambda r: r[2] > 270)).named("big")
        return env, big

    env, big = program(True)
    plan = env.plan([pact.Sink(name="s", inputs=[big.contract])])
    match = next(c for c in plan.contracts() if isinstance(c, pact.Match))
    assert match.inputs[0].name == "big"  # the filter now reads the orders
    moved = sorted(big.collect())
    plain_env, plain = program(False)
    assert moved == sorted(plain.collect()) and len(moved) == 19
    assert env.last_result.stats.of(match).records_in < plain_env.last_result.stats.contracts[2].records_in


# -- executors and explain ------------------------------------------------------------------------------------------

def _everything(env: ExecutionEnvironment) -> dict[str, list]:
    words = env.from_collection(["a b a", "c b a", "d"] * 20)
    counts = words.flat_map(str.split).map(lambda w: (w, 1)).group_by(0).sum(1)
    names = env.from_collection([("a", "alpha"), ("b", "beta"), ("c", "gamma")])
    named = counts.join(names, 0, 0, lambda c, n: (n[1], c[1]))
    ordered = words.map(lambda l: (len(l), l)).group_by(0).sort_group(1, descending=True).reduce_group(
        lambda k, g: [(k, g[0][1], len(g))])
    crossed = names.cross(env.from_collection([1, 2]), lambda n, i: (n[0], i))
    grouped = counts.cogroup(names, 0, 0, lambda k, l, r: [(k, len(l), len(r))])
    return {"named": sorted(named.collect()), "ordered": sorted(ordered.collect()),
            "crossed": sorted(crossed.collect()), "grouped": sorted(grouped.collect()),
            "union": sorted(counts.union(counts).collect())}


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_same_results_on_every_executor(executor, request):
    if executor == "dask":
        from pact_backend.executors.dask import DaskExecutor
        engine = DaskExecutor(address=request.getfixturevalue("dask_cluster").scheduler_address)
    else:
        engine = "process"
    expected = _everything(ExecutionEnvironment("inline"))
    assert expected["named"] == [("alpha", 60), ("beta", 40), ("gamma", 20)]
    assert _everything(ExecutionEnvironment(engine, parallelism=2)) == expected


def test_execute_writes_every_sink_and_reports(tmp_path):
    env = ExecutionEnvironment("inline")
    ds = env.from_collection([("x", 1), ("y", 2)])
    ds.write_jsonl(str(tmp_path / "a.jsonl"))
    ds.map(lambda r: (r[0], r[1] * 2)).write_csv(str(tmp_path / "b.csv"))
    result = env.execute()
    assert (tmp_path / "b.csv").read_text() == "x,2\ny,4\n"
    assert [json.loads(l) for l in (tmp_path / "a.jsonl").read_text().splitlines()] == [["x", 1], ["y", 2]]
    assert len(result.stats.sinks()) == 2 and "Sink" in result.table()
    with pytest.raises(ValueError, match="no sink"):
        ExecutionEnvironment().execute()


PROGRAM = '''
from pact_backend.api import ExecutionEnvironment

def program():
    env = ExecutionEnvironment()
    words = env.from_collection(["a b", "b"]).flat_map(str.split).map(lambda w: (w, 1)).group_by(0).sum(1)
    words.iterate(lambda ds: ds.map(lambda r: (r[0], r[1] + 1)), times=2).write_jsonl("out.jsonl")
    return env
'''


def test_meteor_explain_module_function(tmp_path, monkeypatch):
    from meteor.cli import main

    (tmp_path / "wordprog.py").write_text(PROGRAM)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for target in ("wordprog:program", "wordprog.py:program"):
        result = CliRunner().invoke(main, ["explain", target, "--parallelism", "2"])
        assert result.exit_code == 0, result.output
        for section in ("== PACT program ==", "Reduce sum(1)", "BulkIteration", "step plan (at most 2",
                        "constant data path", "== Physical plan (optimized) ==", "Physical step plan"):
            assert section in result.output
    as_json = json.loads(CliRunner().invoke(main, ["explain", "wordprog:program", "--format", "json"]).output)
    assert as_json["iterations"][0]["kind"] == "BulkIteration"
    missing = CliRunner().invoke(main, ["explain", "wordprog:nothing"])
    assert missing.exit_code == 1 and "no function 'nothing'" in missing.output
    assert Counter(c["kind"] for c in as_json["pact"])["Sink"] == 1
