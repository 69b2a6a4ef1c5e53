"""TPC-H on Meteor vs DuckDB: every examples/tpch script against its SQL, on generated SF 0.01 data.

The data comes from scripts/make_tpch.py (tpchgen-cli, then JSON / JSON Lines); DuckDB reads the same JSON Lines
files with the TPC-H column types (dates as strings, as Meteor sees them) and answers ``q<N>.sql``, the faithful
SQL of ``q<N>.meteor``. Results must agree record for record (floats to a relative 1e-9); where the query sorts,
the sequence of sort keys must agree too (DESIGN.md, "Oracles: DuckDB answers the TPC-H queries").
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "tpch"
QUERIES = sorted(p.stem for p in EXAMPLES.glob("q*.meteor"))
# The ORDER BY columns of each sorted query (None: unordered result, compared as a multiset).
ORDER_KEYS = {"q1": ["l_returnflag", "l_linestatus"], "q3": ["revenue", "o_orderdate"], "q6": None,
              "q10": ["revenue"], "q13": ["custdist", "c_count"], "q15": None}
SQL_TYPES = {"int": "BIGINT", "decimal": "DOUBLE", "date": "VARCHAR", "string": "VARCHAR"}


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
    """A DuckDB connection with one view per TPC-H table over the generated JSON Lines files."""
    con = duckdb.connect()
    for table, columns in make_tpch.SCHEMA.items():
        cols = ", ".join(f"'{name}': '{SQL_TYPES[kind]}'" for name, kind in columns)
        path = tpch_dir / "tpch" / f"{table}.jsonl"
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_json('{path}', "
                    f"format='newline_delimited', columns={{{cols}}})")
    return con


def sql_records(con: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    """The rows of ``q<N>.sql`` as dicts by column name."""
    cursor = con.execute((EXAMPLES / f"{query}.sql").read_text())
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


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


def assert_same_order(got: list[dict], expected: list[dict], keys: list[str]) -> None:
    """The sequence of sort-key values agrees (ties may come in any order)."""
    for i, (a, b) in enumerate(zip(got, expected)):
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


@pytest.mark.parametrize("query", QUERIES)
def test_meteor_matches_duckdb(tpch_dir, duck, query, monkeypatch):
    """``q<N>.meteor`` writes the same records as DuckDB's ``q<N>.sql`` (and in the same order if sorted)."""
    from meteor.api import run_file

    monkeypatch.chdir(tpch_dir)
    out = tpch_dir / f"{query}.json"
    out.unlink(missing_ok=True)
    run_file(EXAMPLES / f"{query}.meteor")
    got = json.loads(out.read_text())
    expected = sql_records(duck, query)
    assert_same_multiset(got, expected)
    if ORDER_KEYS[query]:
        assert_same_order(got, expected, ORDER_KEYS[query])
