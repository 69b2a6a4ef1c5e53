"""TPC-H on Meteor vs DuckDB: the 22 queries of examples/tpch against their SQL, on generated SF 0.01 data.

The data comes from scripts/make_tpch.py (tpchgen-cli, then JSON / JSON Lines); DuckDB loads the same JSON
Lines files with the TPC-H column types (dates as DATE, so the SQL twins are the standard TPC-H text with its
date arithmetic; a DATE answer is compared as its 'YYYY-MM-DD' string, as Meteor writes it) and answers
``q<N>.sql``. Every ``q<N>.meteor`` runs on the inline and the process executor here (on Dask in
tests/test_dask_executor.py) and must write DuckDB's records (floats to a relative 1e-9); where the query
sorts, the sequence of sort keys must agree too (DESIGN.md, "Oracles: DuckDB answers the TPC-H queries").
``meteor explain`` must describe every query.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import math
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "tpch"
QUERIES = sorted((p.stem for p in EXAMPLES.glob("q*.meteor")), key=lambda q: int(q[1:]))
# The ORDER BY columns of each query (None: a single record).
ORDER_KEYS = {
    "q1": ["l_returnflag", "l_linestatus"], "q2": ["s_acctbal", "n_name", "s_name", "p_partkey"],
    "q3": ["revenue", "o_orderdate"], "q4": ["o_orderpriority"], "q5": ["revenue"], "q6": None,
    "q7": ["supp_nation", "cust_nation", "l_year"], "q8": ["o_year"], "q9": ["nation", "o_year"],
    "q10": ["revenue"], "q11": ["value"], "q12": ["l_shipmode"], "q13": ["custdist", "c_count"], "q14": None,
    "q15": ["s_suppkey"], "q16": ["supplier_cnt", "p_brand", "p_type", "p_size"], "q17": None,
    "q18": ["o_totalprice", "o_orderdate"], "q19": None, "q20": ["s_name"], "q21": ["numwait", "s_name"],
    "q22": ["cntrycode"]}
SQL_TYPES = {"int": "BIGINT", "decimal": "DOUBLE", "date": "DATE", "string": "VARCHAR"}
EXECUTORS = ("inline", "process")  # Dask: tests/test_dask_executor.py, on the session's cluster


def _load_make_tpch():
    spec = importlib.util.spec_from_file_location("make_tpch", ROOT / "scripts" / "make_tpch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_tpch = _load_make_tpch()


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


def duck_tables(directory: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the TPC-H tables of ``directory/<table>.jsonl`` with the schema's types."""
    con = duckdb.connect()
    for table, columns in make_tpch.SCHEMA.items():
        cols = ", ".join(f"'{name}': '{SQL_TYPES[kind]}'" for name, kind in columns)
        path = directory / f"{table}.jsonl"
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_json('{path}', "
                    f"format='newline_delimited', columns={{{cols}}})")
    return con


def sql_records(con: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    """The rows of ``q<N>.sql`` as dicts by column name, dates as 'YYYY-MM-DD' strings."""
    cursor = con.execute((EXAMPLES / f"{query}.sql").read_text())
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, (v.isoformat() if isinstance(v, datetime.date) else v for v in row)))
            for row in cursor.fetchall()]


def meteor_answer(rows: list[dict]) -> list[dict]:
    """What Meteor writes for SQL's answer ``rows``: the same, except for an aggregate without GROUP BY over no
    rows. SQL answers it with one row of NULLs; a Meteor ``group`` without ``by`` has no group to aggregate
    and writes no record (the original's grouping of all records, a Reduce, sees no input). Q17 at SF 0.01
    is such a case: no small-quantity line of a Brand#23 MED BOX part."""
    if len(rows) == 1 and all(v is None for v in rows[0].values()):
        return []
    return rows


def same_value(a, b) -> bool:
    """Equal JSON values, numbers to a relative tolerance of 1e-9."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def same_record(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)


def assert_same_multiset(got: list[dict], expected: list[dict]) -> None:
    """Every expected record matched by exactly one got record (greedy over a canonical order)."""
    assert len(got) == len(expected), f"{len(got)} records, expected {len(expected)}"
    canon = lambda r: json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()},
                                 sort_keys=True)
    remaining = sorted(got, key=canon)
    for record in sorted(expected, key=canon):
        match = next((i for i, r in enumerate(remaining) if same_record(r, record)), None)
        assert match is not None, f"no result record matches {record}"
        remaining.pop(match)


def assert_same_order(got: list[dict], expected: list[dict], keys: list[str] | None) -> None:
    """The sequence of sort-key values agrees (ties may come in any order); no keys: nothing to check."""
    for i, (a, b) in enumerate(zip(got, expected) if keys else ()):
        assert all(same_value(a.get(k), b[k]) for k in keys), f"record {i}: {a} out of order, expected {b}"


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
