"""TPC-H on Meteor vs DuckDB: the 22 queries of examples/tpch against their SQL, on generated SF 0.01 data.

The data comes from scripts/make_tpch.py (tpchgen-cli, then JSON / JSON Lines); DuckDB loads the same JSON
Lines files with the TPC-H column types (dates as DATE, so the SQL twins are the standard TPC-H text with its
date arithmetic; a DATE answer is compared as its 'YYYY-MM-DD' string, as Meteor writes it) and answers
``q<N>.sql``. Every ``q<N>.meteor`` runs on the inline executor here (on the process executor with 2 partitions
in tests/test_process_executor.py, on Dask in tests/test_dask_executor.py) and must write DuckDB's records (floats to a relative 1e-9); where the query
sorts, the sequence of sort keys must agree too (DESIGN.md, "Oracles: DuckDB answers the TPC-H queries").
``meteor explain`` must describe every query.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXECUTORS = ("inline",)  # process: tests/test_process_executor.py; Dask: tests/test_dask_executor.py


def _load(name: str):
    """A module of scripts/ by file name (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_tpch = _load("check_tpch")  # the oracle: DuckDB's answers and the comparison, shared with the SF 0.1 check
make_tpch = check_tpch.make_tpch
EXAMPLES, QUERIES, ORDER_KEYS = check_tpch.EXAMPLES, check_tpch.QUERIES, check_tpch.ORDER_KEYS
duck_tables, sql_records, meteor_answer = check_tpch.duck_tables, check_tpch.sql_records, check_tpch.meteor_answer
assert_same_multiset, assert_same_order = check_tpch.assert_same_multiset, check_tpch.assert_same_order


@pytest.fixture(scope="session")
def tpch_dir(tmp_path_factory) -> Path:
    """A directory holding ``tpch/<table>.json(l)`` at SF 0.01 (generated once per session)."""
    base = tmp_path_factory.mktemp("tpch_sf001")
    make_tpch.generate(0.01, base / "tpch")
    return base


@pytest.fixture(scope="session")
def duck(tpch_dir) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one table per TPC-H table, loaded from the generated JSON Lines files."""
    return duck_tables(tpch_dir / "tpch")


def test_generate_matches_the_generator(tpch_dir, duck):
    """The converted tables hold the generator's rows with the schema's types."""
    counts = {t: duck.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in make_tpch.SCHEMA}
    assert counts["lineitem"] == 60175 and counts["orders"] == 15000 and counts["supplier"] == 100
    first = json.loads((tpch_dir / "tpch" / "lineitem.jsonl").open().readline())
    assert first["l_orderkey"] == 1 and isinstance(first["l_quantity"], float)
    assert isinstance(first["l_linenumber"], int) and first["l_shipdate"].count("-") == 2
    array = json.loads((tpch_dir / "tpch" / "nation.json").read_text())
    assert len(array) == 25 and array[0] == {
        "n_nationkey": 0, "n_name": "ALGERIA", "n_regionkey": 0,
        "n_comment": array[0]["n_comment"]}


def test_generate_rejects_unknown_tables(tmp_path):
    with pytest.raises(make_tpch.GeneratorError, match="unknown TPC-H table"):
        make_tpch.generate(0.01, tmp_path, ["lineitems"])


@pytest.mark.parametrize("query", QUERIES)
def test_sql_oracle_answers(duck, query):
    """Every SQL oracle runs and has an answer on SF 0.01 (guards against an empty, vacuous comparison)."""
    assert sql_records(duck, query)


def test_every_query_is_here():
    """The 22 queries of TPC-H, each with its SQL twin and its sort keys."""
    assert QUERIES == [f"q{n}" for n in range(1, 23)]
    assert all((EXAMPLES / f"{q}.sql").exists() for q in QUERIES) and ORDER_KEYS.keys() == set(QUERIES)


def run_query(query: str, workdir: Path, executor: str) -> list[dict]:
    """Run ``q<N>.meteor`` in ``workdir`` (which holds ``tpch/``) on ``executor``; the records it wrote."""
    from meteor.api import run_file

    out = workdir / f"{query}.json"
    out.unlink(missing_ok=True)
    run_file(EXAMPLES / f"{query}.meteor", executor=executor)
    return json.loads(out.read_text())


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("query", QUERIES)
def test_meteor_matches_duckdb(tpch_dir, duck, query, executor, monkeypatch):
    """``q<N>.meteor`` writes the same records as DuckDB's ``q<N>.sql`` (and in the same order)."""
    monkeypatch.chdir(tpch_dir)
    got = run_query(query, tpch_dir, executor)
    expected = meteor_answer(sql_records(duck, query))
    assert_same_multiset(got, expected)
    assert_same_order(got, expected, ORDER_KEYS[query])


@pytest.mark.parametrize("query", QUERIES)
def test_explain_describes_every_query(query):
    """``meteor explain q<N>.meteor`` prints the plans (logical before and after the rewrites, physical)."""
    from click.testing import CliRunner

    import meteor.cli

    result = CliRunner().invoke(meteor.cli.main, ["explain", str(EXAMPLES / f"{query}.meteor")])
    assert result.exit_code == 0, result.output
    assert "== Sopremo plan ==" in result.output and "== PACT program ==" in result.output
    assert f"{query}.json" in result.output


def test_the_comparison_finds_differences():
    """The oracle's comparison rejects a changed value, a missing record and a wrong order (it can fail)."""
    expected = [{"k": "a", "v": 1.0}, {"k": "b", "v": 2.0}]
    assert_same_multiset([{"k": "b", "v": 2.0 + 1e-12}, {"k": "a", "v": 1.0}], expected)
    for wrong in ([{"k": "a", "v": 1.0}, {"k": "b", "v": 2.001}], expected[:1], [{"k": "a", "v": 1.0}] * 2):
        with pytest.raises(AssertionError):
            assert_same_multiset(wrong, expected)
    with pytest.raises(AssertionError, match="out of order"):
        assert_same_order(expected[::-1], expected, ["k"])
    assert meteor_answer([{"avg_yearly": None}]) == [] and meteor_answer(expected) == expected


def test_check_script_reports_agreement(tpch_dir, tmp_path, capsys):
    """``scripts/check_tpch.py`` (the SF 0.1 check) on the session's SF 0.01 data: a Markdown row per query."""
    (tmp_path / "sf0.01").mkdir()
    (tmp_path / "sf0.01" / "tpch").symlink_to(tpch_dir / "tpch")
    assert check_tpch.main(["--sf", "0.01", "--data", str(tmp_path), "--queries", "q6", "q14"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| q") and "query" not in line]
    assert [row.split(" | ")[:2] for row in rows] == [["| q6", "yes"], ["| q14", "yes"]]
