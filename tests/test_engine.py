"""One engine: every local strategy the optimizer may choose runs in the runtime, executors refuse plans they
cannot run, the planner records chaining and fusion, and what runs is what explain prints (--parallelism 1
included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreement import assert_ran_as_explained
from meteor.cli import main
from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.chaining import decide_execution
from pact_backend.executors.inline import InlineExecutor
from pact_backend.executors.process import ProcessExecutor
from pact_backend.executors.registry import ExecutorError, executor_names, make_executor
from pact_backend.planner import Resources, UnsupportedPlan, plan_physical
from pact_backend.runtime.drivers import LOCAL_STRATEGIES
from test_process_executor import Collect, Numbers, bag, k_of

PAIR = lambda a, b: [(a["i"], b["i"])]  # noqa: E731


def joined_and_cogrouped() -> pact.PactPlan:
    """A Match and a CoGroup over 3000 and 50 records with duplicate keys on both sides."""
    big = pact.Source("big", input_format=Numbers(3000, keys=13))
    small = pact.Source("small", input_format=Numbers(50, keys=9))
    match = pact.Match("match", [big, small], keys=(k_of, k_of), udf=PAIR)
    cogroup = pact.CoGroup("cogroup", [big, small], keys=(k_of, k_of),
                           udf=lambda k, a, b: [(k, sorted(r["i"] for r in a), sorted(r["i"] for r in b))])
    return pact.PactPlan([pact.Sink("m", [match], output_format=Collect()),
                          pact.Sink("c", [cogroup], output_format=Collect())])


def expected_records() -> list:
    big = [{"i": i, "k": i % 13} for i in range(3000)]
    small = [{"i": i, "k": i % 9} for i in range(50)]
    matches = [(a["i"], b["i"]) for a in big for b in small if a["k"] == b["k"]]
    keys = {r["k"] for r in big} | {r["k"] for r in small}
    cogroups = [(k, sorted(r["i"] for r in big if r["k"] == k), sorted(r["i"] for r in small if r["k"] == k))
                for k in keys]
    return [bag(matches), bag(cogroups)]


@pytest.mark.parametrize("memory", [None, 1], ids=["in-memory", "spilling"])
@pytest.mark.parametrize("executor", ["inline", "process"])
@pytest.mark.parametrize("match_local, cogroup_local", [
    (phys.SORT_MERGE, phys.SORT_GROUP), (phys.HYBRID_HASH_BUILD_FIRST, phys.HASH_GROUP),
    (phys.HYBRID_HASH_BUILD_SECOND, phys.SORT_GROUP)])
def test_every_match_and_cogroup_strategy_runs_and_agrees(executor, memory, match_local, cogroup_local):
    plan = joined_and_cogrouped()
    runner = make_executor(executor, 2, memory)
    physical = plan_physical(plan, runner.resources(), optimize=False)
    match, cogroup = (s.inputs[0] for s in plan.sinks)
    physical.node(match).local, physical.node(cogroup).local = match_local, cogroup_local
    stats = runner.run(plan, physical)
    assert [bag(s.output_format.records) for s in plan.sinks] == expected_records()
    assert stats.executed[match.id]["local"] == match_local and stats.executed[cogroup.id]["local"] == cogroup_local
    assert (runner.last_run.spill_files > 0) == (memory is not None)  # sorts and hash tables spill past 1 byte


def test_sort_grouping_of_a_reduce_runs_as_planned():
    source = pact.Source("numbers", input_format=Numbers(2000, keys=17))
    reduce = pact.Reduce("count", [source], key=k_of, udf=lambda k, g: [(k, len(g))])
    plan = pact.PactPlan([pact.Sink("out", [reduce], output_format=Collect())])
    runner = ProcessExecutor(parallelism=2, memory_bytes=1)
    physical = plan_physical(plan, runner.resources(), optimize=False)
    physical.node(reduce).local = phys.SORT_GROUP
    stats = runner.run(plan, physical)
    assert sorted(plan.sinks[0].output_format.records) == [(k, len(range(k, 2000, 17))) for k in range(17)]
    assert stats.executed[reduce.id]["local"] == phys.SORT_GROUP


def test_the_runtime_has_every_local_strategy_the_optimizer_knows():
    assert LOCAL_STRATEGIES == set(phys.LOCAL_STRATEGIES)


def test_a_plan_with_a_strategy_the_runtime_lacks_is_refused_before_anything_runs():
    plan = joined_and_cogrouped()
    runner = InlineExecutor()
    physical = plan_physical(plan, runner.resources())
    match = plan.sinks[0].inputs[0]
    physical.node(match).local = "index-nested-loop"
    assert "index-nested-loop" in runner.unsupported(physical)
    with pytest.raises(UnsupportedPlan, match="#%d Match match: index-nested-loop" % match.id):
        runner.run(plan, physical)
    assert all(s.output_format.opened == 0 for s in plan.sinks)  # nothing ran, no sink was opened
    lacking = Resources(2, 1 << 20, local_strategies=frozenset({phys.NONE, phys.HASH_GROUP}))
    with pytest.raises(UnsupportedPlan, match="hybrid-hash"):
        plan_physical(plan, lacking)  # the planner never hands out a plan its executor cannot run


def test_the_planner_records_chaining_combining_and_fusion():
    source = pact.Source("numbers", input_format=Numbers(100))
    evens = pact.Map("evens", [source], udf=lambda rs: (r for r in rs if r["i"] % 2 == 0))
    count = lambda k, g: [{"k": k, "n": len(g)}]  # noqa: E731
    counted = pact.Reduce("counted", [evens], key=k_of, udf=count, combiner=count)
    plan = pact.PactPlan([pact.Sink("out", [counted], output_format=Collect())])
    physical = plan_physical(plan, Resources(2, 1 << 20))
    assert physical.node(evens).chained and not physical.node(source).chained
    assert physical.node(counted).combined and not physical.node(source).fused  # this combiner offers no fusion
    decide_execution(physical)  # deciding again changes nothing
    assert physical.node(evens).chained and physical.node(counted).combined


def test_executors_come_from_the_registry():
    assert {"inline", "process", "dask"} <= set(executor_names())
    process = make_executor("process", 3, "64MB")
    assert isinstance(process, ProcessExecutor) and process.parallelism == 3
    assert process.memory_per_instance == (64 << 20) // 2  # two cores run tasks at once
    assert make_executor("inline", 4).parallelism == 1  # one partition, whatever was asked
    with pytest.raises(ExecutorError, match="unknown executor 'nope'; choose one of dask, inline, process"):
        make_executor("nope")
    with pytest.raises(ExecutorError, match="not a memory size"):
        make_executor("process", memory="lots")
    with pytest.raises(ExecutorError, match="does not take these options"):
        make_executor("process", address="tcp://x:1")


@pytest.fixture
def q15_like(tmp_path, monkeypatch) -> Path:
    """A JSON Lines input and a script whose source stage fuses with the grouping's combiner (TPC-H Q15's shape)."""
    monkeypatch.chdir(tmp_path)
    rows = [{"s": i % 7, "p": float(i), "d": "1996-0%d-01" % (1 + i % 6)} for i in range(3000)]
    (tmp_path / "li.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "q.meteor").write_text(
        "$li = read from 'li.jsonl';\n$li = filter $li where $li.d >= '1996-02-01';\n"
        "$g = group $li by $li.s into {s: $li[0].s, total: sum($li[*].p)};\nwrite $g to 'out.json';\n")
    return tmp_path


@pytest.mark.parametrize("parallelism", ["1", "2"])
def test_the_fused_path_is_planned_explained_and_run_at_every_parallelism(q15_like, parallelism):
    text = CliRunner().invoke(main, ["explain", "q.meteor", "--parallelism", parallelism, "--format", "json"])
    assert text.exit_code == 0, text.output
    nodes = {(n["kind"], n["name"]): n for n in json.loads(text.output)["physical"]}
    assert nodes["Source", "$li"]["fused"] and nodes["Reduce", "$g"]["combined"]
    from meteor.api import run_file

    stats = run_file("q.meteor", executor="process", parallelism=int(parallelism))
    assert any(entry["fused"] for entry in stats.executed.values())
    totals = {r["s"]: r["total"] for r in json.loads((q15_like / "out.json").read_text())}
    assert totals == {s: float(sum(i for i in range(3000) if i % 7 == s and i % 6 >= 1)) for s in range(7)}


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_explain_and_run_agree_on_the_fused_plan(q15_like, executor):
    from meteor.api import run_file

    stats = run_file("q.meteor", executor=executor)
    assert assert_ran_as_explained("q.meteor", executor, stats) >= 3
