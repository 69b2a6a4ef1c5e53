"""Top-k (``sort ... limit N``) and per-key sort directions: the bounded heap of pact_backend.runtime.topk against
a stable sort, the plans the optimizer chooses (gathered with a pre-cut per partition, or key ranges cut after
reading them in order), and results on every executor cross-checked against DuckDB's ORDER BY ... LIMIT."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

from pact_backend import physical as ph
from pact_backend.executors.process import ProcessExecutor
from pact_backend.executors.stage_graph import StageGraph
from pact_backend.optimizer import enumeration, optimize
from pact_backend.planner import Resources, plan_physical
from pact_backend.runtime.sorter import SpillDir
from pact_backend.runtime.topk import FirstRecords, first_records

ROWS = 3000


def _rows(seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    return [{"id": i, "grp": rng.choice("abcde"), "score": rng.randrange(40), "price": round(rng.random() * 100, 2)}
            for i in range(ROWS)]


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = _rows()
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    con = duckdb.connect()
    con.execute("create table t as select * from read_json_auto('in.jsonl')")
    return tmp_path, con


def _sql(con, query: str) -> list[dict]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [0, 1, 7, 5000, 20000])
def test_first_records_is_the_head_of_a_stable_sort(descending, limit):
    rng = random.Random(limit)
    records = [(rng.randrange(30), i) for i in range(12000)]
    expected = sorted(records, key=lambda r: r[0], reverse=descending)[:limit]
    assert list(first_records(records, lambda r: r[0], descending, limit)) == expected


def test_first_records_past_the_budget_sort_externally_with_the_same_result(tmp_path):
    records = [(i * 7919 % 1000, i) for i in range(6000)]
    spill = SpillDir(str(tmp_path))
    got = list(first_records(records, lambda r: r[0], True, 5000, budget=20_000, spill=spill))
    assert got == sorted(records, key=lambda r: r[0], reverse=True)[:5000]
    assert spill.files > 0  # the kept records outgrew the budget: runs were written
    spill.cleanup()


def test_the_combiner_keeps_a_partitions_first_records():
    cut = FirstRecords((lambda r: r["v"], False), 2)
    assert cut(None, [{"v": 3}, {"v": 1}, {"v": 2}, {"v": 1.0}]) == [{"v": 1}, {"v": 1.0}]


def _run(script: str, executor: str):
    from meteor.api import run_file
    with open("q.meteor", "w") as f:
        f.write(script)
    run_file("q.meteor", executor=executor)


@pytest.mark.parametrize("executor", ["inline", "process", "dask"])
def test_top_k_and_mixed_directions_match_duckdb_on_every_executor(data, executor, request):
    if executor == "dask":
        request.getfixturevalue("dask_cluster")
    work, con = data
    _run("$r = read from 'in.jsonl';"
         "$top = sort $r on [$r.score desc, $r.price, $r.id] limit 25; write $top to 'top.jsonl';"
         "$mixed = sort $r on [$r.grp desc, $r.score, $r.id desc]; write $mixed to 'mixed.jsonl';"
         "$low = sort $r on [$r.price, $r.id] order 'asc' limit 3; write $low to 'low.jsonl';", executor)
    assert _read(work / "top.jsonl") == _sql(con, "select * from t order by score desc, price, id limit 25")
    assert _read(work / "mixed.jsonl") == _sql(con, "select * from t order by grp desc, score, id desc")
    assert _read(work / "low.jsonl") == _sql(con, "select * from t order by price, id limit 3")


def _program(script: str):
    from meteor.api import plan_pact
    from meteor.frontend import compile_script
    return plan_pact(compile_script(script))


def _sort_node(physical):
    (node,) = [n for n in physical.nodes.values() if getattr(n.contract, "limit", None) is not None]
    return node


def test_a_gathered_top_k_cuts_every_producer_partition_before_shipping(data, monkeypatch):
    work, con = data
    program = _program("$r = read from 'in.jsonl'; $s = sort $r on [$r.price desc, $r.id] limit 5;"
                       "write $s to 'out.jsonl';")
    physical = plan_physical(program, Resources(3, 1 << 30))
    node = _sort_node(physical)
    assert node.ship == [ph.GATHER] and node.dop == 1 and node.estimate.records == 5 and node.combined
    assert "keeping its first 5 records (bounded heap)" in node.reason
    graph = StageGraph(program.contracts(), physical)
    source = graph.stage_of[node.contract.inputs[0].id]
    assert source.parts > 1 and any(isinstance(o.combiner, FirstRecords) for o in source.spec.outputs)
    calls = []
    original = FirstRecords.__call__
    monkeypatch.setattr(FirstRecords, "__call__", lambda self, k, g: calls.append(len(g)) or original(self, k, g))
    ProcessExecutor(parallelism=3, in_process=True).run(program, physical)
    assert calls and _read(work / "out.jsonl") == _sql(con, "select * from t order by price desc, id limit 5")


def test_a_top_k_on_key_ranges_keeps_the_first_records_of_the_whole_order(data, monkeypatch):
    work, con = data
    monkeypatch.setattr(enumeration, "RANGE_SORT_BYTES", 0)
    monkeypatch.setattr(enumeration, "TOPK_RANGE_SHARE", 0)
    program = _program("$r = read from 'in.jsonl'; $s = sort $r on [$r.score, $r.id desc] limit 40;"
                       "$t = transform $s into {id: $s.id, score: $s.score}; write $t to 'out.jsonl';")
    physical = optimize(program, 3)
    node = _sort_node(physical)
    assert node.ship == [ph.RANGE_PARTITION] and node.dop == 3 and "cut at 40" in node.reason
    graph = StageGraph(program.contracts(), physical)
    assert any(s.spec.kind == "first" and s.parts == 1 for s in graph.stages)
    ProcessExecutor(parallelism=3).run(program, physical)
    assert _read(work / "out.jsonl") == _sql(con, "select id, score from t order by score, id desc limit 40")


def test_the_optimizer_gathers_a_small_top_k_of_a_large_input(data, monkeypatch):
    monkeypatch.setattr(enumeration, "RANGE_SORT_BYTES", 0)  # a plain sort of this input would run on ranges
    program = _program("$r = read from 'in.jsonl'; $s = sort $r on $r.price limit 10; write $s to 'o.jsonl';")
    assert _sort_node(optimize(program, 3)).ship == [ph.GATHER]


def test_explain_shows_the_limit_and_the_directions(data):
    from click.testing import CliRunner

    from meteor.cli import main
    (data[0] / "q.meteor").write_text("$r = read from 'in.jsonl'; $s = sort $r on [$r.grp desc, $r.id] limit 3;"
                                      "write $s to 'o.jsonl';")
    result = CliRunner().invoke(main, ["explain", "q.meteor"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "on: [$r.grp desc, $r.id]" in text and "limit: 3" in text
    assert "order=$0.grp desc, $0.id asc limit=3" in text



@pytest.mark.parametrize("executor", ["inline", "process"])
def test_pact_api_first_records_per_group_and_of_a_sort(executor, tmp_path):
    from pact_backend.api import ExecutionEnvironment
    rng = random.Random(3)
    rows = [(rng.choice("abcd"), rng.randrange(100), i) for i in range(5000)]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    env = ExecutionEnvironment(executor, parallelism=2)
    data = env.read_jsonl(str(tmp_path / "rows.jsonl"))
    top = data.group_by(0).sort_group(1, descending=True).sort_group(2).first(3).collect()
    expected = []
    for group in "abcd":
        members = sorted((r for r in rows if r[0] == group), key=lambda r: (-r[1], r[2]))
        expected += [list(r) for r in members[:3]]
    assert sorted(top) == sorted(expected)
    lowest = data.sort_by(1, 2, limit=4).collect()
    assert lowest == [list(r) for r in sorted(rows, key=lambda r: (r[1], r[2]))[:4]]
    with pytest.raises(ValueError, match="group order"):
        data.group_by(0).first(3)
