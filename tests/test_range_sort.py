"""Global sorts on key ranges (VLDB J. 2014, sec. 6.3, range-partition): sampled boundaries, ranges sorted in
parallel and read in order give the same total order as one sorted partition, on the golden cases, on many
records with duplicates and mixed types, ascending and descending; the optimizer gathers tiny inputs."""

from __future__ import annotations

import json
import random
import shutil

import pytest

from pact_backend import contracts as pact
from pact_backend import physical as ph
from pact_backend.executors.process import ProcessExecutor
from pact_backend.optimizer import enumeration, optimize
from pact_backend.runtime.ranges import RangeRouter, choose_boundaries
from test_cases import (CASE_DIRS, CONTROL_FILES, DEFAULT_TOLERANCE, assert_same_records,
                        expected_files, format_of, is_ordered, load_config, read_records)

ORDERED = [d for d in CASE_DIRS if load_config(d).get("ordered") and "sort" in (d / "script.meteor").read_text()]


def sort_nodes(physical: ph.PhysicalPlan) -> list[ph.PhysicalNode]:
    return [n for n in physical.nodes.values() if isinstance(n.contract, pact.Reduce) and n.contract.sorts_only]


def test_boundaries_split_evenly_and_route_equal_keys_together():
    keys = [k % 10 for k in range(1000)]
    bounds = choose_boundaries(keys, 4)
    assert bounds == sorted(set(bounds)) and len(bounds) == 3
    up, down = RangeRouter(lambda r: r, bounds), RangeRouter(lambda r: r, bounds, descending=True)
    assert [up(k) for k in range(10)] == sorted(up(k) for k in range(10))
    assert [down(k) for k in range(10)] == sorted((down(k) for k in range(10)), reverse=True)
    assert choose_boundaries([7] * 50, 3) == [7] and choose_boundaries([], 3) == []


def test_optimizer_gathers_tiny_sorts_and_ranges_large_ones(tmp_path, monkeypatch):
    from meteor.api import plan_pact
    from meteor.frontend import compile_script

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"k": i}) + "\n" for i in range(10)))  # 3 byte ranges
    program = plan_pact(compile_script("$r = read from 'in.jsonl'; $s = sort $r on $r.k; write $s to 'o.json';"))
    (tiny,) = sort_nodes(optimize(program, 3))
    assert tiny.dop == 1 and tiny.ship == [ph.GATHER]
    monkeypatch.setattr(enumeration, "RANGE_SORT_BYTES", 0)
    physical = optimize(program, 3)
    (ranged,) = sort_nodes(physical)
    assert ranged.dop == 3 and ranged.ship == [ph.RANGE_PARTITION] and "range" in ranged.reason
    sink = next(n for n in physical.nodes.values() if n.contract.kind == "Sink")
    assert sink.ship == [ph.GATHER] and sink.dop == 1


@pytest.mark.parametrize("case", ORDERED, ids=[d.name for d in ORDERED])
def test_ordered_golden_cases_on_key_ranges_at_dop_3(case, tmp_path, monkeypatch):
    from meteor.api import compile_file, plan_pact

    work = tmp_path / case.name
    shutil.copytree(case, work, ignore=shutil.ignore_patterns(*CONTROL_FILES))
    monkeypatch.chdir(work)
    monkeypatch.setattr(enumeration, "RANGE_SORT_BYTES", 0)
    monkeypatch.setattr(enumeration, "TOPK_RANGE_SHARE", 0)  # sorts with a limit too
    program = plan_pact(compile_file("script.meteor"))
    physical = optimize(program, 3)
    assert all(n.ship == [ph.RANGE_PARTITION] for n in sort_nodes(physical)) and sort_nodes(physical)
    ProcessExecutor(parallelism=3).run(program, physical)
    config = load_config(case)
    for rel in expected_files(case):
        fmt = format_of(rel.as_posix(), config)
        assert_same_records(rel.as_posix(), read_records(case / "expected" / rel, fmt), read_records(work / rel, fmt),
                            is_ordered(config, rel.as_posix()), config.get("tolerance", DEFAULT_TOLERANCE))


def mixed_value(rng: random.Random):
    """A key of any JSON type, with many duplicates (and sometimes no key at all)."""
    choice = rng.randrange(9)
    return [None, rng.random() < 0.5, rng.randrange(50), rng.randrange(50) + 0.5, f"s{rng.randrange(40)}",
            [rng.randrange(3), "a"], {"o": rng.randrange(3)}, rng.randrange(-5, 5), "missing"][choice]


@pytest.mark.parametrize("order", ["ASCENDING", "DESCENDING"])
def test_many_records_with_duplicates_and_mixed_types_keep_a_total_stable_order(order, tmp_path, monkeypatch):
    from meteor.api import plan_pact
    from meteor.frontend import compile_script
    from pact_backend.executors.inline import InlineExecutor

    rng = random.Random(7)
    rows = []
    for i in range(12000):
        value = mixed_value(rng)
        rows.append({"i": i} if value == "missing" else {"i": i, "k": value})
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(enumeration, "RANGE_SORT_BYTES", 0)
    script = (f"$r = read from 'in.jsonl'; $s = sort $r on $r.k order '{order}';"
              "write $s to 'out.jsonl';")
    program = plan_pact(compile_script(script))
    InlineExecutor().run(program)
    expected = (tmp_path / "out.jsonl").read_text().splitlines()
    physical = optimize(program, 3)
    executor = ProcessExecutor(parallelism=3)
    stats = executor.run(program, physical)
    got = (tmp_path / "out.jsonl").read_text().splitlines()
    assert got == expected and len(got) == 12000
    (node,) = sort_nodes(physical)
    assert node.ship == [ph.RANGE_PARTITION]
    assert executor.last_run.tasks >= 1 + 3 + 3  # source splits, shuffles, three sorted ranges
    assert stats.of(node.contract).records_in == stats.of(node.contract).records_out == 12000
