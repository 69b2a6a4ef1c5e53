"""Generate TPC-H data with tpchgen-cli and convert it to JSON (one array per table) and JSON Lines.

Usage: ``python scripts/make_tpch.py --sf 0.01 --out data/tpch [--tables lineitem supplier ...]``, or from
Python ``make_tpch.generate(0.01, "data/tpch")``. Every table becomes ``<out>/<table>.json`` and
``<out>/<table>.jsonl`` with the TPC-H column names (``l_suppkey``, ...); the schema below types the values:
integer columns as JSON ints, decimals as JSON numbers with a fraction, dates as 'YYYY-MM-DD' strings, the rest
as strings. Rows stream from the generator's CSV to both outputs, so memory does not grow with the scale
factor. The generator is the reference one from PyPI, ``tpchgen-cli`` (``pip install -e '.[dev]'``).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

import orjson

from pact_backend.io import AtomicFile

INT, DECIMAL, DATE, STRING = "int", "decimal", "date", "string"

# TPC-H 3.0.1, sec. 1.4: the columns of every table in file order and their types.
SCHEMA: dict[str, tuple[tuple[str, str], ...]] = {
    "region": (("r_regionkey", INT), ("r_name", STRING), ("r_comment", STRING)),
    "nation": (("n_nationkey", INT), ("n_name", STRING), ("n_regionkey", INT), ("n_comment", STRING)),
    "supplier": (("s_suppkey", INT), ("s_name", STRING), ("s_address", STRING), ("s_nationkey", INT),
                 ("s_phone", STRING), ("s_acctbal", DECIMAL), ("s_comment", STRING)),
    "customer": (("c_custkey", INT), ("c_name", STRING), ("c_address", STRING), ("c_nationkey", INT),
                 ("c_phone", STRING), ("c_acctbal", DECIMAL), ("c_mktsegment", STRING), ("c_comment", STRING)),
    "part": (("p_partkey", INT), ("p_name", STRING), ("p_mfgr", STRING), ("p_brand", STRING),
             ("p_type", STRING), ("p_size", INT), ("p_container", STRING), ("p_retailprice", DECIMAL),
             ("p_comment", STRING)),
    "partsupp": (("ps_partkey", INT), ("ps_suppkey", INT), ("ps_availqty", INT), ("ps_supplycost", DECIMAL),
                 ("ps_comment", STRING)),
    "orders": (("o_orderkey", INT), ("o_custkey", INT), ("o_orderstatus", STRING), ("o_totalprice", DECIMAL),
               ("o_orderdate", DATE), ("o_orderpriority", STRING), ("o_clerk", STRING),
               ("o_shippriority", INT), ("o_comment", STRING)),
    "lineitem": (("l_orderkey", INT), ("l_partkey", INT), ("l_suppkey", INT), ("l_linenumber", INT),
                 ("l_quantity", DECIMAL), ("l_extendedprice", DECIMAL), ("l_discount", DECIMAL),
                 ("l_tax", DECIMAL), ("l_returnflag", STRING), ("l_linestatus", STRING), ("l_shipdate", DATE),
                 ("l_commitdate", DATE), ("l_receiptdate", DATE), ("l_shipinstruct", STRING),
                 ("l_shipmode", STRING), ("l_comment", STRING)),
}
TABLES = tuple(SCHEMA)
_CONVERT: dict[str, Callable[[str], object] | None] = {INT: int, DECIMAL: float, DATE: None, STRING: None}


class GeneratorError(RuntimeError):
    """tpchgen-cli is missing or failed, or its output does not match the schema."""


def find_generator() -> str:
    """Path of the tpchgen-cli executable (next to this Python, else on PATH); raises GeneratorError."""
    beside = Path(sys.executable).parent / "tpchgen-cli"
    found = str(beside) if beside.exists() else shutil.which("tpchgen-cli")
    if not found:
        raise GeneratorError("tpchgen-cli not found; install the dev dependencies: pip install -e '.[dev]'")
    return found


def run_generator(sf: float, directory: Path, tables: Iterable[str]) -> None:
    """Run ``tpchgen-cli csv -s SF`` writing ``<table>.csv`` files into ``directory``."""
    cmd = [find_generator(), "csv", "-s", str(sf), "--output-dir", str(directory), "--quiet",
           "--tables", ",".join(tables)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise GeneratorError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")


def convert_table(table: str, csv_path: Path, out: Path) -> int:
    """Convert one generated CSV table to ``out/<table>.json`` and ``.jsonl``; returns the row count."""
    names = [name for name, _ in SCHEMA[table]]
    converters = [_CONVERT[kind] for _, kind in SCHEMA[table]]
    typed = [(i, c) for i, c in enumerate(converters) if c is not None]
    rows = 0
    with open(csv_path, newline="", encoding="utf-8") as src, \
            AtomicFile(str(out / f"{table}.json")) as js, AtomicFile(str(out / f"{table}.jsonl")) as jl:
        reader = csv.reader(src)
        header = next(reader, None)
        if header != names:
            raise GeneratorError(f"{csv_path}: columns {header} differ from the TPC-H schema {names}")
        js.write(b"[\n")
        dumps = orjson.dumps
        for row in reader:
            for i, convert in typed:
                row[i] = convert(row[i])
            line = dumps(dict(zip(names, row)))
            js.write(b",\n" + line if rows else line)
            jl.write(line + b"\n")
            rows += 1
        js.write(b"\n]\n" if rows else b"]\n")
    return rows


def generate(sf: float, out: str | os.PathLike, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Generate TPC-H at scale factor ``sf`` into ``out`` (created if needed) as JSON and JSON Lines.

    Returns the row count per table; raises GeneratorError (generator missing or failing, unknown table).
    """
    chosen = list(tables or TABLES)
    unknown = [t for t in chosen if t not in SCHEMA]
    if unknown:
        raise GeneratorError(f"unknown TPC-H table(s) {unknown}; known: {', '.join(TABLES)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".tpchgen-", dir=out))
    try:
        run_generator(sf, temp, chosen)
        return {t: convert_table(t, temp / f"{t}.csv", out) for t in chosen}
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints the row count per table and the time taken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=0.01, help="scale factor (default 0.01)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--tables", nargs="+", choices=TABLES, help="tables to generate (default: all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = generate(args.sf, args.out, args.tables)
    except GeneratorError as exc:
        print(f"make_tpch: {exc}", file=sys.stderr)
        return 1
    for table, rows in counts.items():
        print(f"{table:10} {rows:>10} rows")
    print(f"SF {args.sf:g} in {time.perf_counter() - started:.1f}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
