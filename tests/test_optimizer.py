"""Physical optimizer (pact_backend.optimizer, VLDB J. 2014, sec. 6.3): strategies chosen on hand-built PACT
programs, interesting-property reuse, estimates from samples and hints, and structurally valid physical plans for
every golden case and TPC-H example."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pact_backend import contracts as pact
from pact_backend import physical as ph
from pact_backend.optimizer import optimize
from pact_backend.optimizer.estimates import SAMPLE_SIZE

ROOT = Path(__file__).resolve().parent.parent


class MemoryInput:
    """An in-memory input format that splits into ranges of records, so a Source runs at any DOP."""

    def __init__(self, records):
        self.records = records

    def read(self):
        return iter(self.records)

    def splits(self, n):
        bounds = [len(self.records) * i // n for i in range(n + 1)]
        return list(zip(bounds, bounds[1:]))

    def read_split(self, part):
        return iter(self.records[part[0]:part[1]])

    def describe(self):
        return f"memory ({len(self.records)} records)"


def source(name, records, total_bytes=None, dop=None):
    return pact.Source(name, dop=dop, input_format=MemoryInput(records),
                       hints=pact.Hints(output_bytes=total_bytes))


def key_a(record):
    return record["a"]


def key_b(record):
    return record["b"]


def keep(records):
    yield from (r for r in records if r["a"] % 2 == 0)


class Collect:
    """An output format keeping the committed records in ``records``."""

    def __init__(self):
        self.records = []

    def open(self):
        collected, target = [], self

        class Writer:
            def write(self, record):
                collected.append(record)

            def commit(self):
                target.records = list(collected)

            def abort(self):
                collected.clear()
        return Writer()

    def describe(self):
        return "collect"


def sink(producer):
    return pact.Sink("out", [producer], output_format=Collect())


def results_agree(plan: pact.PactPlan, physical: ph.PhysicalPlan) -> None:
    """The ProcessExecutor (in-process tasks) on the optimized plan answers what the InlineExecutor answers."""
    from pact_backend.executors.inline import InlineExecutor
    from pact_backend.executors.process import ProcessExecutor

    InlineExecutor().run(plan)
    expected = [sorted(map(repr, s.output_format.records)) for s in plan.sinks]
    ProcessExecutor(parallelism=4, in_process=True).run(plan, physical)
    assert [sorted(map(repr, s.output_format.records)) for s in plan.sinks] == expected
    assert any(expected)


def rows(n):
    return [{"a": i % 50, "b": i, "pad": "x" * 20} for i in range(n)]


def check_valid(physical: ph.PhysicalPlan) -> None:
    """Structural validity: one known ship strategy per input, a known local strategy, forward only between
    equal DOPs (or into a streaming contract at least as wide), gather only into DOP 1, keyed contracts never
    forward an input that is not known to be partitioned on their key."""
    for c in physical.plan.contracts():
        node = physical.node(c)
        assert len(node.ship) == len(c.inputs), c
        assert node.local in ph.LOCAL_STRATEGIES and all(s in ph.SHIP_STRATEGIES for s in node.ship), c
        assert node.reason, c
        for producer, ship in zip(c.inputs, node.ship):
            p_dop = physical.node(producer).dop
            if ship == ph.FORWARD:
                streaming = isinstance(c, (pact.Map, pact.Union, pact.Sink))
                assert p_dop == node.dop or (streaming and p_dop <= node.dop), (c, p_dop, node.dop)
            if ship == ph.GATHER:
                assert node.dop == 1, c
        if isinstance(c, pact.Reduce) and c.key is None:
            assert node.dop == 1 or node.ship == [ph.RANGE_PARTITION]  # a global sort on key ranges
        if isinstance(c, (pact.Match, pact.Cross)) and node.dop > 1:
            assert node.ship.count(ph.BROADCAST) <= 1, c


def test_match_broadcasts_a_much_smaller_input():
    big, small = source("big", rows(200), 10**9), source("small", rows(20), 10**5)
    match = pact.Match("m", [big, small], keys=(key_a, key_a), udf=lambda l, r: [l])
    physical = optimize(pact.PactPlan([sink(match)]), 4)
    check_valid(physical)
    node = physical.node(match)
    assert node.ship == [ph.FORWARD, ph.BROADCAST] and node.local == ph.HYBRID_HASH_BUILD_SECOND
    assert "broadcasts input 1" in node.reason
    results_agree(physical.plan, physical)


def test_match_of_similar_inputs_partitions_both_and_builds_on_the_smaller():
    left, right = source("l", rows(200), 4 * 10**8), source("r", rows(200), 10**9)
    match = pact.Match("m", [left, right], keys=(key_a, key_b), udf=lambda l, r: [l])
    physical = optimize(pact.PactPlan([sink(match)]), 4)
    check_valid(physical)
    node = physical.node(match)
    assert node.ship == [ph.HASH_PARTITION, ph.HASH_PARTITION]
    assert node.local == ph.HYBRID_HASH_BUILD_FIRST


def test_selection_keeps_the_partitioning_for_a_second_reduce_on_the_same_key():
    src = source("s", rows(300), 10**7)
    first = pact.Reduce("r1", [src], key=key_a, udf=lambda k, g: g, hints=pact.Hints(preserves_records=True))
    selection = pact.Map("f", [first], udf=keep, hints=pact.Hints(preserves_records=True))
    second = pact.Reduce("r2", [selection], key=key_a, udf=lambda k, g: g[:1])
    physical = optimize(pact.PactPlan([sink(second)]), 4)
    check_valid(physical)
    assert physical.node(first).ship == [ph.HASH_PARTITION]
    assert physical.node(second).ship == [ph.FORWARD]
    assert "reused" in physical.node(second).reason
    results_agree(physical.plan, physical)


def test_a_record_changing_map_loses_the_partitioning():
    src = source("s", rows(300), 10**7)
    first = pact.Reduce("r1", [src], key=key_a, udf=lambda k, g: g, hints=pact.Hints(preserves_records=True))
    change = pact.Map("t", [first], udf=lambda records: records)
    second = pact.Reduce("r2", [change], key=key_a, udf=lambda k, g: g[:1])
    physical = optimize(pact.PactPlan([sink(second)]), 4)
    assert physical.node(second).ship == [ph.HASH_PARTITION]


def test_sort_merge_when_both_inputs_arrive_partitioned_and_sorted_on_the_key():
    grouped = []
    for name in ("l", "r"):
        src = source(name, rows(300), 10**7)
        grouped.append(pact.Reduce(f"g{name}", [src], key=key_a, udf=lambda k, g: g, group_order=(key_b, False),
                                   hints=pact.Hints(preserves_records=True)))
    match = pact.Match("m", grouped, keys=(key_a, key_a), udf=lambda l, r: [l])
    physical = optimize(pact.PactPlan([sink(match)]), 4)
    check_valid(physical)
    assert physical.node(grouped[0]).local == ph.SORT_GROUP
    node = physical.node(match)
    assert node.ship == [ph.FORWARD, ph.FORWARD] and node.local == ph.SORT_MERGE
    results_agree(physical.plan, physical)


def test_cross_broadcasts_the_smaller_side_and_global_reduce_gathers():
    big, small = source("big", rows(100), 10**8), source("small", rows(3), 300)
    cross = pact.Cross("x", [small, big], udf=lambda l, r: [l])
    total = pact.Reduce("all", [cross], key=None, udf=lambda k, g: [len(g)])
    physical = optimize(pact.PactPlan([sink(total)]), 3)
    check_valid(physical)
    assert physical.node(cross).ship == [ph.BROADCAST, ph.FORWARD]
    assert physical.node(cross).local == ph.NESTED_LOOP
    assert physical.node(total).dop == 1 and physical.node(total).ship == [ph.GATHER]
    results_agree(physical.plan, physical)


def test_estimates_from_sample_file_size_selectivity_and_hints():
    records = rows(1000)
    src = source("s", records, 40_000)
    selection = pact.Map("f", [src], udf=keep, hints=pact.Hints(preserves_records=True))
    hinted = pact.Map("h", [selection], udf=lambda r: r, hints=pact.Hints(output_records=7))
    physical = optimize(pact.PactPlan([sink(hinted)]), 2)
    est = physical.node(src).estimate
    assert 600 < est.records < 1600 and est.bytes == 40_000  # file bytes / sampled record size
    assert "sampled 100 records" in physical.node(src).reason
    kept = physical.node(selection).estimate.records / est.records
    assert 0.45 < kept < 0.55  # measured on the sample: even a values
    assert physical.node(hinted).estimate.records == 7
    assert SAMPLE_SIZE == 100


def test_source_and_hint_dops_are_kept_consistent():
    src = source("s", rows(50), 10**6, dop=2)
    mapped = pact.Map("m", [src], udf=lambda r: r)
    reduce = pact.Reduce("r", [mapped], key=key_a, udf=lambda k, g: g, dop=1)
    physical = optimize(pact.PactPlan([sink(reduce)]), 4)
    check_valid(physical)
    assert physical.node(mapped).dop == 2 and physical.node(reduce).ship == [ph.GATHER]


CASES = sorted(p for p in (ROOT / "tests" / "cases").iterdir() if (p / "expected").is_dir())
EXAMPLES = sorted((ROOT / "examples" / "tpch").glob("q*.meteor"))


def test_every_golden_case_gets_a_valid_physical_plan(tmp_path, monkeypatch):
    from meteor.api import compile_file, plan_pact

    for case in CASES:
        work = tmp_path / case.name
        shutil.copytree(case, work, ignore=shutil.ignore_patterns("expected", "case.json"))
        monkeypatch.chdir(work)
        program = plan_pact(compile_file("script.meteor"))
        for dop in (1, 3):
            check_valid(optimize(program, dop))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_tpch_examples_get_valid_physical_plans(script, tmp_path, monkeypatch):
    from meteor.api import compile_file, plan_pact

    monkeypatch.chdir(tmp_path)  # the data files do not exist: estimates fall back, planning still works
    check_valid(optimize(plan_pact(compile_file(script)), 4))


GROUP_THEN_JOIN = """$li = read from 'li.jsonl';
$g = group $li by $li.l_suppkey into {into};
$s = read from 's.jsonl';
$j = join $s, $g where $s.s_suppkey == $g.{field} into {{ $s.s_name, $g.total }};
write $j to 'out.jsonl';"""


@pytest.mark.parametrize("into, field, reused", [
    ("{supplier_no: $li[0].l_suppkey, total: sum($li[*].p)}", "supplier_no", True),
    ("{supplier_no: $li[0].l_suppkey + 0, total: sum($li[*].p)}", "supplier_no", False),  # key field rewritten
    ("{supplier_no: $li[0].l_suppkey, other: $li[0].l_suppkey * 7, total: 1}", "other", False),  # another key
], ids=["same-key", "rewritten-key", "different-key"])
def test_a_reduce_partitioning_is_reused_by_a_match_on_the_same_key(into, field, reused, tmp_path, monkeypatch):
    """Key descriptions plus the kept group key let a Match forward the Reduce's output (VLDB J. 2014, sec. 6.3),
    only when the keys are equal and the UDF keeps the key field; the records stay those of the inline run."""
    import json
    import random

    from meteor.api import plan_pact
    from meteor.frontend import compile_script
    from pact_backend.executors.inline import InlineExecutor
    from pact_backend.executors.process import ProcessExecutor

    rng = random.Random(3)
    (tmp_path / "li.jsonl").write_text("\n".join(json.dumps({"l_suppkey": rng.randrange(300), "p": rng.randrange(99)})
                                                 for _ in range(3000)))
    (tmp_path / "s.jsonl").write_text("\n".join(json.dumps({"s_suppkey": i, "s_name": f"n{i}", "pad": "x" * 40})
                                                for i in range(300)))
    monkeypatch.chdir(tmp_path)
    program = plan_pact(compile_script(GROUP_THEN_JOIN.format(into=into, field=field)))
    physical = optimize(program, 3)
    check_valid(physical)
    match = next(n for n in physical.nodes.values() if isinstance(n.contract, pact.Match))
    grouped = next(n for n in physical.nodes.values() if isinstance(n.contract, pact.Reduce))
    assert grouped.ship == [ph.HASH_PARTITION]
    assert match.ship[1] == (ph.FORWARD if reused else ph.HASH_PARTITION)
    assert ("reused" in match.reason) == reused
    InlineExecutor().run(program)
    expected = sorted((tmp_path / "out.jsonl").read_text().splitlines())
    ProcessExecutor(parallelism=3).run(program, physical)
    assert sorted((tmp_path / "out.jsonl").read_text().splitlines()) == expected and len(expected) > 20
