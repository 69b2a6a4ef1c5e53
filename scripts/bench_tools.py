"""The non-meteor contestants of scripts/bench.py: DuckDB (every TPC-H query with an SQL twin, word count),
Polars and a plain orjson loop (Q1, Q3, Q15 and word count).

``python scripts/bench_tools.py TOOL QUERY DATA_DIR OUT`` runs one query with one tool on the JSON Lines files
of ``DATA_DIR`` (``lineitem.jsonl``, ... for TPC-H; ``news.jsonl`` for ``wordcount``) and writes the answer to
``OUT`` as a JSON array of objects with the field names of the meteor script. DuckDB runs the SQL twins
examples/tpch/<query>.sql over ``read_json`` views typed as scripts/make_tpch.py types the data (dates as DATE,
answered as 'YYYY-MM-DD' strings, as meteor writes them); Polars an equivalent lazy query over ``scan_ndjson``;
the orjson loop is single-process Python (read lines, ``orjson.loads``, filter and aggregate in dicts), the
floor a hand-written script reaches. ``python scripts/bench_tools.py meteor-spill QUERY [MEMORY]`` runs the
meteor script in the working directory and prints how much it spilled.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import orjson

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tpch"
SQL_TYPES = {"int": "BIGINT", "decimal": "DOUBLE", "date": "DATE", "string": "VARCHAR"}
# word count in SQL: the same words as meteor's split(lower_case(text)) (runs of white space cut; none empty)
WORDCOUNT_SQL = ("SELECT word, count(*) AS count FROM (SELECT unnest(string_split_regex(lower(text), '\\s+')) "
                 "AS word FROM read_json('{path}', format = 'newline_delimited', columns = {{'text': 'VARCHAR'}})) "
                 "WHERE word <> '' GROUP BY word")


def _rows(path: Path):
    with open(path, "rb") as stream:
        loads = orjson.loads
        for line in stream:
            yield loads(line)


def _schema() -> dict[str, tuple[tuple[str, str], ...]]:
    """The TPC-H columns and types of scripts/make_tpch.py (imported from beside this file)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from make_tpch import SCHEMA
    finally:
        sys.path.pop(0)
    return SCHEMA


def tables_of_sql(sql: str) -> list[str]:
    """The TPC-H tables an SQL text names (as words), in schema order."""
    return [t for t in _schema() if re.search(rf"\b{t}\b", sql, re.I)]


# ---- DuckDB --------------------------------------------------------------------------------------------------

def duckdb_query(query: str, data: Path) -> list[dict]:
    """The SQL twin of the query over typed ``read_json`` views of the JSON Lines tables (word count: the
    WORDCOUNT_SQL text). A single row of NULLs (an aggregate over no rows) is answered as no row, as meteor
    writes it."""
    import datetime

    import duckdb

    con = duckdb.connect()
    if query == "wordcount":
        cursor = con.execute(WORDCOUNT_SQL.format(path=data / "news.jsonl"))
    else:
        sql = (EXAMPLES / f"{query}.sql").read_text()
        for table in tables_of_sql(sql):
            cols = ", ".join(f"'{name}': '{SQL_TYPES[kind]}'" for name, kind in _schema()[table])
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_json('{data / (table + '.jsonl')}', "
                        f"format = 'newline_delimited', columns = {{{cols}}})")
        cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, (v.isoformat() if isinstance(v, datetime.date) else v for v in row)))
            for row in cursor.fetchall()]
    if len(rows) == 1 and all(v is None for v in rows[0].values()):
        return []
    return rows


# ---- Polars --------------------------------------------------------------------------------------------------

def polars_query(query: str, tpch: Path) -> list[dict]:
    """The query as a Polars lazy plan over ``scan_ndjson``."""
    import polars as pl

    def scan(table: str):
        return pl.scan_ndjson(tpch / f"{table}.jsonl")

    col = pl.col
    if query == "wordcount":
        plan = (scan("news").select(word=col("text").str.to_lowercase().str.extract_all(r"\S+")).explode("word")
                .drop_nulls().group_by("word").agg(count=pl.len()))
        return plan.collect().to_dicts()
    if query == "q1":
        disc = col("l_extendedprice") * (1 - col("l_discount"))
        plan = (scan("lineitem").filter(col("l_shipdate") <= "1998-09-02")
                .group_by("l_returnflag", "l_linestatus")
                .agg(sum_qty=col("l_quantity").sum(), sum_base_price=col("l_extendedprice").sum(),
                     sum_disc_price=disc.sum(), sum_charge=(disc * (1 + col("l_tax"))).sum(),
                     avg_qty=col("l_quantity").mean(), avg_price=col("l_extendedprice").mean(),
                     avg_disc=col("l_discount").mean(), count_order=pl.len())
                .sort("l_returnflag", "l_linestatus"))
    elif query == "q3":
        c = scan("customer").filter(col("c_mktsegment") == "BUILDING")
        o = scan("orders").filter(col("o_orderdate") < "1995-03-15")
        li = scan("lineitem").filter(col("l_shipdate") > "1995-03-15")
        plan = (c.join(o, left_on="c_custkey", right_on="o_custkey")
                .join(li, left_on="o_orderkey", right_on="l_orderkey")
                .group_by(col("o_orderkey").alias("l_orderkey"), "o_orderdate", "o_shippriority")
                .agg(revenue=(col("l_extendedprice") * (1 - col("l_discount"))).sum())
                .select("l_orderkey", "revenue", "o_orderdate", "o_shippriority")
                .sort(["revenue", "o_orderdate"], descending=[True, False])
                .head(10))
    else:
        revenue = (scan("lineitem").filter((col("l_shipdate") >= "1996-01-01") & (col("l_shipdate") < "1996-04-01"))
                   .group_by("l_suppkey")
                   .agg(total_revenue=(col("l_extendedprice") * (1 - col("l_discount"))).sum()))
        top = revenue.filter(col("total_revenue") == col("total_revenue").max())
        plan = (scan("supplier").join(top, left_on="s_suppkey", right_on="l_suppkey")
                .select("s_suppkey", "s_name", "s_address", "s_phone", "total_revenue")
                .sort("s_suppkey"))
    return plan.collect().to_dicts()


# ---- the orjson loop -----------------------------------------------------------------------------------------

def loop_q1(tpch: Path) -> list[dict]:
    """TPC-H Q1 in one pass over lineitem with a dict of accumulators per (returnflag, linestatus)."""
    groups: dict[tuple, list] = {}
    for r in _rows(tpch / "lineitem.jsonl"):
        if r["l_shipdate"] <= "1998-09-02":
            key = (r["l_returnflag"], r["l_linestatus"])
            acc = groups.get(key)
            if acc is None:
                acc = groups[key] = [0.0, 0.0, 0.0, 0.0, 0.0, 0]
            qty, price, disc = r["l_quantity"], r["l_extendedprice"], r["l_discount"]
            disc_price = price * (1 - disc)
            acc[0] += qty
            acc[1] += price
            acc[2] += disc_price
            acc[3] += disc_price * (1 + r["l_tax"])
            acc[4] += disc
            acc[5] += 1
    return [{"l_returnflag": k[0], "l_linestatus": k[1], "sum_qty": a[0], "sum_base_price": a[1],
             "sum_disc_price": a[2], "sum_charge": a[3], "avg_qty": a[0] / a[5], "avg_price": a[1] / a[5],
             "avg_disc": a[4] / a[5], "count_order": a[5]} for k, a in sorted(groups.items())]


def loop_q3(tpch: Path) -> list[dict]:
    """TPC-H Q3: a set of BUILDING customers, a dict of their early orders, one pass over lineitem."""
    customers = {r["c_custkey"] for r in _rows(tpch / "customer.jsonl") if r["c_mktsegment"] == "BUILDING"}
    orders = {r["o_orderkey"]: (r["o_orderdate"], r["o_shippriority"]) for r in _rows(tpch / "orders.jsonl")
              if r["o_orderdate"] < "1995-03-15" and r["o_custkey"] in customers}
    revenue: dict[int, float] = {}
    for r in _rows(tpch / "lineitem.jsonl"):
        key = r["l_orderkey"]
        if r["l_shipdate"] > "1995-03-15" and key in orders:
            revenue[key] = revenue.get(key, 0.0) + r["l_extendedprice"] * (1 - r["l_discount"])
    rows = [{"l_orderkey": k, "revenue": v, "o_orderdate": orders[k][0], "o_shippriority": orders[k][1]}
            for k, v in revenue.items()]
    return sorted(rows, key=lambda row: (-row["revenue"], row["o_orderdate"]))[:10]


def loop_q15(tpch: Path) -> list[dict]:
    """TPC-H Q15: revenue per supplier in Q1 1996; the suppliers of the largest."""
    revenue: dict[int, float] = {}
    for r in _rows(tpch / "lineitem.jsonl"):
        if "1996-01-01" <= r["l_shipdate"] < "1996-04-01":
            key = r["l_suppkey"]
            revenue[key] = revenue.get(key, 0.0) + r["l_extendedprice"] * (1 - r["l_discount"])
    top = max(revenue.values(), default=None)
    rows = [{"s_suppkey": s["s_suppkey"], "s_name": s["s_name"], "s_address": s["s_address"],
             "s_phone": s["s_phone"], "total_revenue": revenue[s["s_suppkey"]]}
            for s in _rows(tpch / "supplier.jsonl") if revenue.get(s["s_suppkey"]) == top]
    return sorted(rows, key=lambda row: row["s_suppkey"])


# ---- meteor through the API, reporting its spilling (for the --check-spill run) --------------------------------

def meteor_spilling(query: str, memory: str | None) -> None:
    """Run examples/tpch/<query>.meteor in the working directory on the process executor with the budget
    ``memory`` (None: the default) and print the spill files and bytes of the run to stdout."""
    from meteor.api import run_file
    from pact_backend.executors.process import ProcessExecutor

    reports = []
    original = ProcessExecutor.run

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            reports.append(self.last_run)

    ProcessExecutor.run = run
    run_file(EXAMPLES / f"{query}.meteor", memory=memory)
    files, spilled = sum(r.spill_files for r in reports), sum(r.spill_bytes for r in reports)
    print(f"spill_files={files} spill_bytes={spilled}")


def loop_wordcount(data: Path) -> list[dict]:
    """Word count in one pass: a Counter of ``text.lower().split()`` per article."""
    counts: Counter = Counter()
    for r in _rows(data / "news.jsonl"):
        counts.update(r["text"].lower().split())
    return [{"word": w, "count": c} for w, c in counts.items()]


LOOPS: dict[str, Callable[[Path], list[dict]]] = {"q1": loop_q1, "q3": loop_q3, "q15": loop_q15,
                                                  "wordcount": loop_wordcount}
POLARS = ("q1", "q3", "q15", "wordcount")  # the queries with a Polars twin
TOOLS: dict[str, Callable[[str, Path], list[dict]]] = {
    "duckdb": duckdb_query, "polars": polars_query, "orjson": lambda query, tpch: LOOPS[query](tpch),
}


def has_twin(tool: str, query: str) -> bool:
    """Whether ``tool`` can run ``query``: DuckDB every TPC-H query with an SQL twin and word count, Polars
    and the orjson loop the queries written for them (no Polars twins of all 22: DuckDB is the oracle)."""
    if tool == "duckdb":
        return query == "wordcount" or (EXAMPLES / f"{query}.sql").exists()
    if tool == "polars":
        return query in POLARS
    if tool == "orjson":
        return query in LOOPS
    return tool == "meteor"


def main(argv: list[str]) -> int:
    """Run ``TOOL QUERY TPCH_DIR OUT``; returns the exit status."""
    if argv[0] == "meteor-spill":
        meteor_spilling(argv[1], argv[2] if len(argv) > 2 else None)
        return 0
    tool, query, tpch, out = argv
    rows: Any = TOOLS[tool](query, Path(tpch))
    Path(out).write_bytes(orjson.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
