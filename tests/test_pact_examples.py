"""The PACT examples (examples/pact/), each run end to end: word count against collections.Counter, triangle
enumeration and connected components (bulk and incremental) against networkx on random graphs, TPC-H Q3 against
DuckDB on generated SF 0.01 data; every example's command line runs too."""

from __future__ import annotations

import importlib.util
import json
import math
import random
import re
from collections import Counter
from pathlib import Path

import duckdb
import networkx as nx
import pytest

from pact_backend import contracts as pact
from pact_backend.api import ExecutionEnvironment

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "pact"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"pact_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


word_count, triangles, components, tpch_q3 = (_load(n) for n in
                                               ("word_count", "triangles", "connected_components", "tpch_q3"))


def _jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _random_graph(seed: int, n: int = 60, m: int = 70) -> nx.Graph:
    graph = nx.gnm_random_graph(n, m, seed=seed)
    graph.remove_nodes_from([v for v in list(graph) if graph.degree(v) == 0])
    return graph


def _edges_file(path: Path, graph: nx.Graph, seed: int) -> None:
    """The graph as follower edges {"k", "fk"}: random directions, some duplicated, both ways, self-loops."""
    rng = random.Random(seed)
    edges = []
    for a, b in graph.edges():
        edges.append({"k": a, "fk": b} if rng.random() < 0.5 else {"k": b, "fk": a})
        if rng.random() < 0.2:
            edges.append({"k": b, "fk": a})
    edges += [{"k": v, "fk": v} for v in list(graph)[:3]]
    path.write_text(json.dumps(edges))


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_word_count_with_combiner(tmp_path, executor):
    rng = random.Random(7)
    vocabulary = ["stratosphere", "pact", "meteor", "sopremo", "nephele", "it's", "data"]
    text = "\n".join(" ".join(rng.choice(vocabulary).upper() if rng.random() < 0.1 else rng.choice(vocabulary)
                              for _ in range(rng.randrange(12))) for _ in range(3000))
    (tmp_path / "book.txt").write_text(text)
    env = word_count.program(str(tmp_path / "book.txt"), str(tmp_path / "counts.csv"),
                             ExecutionEnvironment(executor, parallelism=2))
    reduce = next(c for c in env.plan().contracts() if isinstance(c, pact.Reduce))
    assert reduce.combiner is not None
    env.execute()
    counted = dict(line.rsplit(",", 1) for line in (tmp_path / "counts.csv").read_text().splitlines())
    expected = Counter(re.findall(r"[a-z0-9']+", text.lower()))
    assert {w.strip('"'): int(c) for w, c in counted.items()} == expected


@pytest.mark.parametrize("seed", [1, 2])
def test_triangles_match_networkx(tmp_path, seed):
    graph = nx.gnm_random_graph(40, 160, seed=seed)
    _edges_file(tmp_path / "edges.json", graph, seed)
    env = triangles.program(str(tmp_path / "edges.json"), str(tmp_path / "t.jsonl"), ExecutionEnvironment())
    env.execute()
    found = sorted(tuple(t) for t in _jsonl(tmp_path / "t.jsonl"))
    expected = sorted(tuple(sorted(c)) for c in nx.enumerate_all_cliques(graph) if len(c) == 3)
    assert found == expected and len(found) > 10


def _expected_components(graph: nx.Graph) -> list[tuple[int, int]]:
    return sorted((v, min(c)) for c in nx.connected_components(graph) for v in c)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_connected_components_bulk_and_incremental_match_networkx(tmp_path, seed):
    graph = _random_graph(seed)
    _edges_file(tmp_path / "edges.json", graph, seed)
    runs = {}
    for mode in ("bulk", "incremental"):
        env = components.program(str(tmp_path / "edges.json"), str(tmp_path / f"{mode}.jsonl"), mode,
                                 ExecutionEnvironment())
        runs[mode] = env.execute().iterations[0]
        assert sorted(tuple(r) for r in _jsonl(tmp_path / f"{mode}.jsonl")) == _expected_components(graph)
    bulk, incremental = runs["bulk"], runs["incremental"]
    work = [s.records_processed for s in incremental.supersteps]
    assert work[-1] < work[0] / 2  # the workset shrinks, and with it the work of a superstep
    assert all(s.records_processed == bulk.supersteps[0].records_processed for s in bulk.supersteps)
    assert sum(work) < sum(s.records_processed for s in bulk.supersteps)


def test_connected_components_on_the_process_executor(tmp_path):
    graph = _random_graph(8, 40, 45)
    env = ExecutionEnvironment("process", parallelism=2)
    vertices, edges = components.graph(env, None, list(graph.edges()))
    got = sorted(components.incremental_components(vertices, edges).collect())
    assert got == _expected_components(graph)


def test_tpch_q3_matches_duckdb(tmp_path):
    from test_tpch import make_tpch

    make_tpch.generate(0.01, tmp_path / "tpch", ["customer", "orders", "lineitem"])
    env = tpch_q3.program(str(tmp_path / "tpch"), str(tmp_path / "q3.jsonl"), ExecutionEnvironment())
    env.execute()
    got = _jsonl(tmp_path / "q3.jsonl")
    con = duckdb.connect()
    for table in ("customer", "orders", "lineitem"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_json_auto('{tmp_path / 'tpch' / table}.jsonl')")
    sql = (ROOT / "examples" / "tpch" / "q3.sql").read_text()  # TPC-H's Q3: its first 10 rows (LIMIT 10)
    expected = con.execute(sql).fetchall()
    assert len(got) > 50 and len(expected) == 10  # the PACT program writes every order in the query's order
    for row, (orderkey, revenue, date, priority) in zip(got[:10], expected):
        assert row[0] == orderkey and row[2] == str(date) and row[3] == priority
        assert math.isclose(row[1], revenue, rel_tol=1e-9)


def test_example_command_lines(tmp_path, capsys):
    (tmp_path / "in.txt").write_text("to be or not to be\n")
    assert word_count.main([str(tmp_path / "in.txt"), str(tmp_path / "wc.csv"), "--executor", "inline",
                            "--stats"]) == 0
    assert "Reduce" in capsys.readouterr().err
    _edges_file(tmp_path / "g.json", _random_graph(9, 20, 25), 9)
    assert components.main([str(tmp_path / "g.json"), "--output", str(tmp_path / "c.jsonl"), "--mode", "both",
                            "--executor", "inline", "--stats"]) == 0
    err = capsys.readouterr().err
    assert "BulkIteration" in err and "WorksetIteration" in err and "workset" in err
    assert triangles.main([str(tmp_path / "g.json"), str(tmp_path / "t.jsonl"), "--executor", "inline"]) == 0
