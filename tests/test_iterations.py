"""Bulk and workset iterations (pact_backend.iterations, VLDB J. 2014 sec. 5.3): termination by superstep count,
convergence and termination criterion; the workset loop and its solution-set index; the constant data path
computed once; per-superstep statistics; nesting; the same results on the process executor."""

from __future__ import annotations

import pytest

from pact_backend.api import ExecutionEnvironment
from pact_backend.io.memory import MemoryInput


class CountingInput(MemoryInput):
    """A memory source that counts how often it is read (inline executor: the same object)."""

    def __init__(self, records):
        super().__init__(records, "counted")
        self.reads = 0

    def read(self):
        self.reads += 1
        return super().read()


@pytest.fixture
def env() -> ExecutionEnvironment:
    return ExecutionEnvironment("inline")


def test_bulk_runs_the_given_number_of_supersteps(env):
    doubled = env.from_collection([1, 2]).iterate(lambda ds: ds.map(lambda x: x * 2), times=5)
    assert sorted(doubled.collect()) == [32, 64]
    stats = env.last_result.iterations[0]
    assert len(stats.supersteps) == 5 and stats.stopped == "after 5 supersteps"
    assert [s.records_in for s in stats.supersteps] == [2] * 5


def test_bulk_convergence_criteria(env):
    start = env.from_collection([1, 5, 30])
    capped = start.iterate(lambda ds: ds.map(lambda x: min(x + 7, 20)), times=100, until="unchanged")
    assert sorted(capped.collect()) == [20, 20, 20]
    assert env.last_result.iterations[0].stopped == "converged"
    seen = []
    counted = start.iterate(lambda ds: ds.map(lambda x: x + 1), times=10,
                            until=lambda prev, cur, step: seen.append(step) or step == 3)
    assert sorted(counted.collect()) == [4, 8, 33] and seen == [1, 2, 3]
    halving = start.iterate(lambda ds: (lambda nxt: (nxt, nxt.filter(lambda x: x > 1)))(ds.map(lambda x: x // 2)))
    assert sorted(halving.collect()) == [0, 0, 1]
    assert env.last_result.iterations[0].stopped == "termination criterion empty"


def test_bulk_needs_a_bound(env):
    with pytest.raises(ValueError, match="needs times"):
        env.from_collection([1]).iterate(lambda ds: ds)
    with pytest.raises(ValueError, match="until must be"):
        env.from_collection([1]).iterate(lambda ds: ds, times=2, until="sometimes")


def test_constant_path_is_computed_once_and_joins_use_a_cached_table(env):
    source = CountingInput([(i, i + 1) for i in range(10)])
    edges = env.read(source, "edges").map(lambda e: (e[0], e[1] * 100)).named("scaled edges")

    def step(ds):
        return ds.join(edges, 0, 0, lambda v, e: (e[1] // 100, v[1] + 1)).union(ds).group_by(0).max(1)

    result = env.from_collection([(0, 0)]).iterate(step, times=6)
    assert sorted(result.collect()) == [(i, i) for i in range(7)]
    stats = env.last_result.iterations[0]
    # read once by the run computing the constant path (plus once by the optimizer sampling it to plan that
    # run); never again in the 6 supersteps
    assert source.reads == 2
    assert (stats.constant_contracts, stats.constant_records, stats.cached_joins) == (2, 10, 1)


def _components_step(edges):
    def step(solution, workset):
        candidates = workset.join(edges, 0, 0, lambda w, e: (e[1], w[1]))
        best = candidates.group_by(0).min(1)
        changes = best.join(solution, 0, 0, lambda c, s: c if c[1] < s[1] else None)
        return changes, changes
    return step


def _chain(env, n):
    pairs = [(i, i + 1) for i in range(n - 1)]
    edges = env.from_collection(pairs + [(b, a) for a, b in pairs], "edges")
    vertices = env.from_collection([(i, i) for i in range(n)], "vertices")
    return vertices, edges


def test_workset_iteration_shrinks_and_looks_up_the_solution_set(env):
    vertices, edges = _chain(env, 8)
    result = vertices.iterate_delta(vertices, 0, _components_step(edges))
    assert sorted(result.collect()) == [(i, 0) for i in range(8)]
    stats = env.last_result.iterations[0]
    assert stats.stopped == "workset empty" and stats.solution_lookups == 1 and stats.cached_joins == 1
    # on a chain, component 0 travels one vertex per superstep: the workset shrinks by one each time
    assert [s.records_in for s in stats.supersteps] == [8, 7, 6, 5, 4, 3, 2, 1]
    assert [s.delta for s in stats.supersteps] == [7, 6, 5, 4, 3, 2, 1, 0]
    assert all(s.solution == 8 for s in stats.supersteps)
    processed = [s.records_processed for s in stats.supersteps]
    assert processed == sorted(processed, reverse=True) and processed[-1] < processed[0] / 4


def test_workset_bound_and_a_solution_set_read_as_a_whole(env):
    vertices, edges = _chain(env, 6)
    bounded = vertices.iterate_delta(vertices, 0, _components_step(edges), max_supersteps=2)
    assert sorted(bounded.collect()) == [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 3)]
    assert env.last_result.iterations[0].stopped == "after 2 supersteps (workset not empty)"

    def renumber(solution, workset):  # the solution set read whole (no look-up): a full scan each superstep
        bumped = solution.filter(lambda s: s[1] < 3).map(lambda s: (s[0], s[1] + 10))
        return bumped, workset.filter(lambda w: False)

    once = vertices.iterate_delta(vertices, 0, renumber)
    assert sorted(once.collect()) == [(0, 10), (1, 11), (2, 12), (3, 3), (4, 4), (5, 5)]
    assert env.last_result.iterations[0].solution_lookups == 0


def test_cogroup_with_the_solution_set_is_a_look_up(env):
    solution = env.from_collection([("a", 1), ("b", 5)])
    workset = env.from_collection([("a", 3), ("a", 4), ("c", 9)])

    def step(sol, work):
        def merge(key, updates, current):
            total = sum(v for _, v in updates) + sum(v for _, v in current)
            yield (key, total)
        delta = work.cogroup(sol, 0, 0, merge)
        return delta, work.filter(lambda w: False)

    result = solution.iterate_delta(workset, 0, step)
    assert sorted(result.collect()) == [("a", 8), ("b", 5), ("c", 9)]
    assert env.last_result.iterations[0].solution_lookups == 1


def test_nested_iterations(env):
    def outer(ds):
        return ds.iterate(lambda inner: inner.map(lambda x: x + 1), times=3).map(lambda x: x * 10)

    assert env.from_collection([0]).iterate(outer, times=2).collect() == [330]
    assert len(env.last_result.iterations) == 3  # two inner runs (one per outer superstep) and the outer


def test_iterations_give_the_same_results_on_the_process_executor():
    def components(env):
        vertices, edges = _chain(env, 12)
        bulk = vertices.iterate(lambda p: p.union(p.join(edges, 0, 0, lambda v, e: (e[1], v[1]))).group_by(0).min(1),
                                times=50, until="unchanged")
        incremental = vertices.iterate_delta(vertices, 0, _components_step(edges))
        return sorted(bulk.collect()), sorted(incremental.collect())

    expected = components(ExecutionEnvironment("inline"))
    assert expected[0] == expected[1] == [(i, 0) for i in range(12)]
    assert components(ExecutionEnvironment("process", parallelism=2)) == expected


def test_explain_shows_the_step_plan_and_its_constant_path(env):
    vertices, edges = _chain(env, 3)
    vertices.iterate_delta(vertices, 0, _components_step(edges)).write_jsonl("never-written.jsonl")
    text = env.explain()
    assert "WorksetIteration" in text and "Placeholder workset" in text and "Placeholder solution set" in text
    assert "constant data path (computed once, cached): #" in text and "Source edges" in text.split("constant")[1]


# -- Meteor's iterate statement beyond the golden cases --------------------------------------------------------------

def test_meteor_run_stats_show_the_supersteps(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    from click.testing import CliRunner

    from meteor.cli import main

    case = Path(__file__).parent / "cases" / "iterate_workset_components"
    for name in ("script.meteor", "edges.json"):
        shutil.copy(case / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "script.meteor", "--executor", "inline", "--stats"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("WorksetIteration $cc"))
    assert "workset empty" in lines[head] and "1 solution-set look-ups" in lines[head]
    worksets = [int(line.split()[1]) for line in lines[head + 2:head + 6]]
    assert worksets == sorted(worksets, reverse=True) and worksets[0] == 8


def test_the_repl_takes_an_iterate_body_as_one_statement():
    import io

    from meteor.repl import run_stream

    out = io.StringIO()
    script = ["$a = [{n: 1}, {n: 5}];\n", "$r = iterate $p from $a times 2 {\n",
              "  $p = transform $p into {n: $p.n + 1};\n", "};\n", "$r;\n"]
    assert run_stream(script, out) == 0
    assert out.getvalue().split() == ['{"n":3}', '{"n":7}']
