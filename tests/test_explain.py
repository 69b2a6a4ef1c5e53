"""``meteor explain`` snapshots: the strategies chosen for the paper's Listing 1 (a TPC-H Q15 variant) and a join + filter
script are pinned, on small data generated here; the text, JSON and Graphviz formats and ``--no-optimize``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from meteor.cli import main

ROOT = Path(__file__).resolve().parent.parent
Q15 = ROOT / "examples" / "paper" / "listing1.meteor"  # the paper's Q15 variant

JOIN_FILTER = """// employees of large departments earning well
$e = read from 'emps.jsonl';
$d = read from 'depts.jsonl';
$j = join $e, $d where $e.dept == $d.did into {$e.name, $e.pay, $d.title, $d.size};
$f = filter $j where $j.pay > 500 and $j.size >= 3;
$g = group $f by $f.title into {title: $f[0].title, n: count($f), total: sum($f[*].pay)};
write $g to 'out.json';
"""


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def tpch(tmp_path, monkeypatch) -> Path:
    """3000 lineitems over 20 suppliers (the Q15 columns), as JSON Lines under tpch/."""
    rnd = random.Random(7)
    _write_jsonl(tmp_path / "tpch" / "lineitem.jsonl", [
        {"l_orderkey": i // 4, "l_suppkey": rnd.randrange(1, 21), "l_extendedprice": round(rnd.uniform(900, 9000), 2),
         "l_discount": rnd.choice([0.0, 0.02, 0.05]), "l_comment": "x" * 30,
         "l_shipdate": f"199{rnd.randrange(5, 8)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}"}
        for i in range(3000)])
    _write_jsonl(tmp_path / "tpch" / "supplier.jsonl", [
        {"s_suppkey": s, "s_name": f"Supplier#{s:09d}", "s_address": "addr", "s_phone": "11-111"}
        for s in range(1, 21)])
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def emps(tmp_path, monkeypatch) -> Path:
    """2000 employees in 6 departments; the script joining and filtering them."""
    _write_jsonl(tmp_path / "emps.jsonl", [{"id": i, "name": f"e{i}", "dept": i % 6, "pay": (i * 37) % 1000}
                                           for i in range(2000)])
    _write_jsonl(tmp_path / "depts.jsonl", [{"did": d, "title": f"d{d}", "size": d} for d in range(6)])
    (tmp_path / "script.meteor").write_text(JOIN_FILTER)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def explain(*args: str) -> str:
    result = CliRunner().invoke(main, ["explain", *args])
    assert result.exit_code == 0, result.output
    return result.output


def strategies(plan: dict) -> list[tuple]:
    """(kind, name, dop, ships, local) per physical node, in topological order: the pinned snapshot."""
    return [(n["kind"], n["name"], n["dop"], n["ship"], n["local"]) for n in plan["physical"]]


def test_q15_snapshot(tpch):
    plan = json.loads(explain(str(Q15), "--format", "json", "--parallelism", "4"))
    assert strategies(plan)[1:] == [  # the sink's name holds the temporary path: compared apart
        ("Source", "$li", 4, [], "none"),
        ("Map", "$li", 4, ["forward"], "none"),
        ("Reduce", "$gli", 4, ["hash-partition"], "hash-group"),
        # $gli arrives hashed on supplier_no (its into copies the group key l_suppkey): forwarded, not re-shipped
        ("Match", "$joinResult/join1", 4, ["hash-partition", "forward"], "hybrid-hash-build-first"),
        ("Map", "$joinResult/into", 4, ["forward"], "none"),
        ("Sink", plan["physical"][-1]["name"], 1, ["gather"], "none"),  # one writer of the single file
    ]
    assert strategies(plan)[0] == ("Source", "$s", 4, [], "none")
    runs = {(n["kind"], n["name"]): [w for w in ("chained", "combined", "fused") if n[w]] for n in plan["physical"]}
    assert runs["Source", "$li"] == ["fused"] and runs["Map", "$li"] == ["chained"]  # filter folded in batches
    assert runs["Reduce", "$gli"] == ["combined"] and runs["Map", "$joinResult/into"] == ["chained"]
    assert plan["executor"] == {"name": "process", "parallelism": 4, "memory_per_instance":
                                plan["executor"]["memory_per_instance"]}
    nodes = {n["name"]: n for n in plan["physical"]}
    assert nodes["$s"]["estimate"]["records"] == 20  # small enough to be sampled whole
    assert 1000 < nodes["$li"]["estimate"]["bytes"] and "combiner" in nodes["$gli"]["reason"]
    assert plan["rewritten"] is None and plan["optimized"] is True
    assert [e["operator"] for e in plan["sopremo"]][2:4] == ["filter", "group"]


def test_sources_show_the_fields_a_run_decodes(tpch):
    assert "lineitem.jsonl fields [l_discount, l_extendedprice, l_shipdate, l_suppkey]" in explain(str(Q15))
    assert "lineitem.jsonl fields" not in explain(str(Q15), "--no-optimize")  # whole records without it


def test_join_filter_snapshot(emps):
    plan = json.loads(explain("script.meteor", "--format", "json", "--parallelism", "4"))
    assert [e["operator"] for e in plan["rewritten"]][:5] == ["read jsonl from " + str(emps / "emps.jsonl"),
                                                               "filter", "read jsonl from " + str(emps / "depts.jsonl"),
                                                               "filter", "join"]
    assert strategies(plan)[:-1] == [
        ("Source", "$e", 4, [], "none"),
        ("Map", "$e", 4, ["forward"], "none"),
        ("Source", "$d", 4, [], "none"),
        ("Map", "$d", 4, ["forward"], "none"),
        ("Match", "$j/join1", 4, ["forward", "broadcast"], "hybrid-hash-build-second"),
        ("Map", "$j/into", 4, ["forward"], "none"),
        ("Reduce", "$g", 4, ["hash-partition"], "hash-group"),
    ]
    assert "broadcasts input 1" in plan["physical"][4]["reason"]
    selection = plan["physical"][1]
    assert "keeps-records" in selection["details"] and "selectivity" in selection["reason"]


def test_text_report_has_every_layer(emps):
    text = explain("script.meteor", "--parallelism", "2")
    for section in ("== Sopremo plan ==", "== Sopremo plan after logical rewrites ==", "== PACT program ==",
                    "== Physical plan (optimized; process executor, parallelism 2, "):
        assert section in text
    assert "why: broadcasts input 1" in text and "dop=2" in text and "est=" in text


def test_dot_is_a_graphviz_digraph_of_the_physical_plan(emps):
    dot = explain("script.meteor", "--format", "dot", "--parallelism", "4")
    assert dot.startswith("digraph physical {") and dot.rstrip().endswith("}")
    assert '[label="broadcast"]' in dot and "hybrid-hash-build-second" in dot


def test_no_optimize_shows_the_default_strategies_without_rewrites(emps):
    plan = json.loads(explain("script.meteor", "--format", "json", "--parallelism", "4", "--no-optimize"))
    assert plan["optimized"] is False and plan["rewritten"] is None
    match = next(n for n in plan["physical"] if n["kind"] == "Match")
    assert match["ship"] == ["hash-partition", "hash-partition"]
    assert [n["kind"] for n in plan["physical"]].count("Map") == 2  # the filter stays one Map above the join


def test_run_no_optimize_gives_the_same_answer(emps):
    outputs = []
    for flags in ([], ["--no-optimize"]):
        result = CliRunner().invoke(main, ["run", "script.meteor", *flags])
        assert result.exit_code == 0, result.output
        outputs.append(sorted(json.loads((emps / "out.json").read_text()), key=lambda r: r["title"]))
    assert outputs[0] == outputs[1] and outputs[0]
