"""The process executor against the inline one: same records and statistics, order after a sort, errors from
workers unchanged, sinks untouched after a failure, TPC-H answers equal (the differential tests of DESIGN.md)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.executors.pool import RemoteTraceback
from pact_backend.executors.inline import InlineExecutor
from pact_backend.executors.process import ProcessExecutor
from pact_backend.chaining import decide_execution
from pact_backend.executors.stage_graph import StageGraph
from pact_backend.runtime.checks import check_plan
from test_tpch import EXAMPLES, ORDER_KEYS, QUERIES, assert_same_multiset, assert_same_order, meteor_answer
from test_tpch import sql_records
from test_tpch import duck, tpch_dir  # noqa: F401 - fixtures shared with the TPC-H oracle tests


class Numbers:
    """An InputFormat of the records {'i': i, 'k': i % keys} for i < n, splittable into ranges."""

    def __init__(self, n: int, keys: int = 7):
        self.n, self.keys = n, keys

    def read(self):
        return self.read_split((0, self.n))

    def splits(self, parts: int):
        bounds = [self.n * i // parts for i in range(parts + 1)]
        return list(zip(bounds, bounds[1:]))

    def read_split(self, part):
        return ({"i": i, "k": i % self.keys} for i in range(*part))

    def describe(self) -> str:
        return f"numbers({self.n})"


class Collect:
    """An OutputFormat keeping the committed records; ``opened`` / ``aborted`` count writer events."""

    def __init__(self):
        self.records, self.pending, self.opened, self.aborted = [], [], 0, 0

    def open(self):
        self.opened += 1
        self.pending = []
        return self

    def write(self, record):
        self.pending.append(record)

    def commit(self):
        self.records = self.pending

    def abort(self):
        self.aborted += 1
        self.pending = []

    def describe(self) -> str:
        return "collect"


class UserError(Exception):
    """A user error with a location, like sopremo's DataError (keyword-only attributes)."""

    def __init__(self, message: str, *, line: int | None = None):
        super().__init__(message)
        self.line = line

    def __reduce__(self):
        return (_user_error, (self.args[0], self.line))


def _user_error(message: str, line: int | None) -> UserError:
    return UserError(message, line=line)


def k_of(r):
    return r["k"]


def plan_of_every_contract() -> pact.PactPlan:
    source = pact.Source("numbers", input_format=Numbers(5000))
    small = pact.Source("small", input_format=Numbers(20, keys=5))
    evens = pact.Map("evens", [source], udf=lambda rs: (r for r in rs if r["i"] % 2 == 0))
    count = lambda k, g: [{"k": k, "n": sum(r.get("n", 1) for r in g)}]
    counted = pact.Reduce("counted", [evens], key=k_of, udf=count, combiner=count)
    joined = pact.Match("joined", [counted, small], keys=(k_of, k_of), udf=lambda a, b: [(a["k"], a["n"], b["i"])])
    cogrouped = pact.CoGroup("cogrouped", [source, small], keys=(k_of, k_of),
                             udf=lambda k, a, b: [(k, len(a), len(b))])
    crossed = pact.Cross("crossed", [small, small], udf=lambda a, b: [(a["i"], b["i"])])
    united = pact.Union("united", [joined, cogrouped, crossed])
    return pact.PactPlan([pact.Sink("out", [united], output_format=Collect()),
                          pact.Sink("evens", [evens], output_format=Collect())])


def bag(records) -> Counter:
    """The multiset of ``records`` (dicts and tuples) by their canonical JSON text."""
    return Counter(json.dumps(r, sort_keys=True) for r in records)


def run_both(plan: pact.PactPlan, executor: ProcessExecutor):
    inline_stats = InlineExecutor().run(plan)
    expected = [bag(s.output_format.records) for s in plan.sinks]
    process_stats = executor.run(plan)
    return expected, [bag(s.output_format.records) for s in plan.sinks], inline_stats, process_stats


def counts(stats):
    return [(c.name, c.records_in, c.records_out) for c in stats.contracts]


@pytest.mark.parametrize("in_process", [False, True], ids=["workers", "in-process"])
def test_every_contract_agrees_with_inline(in_process):
    plan = plan_of_every_contract()
    expected, got, inline_stats, stats = run_both(plan, ProcessExecutor(parallelism=3, in_process=in_process))
    assert got == expected
    assert counts(stats) == counts(inline_stats)


def test_optimizer_strategies_are_honoured():
    """Broadcast joins, build-first hash tables, sort grouping and range partitions give the same records."""
    plan = plan_of_every_contract()
    physical = phys.default_physical(plan, 2)
    for c in plan.contracts():
        node = physical.node(c)
        if isinstance(c, pact.Match):
            node.ship, node.local = [phys.FORWARD, phys.BROADCAST], phys.HYBRID_HASH_BUILD_FIRST
        elif isinstance(c, pact.Reduce):
            node.local = phys.SORT_GROUP
        elif isinstance(c, pact.CoGroup):
            node.ship = [phys.RANGE_PARTITION, phys.RANGE_PARTITION]
        elif isinstance(c, pact.Cross):
            node.ship = [phys.BROADCAST, phys.FORWARD]
    expected = [bag(s.output_format.records) for s in plan.sinks if InlineExecutor().run(plan)]
    ProcessExecutor(parallelism=2).run(plan, physical)
    assert [bag(s.output_format.records) for s in plan.sinks] == expected


def test_a_sorted_input_keeps_its_order():
    source = pact.Source("numbers", input_format=Numbers(3000))
    ordered = pact.Reduce("sort", [source], udf=lambda k, g: g, group_order=(lambda r: -r["i"], False), dop=1)
    tagged = pact.Map("tag", [ordered], udf=lambda rs: ({**r, "t": 1} for r in rs))
    sink = pact.Sink("out", [tagged], output_format=Collect(), ordered=True)
    executor = ProcessExecutor(parallelism=2)
    executor.run(pact.PactPlan([sink]))
    assert [r["i"] for r in sink.output_format.records] == list(range(2999, -1, -1))
    assert executor.last_run.tasks == 3  # two source splits, one sort (the tag map is chained to it)


def fail_on_1234(records):
    for r in records:
        if r["i"] == 1234:
            raise UserError("bad record", line=1234)
        yield r


def test_a_user_error_in_a_worker_propagates_unchanged_and_aborts_every_sink():
    source = pact.Source("numbers", input_format=Numbers(5000))
    good = pact.Sink("good", [source], output_format=Collect())
    checked = pact.Map("check", [source], udf=fail_on_1234)
    bad = pact.Sink("bad", [checked], output_format=Collect())
    with pytest.raises(UserError) as info:
        ProcessExecutor(parallelism=2).run(pact.PactPlan([good, bad]))
    assert str(info.value) == "bad record" and info.value.line == 1234
    assert isinstance(info.value.__cause__, RemoteTraceback) and "fail_on_1234" in str(info.value.__cause__)
    assert good.output_format.records == [] and bad.output_format.records == []
    assert good.output_format.opened == 0  # sinks open only after every task succeeded


def test_an_unpicklable_error_arrives_as_a_runtime_error_naming_it():
    class Local(Exception):
        pass

    def fail(records):
        raise Local("cannot travel")
        yield from records

    source = pact.Source("numbers", input_format=Numbers(10))
    sink = pact.Sink("out", [pact.Map("fail", [source], udf=fail)], output_format=Collect())
    with pytest.raises(Exception, match="cannot travel"):
        ProcessExecutor(parallelism=2).run(pact.PactPlan([sink]))


def test_a_data_error_in_a_later_split_names_file_and_line_and_leaves_outputs(tmp_path, monkeypatch):
    from meteor.api import run_file
    from sopremo.errors import DataError

    monkeypatch.chdir(tmp_path)
    lines = [json.dumps({"a": i}) for i in range(4000)]
    lines[3500] = "{not json"
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "first.json").write_text("old")
    (tmp_path / "script.meteor").write_text("$x = read from 'in.jsonl';\nwrite $x to 'first.json';\n"
                                            "$y = filter $x where $x.a > 1;\nwrite $y to 'second.json';\n")
    with pytest.raises(DataError) as info:
        run_file("script.meteor", executor="process", parallelism=2)
    assert info.value.line == 3501 and "in.jsonl:3501" in str(info.value)
    assert (tmp_path / "first.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json", "in.jsonl", "script.meteor"]


def test_cli_options(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from meteor.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.json").write_text(json.dumps([{"k": i % 3, "v": i} for i in range(100)]))
    (tmp_path / "s.meteor").write_text("$x = read from 'in.json';\n"
                                       "$g = group $x by $x.k into {k: $x[0].k, n: count($x)};\n"
                                       "write $g to 'out.json';\n")
    runner = CliRunner()
    result = runner.invoke(main, ["run", "s.meteor", "--executor", "process", "--parallelism", "2",
                                  "--memory", "1MB"])
    assert result.exit_code == 0, result.output
    assert sorted(r["n"] for r in json.loads((tmp_path / "out.json").read_text())) == [33, 33, 34]
    result = runner.invoke(main, ["run", "s.meteor", "--executor", "process", "--memory", "lots"])
    assert result.exit_code == 1 and "not a memory size" in result.output


@pytest.mark.parametrize("query", QUERIES)
def test_tpch_on_processes_matches_duckdb(tpch_dir, duck, query, monkeypatch):  # noqa: F811
    from meteor.api import run_file

    monkeypatch.chdir(tpch_dir)
    out: Path = tpch_dir / f"{query}.json"
    out.unlink(missing_ok=True)
    run_file(EXAMPLES / f"{query}.meteor", executor="process", parallelism=2)
    got = json.loads(out.read_text())
    expected = meteor_answer(sql_records(duck, query))  # test_tpch checks the inline executor the same way
    assert_same_multiset(got, expected)
    assert_same_order(got, expected, ORDER_KEYS[query])


@pytest.mark.parametrize("executor, parts", [("process", 2), ("inline", 1)])
def test_a_directory_path_writes_a_part_per_partition_and_keeps_earlier_parts_on_failure(tmp_path, monkeypatch,
                                                                                      executor, parts):
    from meteor.api import run_file
    from sopremo.errors import MeteorError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"k": i % 3, "v": i}) + "\n" for i in range(100)))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part-00007.json").write_text("[]")  # a part of an earlier run: replaced
    (tmp_path / "s.meteor").write_text("$x = read from 'in.jsonl';\n$g = group $x by $x.k into "
                                       "{k: $x[0].k, n: count($x)};\nwrite $g to 'out/';\n")
    run_file("s.meteor", executor=executor, parallelism=2)
    names = [f"part-{i:05d}.json" for i in range(parts)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names  # one part per partition
    records = [r for name in names for r in json.loads((tmp_path / "out" / name).read_text())]
    assert sorted((r["k"], r["n"]) for r in records) == [(0, 34), (1, 33), (2, 33)]
    (tmp_path / "bad.meteor").write_text("$x = read from 'in.jsonl';\n$t = transform $x into {v: $x.v / 0};\n"
                                         "write $t to 'out/';\n")
    with pytest.raises(MeteorError):
        run_file("bad.meteor", executor=executor, parallelism=2)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names  # no _temporary left
    assert sum(len(json.loads((tmp_path / "out" / n).read_text())) for n in names) == 3  # the earlier result


@pytest.mark.parametrize("memory", [None, 1], ids=["in-memory", "spilling"])
def test_a_broadcast_build_side_is_probed_in_the_probe_inputs_stage(memory):
    """A Match whose build side is broadcast runs chained to the stage of its forwarded probe input: the probe
    records stream through the hash table there instead of being written to blocks for a Match stage. Same
    records as inline, also when the hash table spills (a budget of one byte)."""
    plan = plan_of_every_contract()
    executor = ProcessExecutor(parallelism=2, memory_bytes=memory)
    physical = phys.default_physical(plan, 2, executor.memory_per_instance)  # the plan carries the task budget
    match = next(c for c in plan.contracts() if isinstance(c, pact.Match))
    node = physical.node(match)
    node.ship, node.local = [phys.FORWARD, phys.BROADCAST], phys.HYBRID_HASH_BUILD_SECOND
    decide_execution(physical)
    assert node.chained  # the planner chains it
    graph = StageGraph(check_plan(plan), physical)
    assert graph.stage_of[match.id] is graph.stage_of[match.inputs[0].id]  # no stage of its own
    assert all(p.index < s.index for s in graph.stages for p, _, _ in s.inputs)  # producers run first
    expected = [bag(s.output_format.records) for s in plan.sinks if InlineExecutor().run(plan)]
    executor.run(plan, physical)
    assert [bag(s.output_format.records) for s in plan.sinks] == expected
    assert (executor.last_run.spill_files > 0) == (memory is not None)
