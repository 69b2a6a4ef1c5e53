"""Would a columnar path pay? TPC-H Q1 on lineitem JSON Lines: Arrow/numpy kernels vs meteor vs DuckDB, in CPU s.

Usage: ``python scripts/bench_columnar.py LINEITEM_JSONL [--repeat 3] [--variants ...] [--meteor-python PY]``.
Needs ``pyarrow`` and ``numpy`` in the Python running it (``pip install pyarrow numpy``; they are no
dependency of meteor: this script measures whether they should become one) and duckdb and msgspec.

Every variant runs in a fresh process, repetitions round-robin over the variants; reported are the medians of
the CPU seconds (user + sys of the process and its children, ``os.wait4``), the wall seconds and the CPU seconds
of each phase (``time.process_time`` inside the process, all its threads). Variants:

- ``arrow-1t`` / ``arrow-2t``: ``pyarrow.json.read_json`` of the file with the 7 columns of Q1 as explicit
  schema (other fields ignored), on 1 thread / all cores, then Q1 in ``pyarrow.compute`` (filter, derived
  columns, ``Table.group_by().aggregate``): the native columnar scan plus vectorised Map/Reduce kernels.
- ``msgspec-arrow``: meteor's own decoder (msgspec ``decode`` of 256 KB chunks of whole lines into Structs of
  the 7 fields, rows transposed with ``zip``) into Arrow arrays per chunk, Q1 partial aggregates per chunk in
  ``pyarrow.compute`` merged at the end (a combiner): the vectorised kernels without a native scan.
- ``duckdb-1t`` / ``duckdb-2t``: the SQL twin over ``read_json`` with typed columns, ``SET threads``.
- ``meteor``: ``meteor run examples/tpch/q1.meteor`` (process executor, all cores), with ``--meteor-python``.

Every variant's answer is compared with DuckDB's (relative tolerance 1e-9). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("l_quantity", "l_extendedprice", "l_discount", "l_tax", "l_returnflag", "l_linestatus", "l_shipdate")
CUTOFF = "1998-09-02"
VARIANTS = ("arrow-1t", "arrow-2t", "msgspec-arrow", "duckdb-1t", "duckdb-2t", "meteor")
Q1_SQL = """SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
 sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
 sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty,
 avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
FROM read_json('{path}', format = 'newline_delimited', columns = {{'l_quantity': 'DOUBLE',
 'l_extendedprice': 'DOUBLE', 'l_discount': 'DOUBLE', 'l_tax': 'DOUBLE', 'l_returnflag': 'VARCHAR',
 'l_linestatus': 'VARCHAR', 'l_shipdate': 'VARCHAR'}})
WHERE l_shipdate <= '1998-09-02' GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus"""


# ---- the variants, each run in its own process (``--child VARIANT PATH``) ----------------------------------------

def _q1_arrow(table):
    """Q1 over an Arrow table of the 7 fields, in pyarrow.compute; sorted list of answer dicts."""
    import pyarrow.compute as pc

    table = table.filter(pc.less_equal(table["l_shipdate"], CUTOFF))
    disc = pc.multiply(table["l_extendedprice"], pc.subtract(1, table["l_discount"]))
    charge = pc.multiply(disc, pc.add(1, table["l_tax"]))
    table = table.append_column("disc_price", disc).append_column("charge", charge)
    grouped = table.group_by(["l_returnflag", "l_linestatus"]).aggregate(
        [("l_quantity", "sum"), ("l_extendedprice", "sum"), ("disc_price", "sum"), ("charge", "sum"),
         ("l_quantity", "mean"), ("l_extendedprice", "mean"), ("l_discount", "mean"), ("l_quantity", "count")])
    names = ["sum_qty", "sum_base_price", "sum_disc_price", "sum_charge", "avg_qty", "avg_price", "avg_disc",
             "count_order"]
    rows = grouped.to_pylist()
    out = []
    for row in rows:
        values = [row[c] for c in grouped.column_names if c not in ("l_returnflag", "l_linestatus")]
        out.append({"l_returnflag": row["l_returnflag"], "l_linestatus": row["l_linestatus"],
                    **dict(zip(names, values))})
    return sorted(out, key=lambda r: (r["l_returnflag"], r["l_linestatus"]))


def child_arrow(path: str, threads: int) -> tuple[list, dict]:
    import pyarrow as pa
    from pyarrow import json as pj

    pa.set_cpu_count(threads)
    pa.set_io_thread_count(threads)
    schema = pa.schema([(f, pa.float64()) for f in FIELDS[:4]] + [(f, pa.string()) for f in FIELDS[4:]])
    t0 = time.process_time()
    table = pj.read_json(path, read_options=pj.ReadOptions(use_threads=threads > 1, block_size=1 << 22),
                         parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"))
    t1 = time.process_time()
    answer = _q1_arrow(table)
    return answer, {"read": t1 - t0, "compute": time.process_time() - t1}


def child_msgspec_arrow(path: str) -> tuple[list, dict]:
    import msgspec
    import pyarrow as pa
    import pyarrow.compute as pc

    Row = msgspec.defstruct("Row", [(f, float) for f in FIELDS[:4]] + [(f, str) for f in FIELDS[4:]],
                            array_like=False)
    decoder = msgspec.json.Decoder(list[Row])
    partials = []
    spent = {"decode": 0.0, "transpose": 0.0, "compute": 0.0}
    with open(path, "rb") as stream:
        while True:
            lines = stream.readlines(1 << 18)
            if not lines:
                break
            t0 = time.process_time()
            rows = decoder.decode(b"[" + b",".join(lines) + b"]")
            t1 = time.process_time()
            columns = list(zip(*(msgspec.structs.astuple(r) for r in rows)))
            batch = pa.table({f: pa.array(c, pa.float64() if i < 4 else pa.string())
                              for i, (f, c) in enumerate(zip(FIELDS, columns))})
            t2 = time.process_time()
            batch = batch.filter(pc.less_equal(batch["l_shipdate"], CUTOFF))
            disc = pc.multiply(batch["l_extendedprice"], pc.subtract(1, batch["l_discount"]))
            batch = batch.append_column("disc_price", disc).append_column(
                "charge", pc.multiply(disc, pc.add(1, batch["l_tax"])))
            partials.append(batch.group_by(["l_returnflag", "l_linestatus"]).aggregate(
                [("l_quantity", "sum"), ("l_extendedprice", "sum"), ("disc_price", "sum"), ("charge", "sum"),
                 ("l_discount", "sum"), ("l_quantity", "count")]))
            spent["decode"] += t1 - t0
            spent["transpose"] += t2 - t1
            spent["compute"] += time.process_time() - t2
    t0 = time.process_time()
    merged = pa.concat_tables(partials).group_by(["l_returnflag", "l_linestatus"]).aggregate(
        [(c, "sum") for c in ("l_quantity_sum", "l_extendedprice_sum", "disc_price_sum", "charge_sum",
                              "l_discount_sum", "l_quantity_count")])
    out = []
    for r in merged.to_pylist():
        n = r["l_quantity_count_sum"]
        out.append({"l_returnflag": r["l_returnflag"], "l_linestatus": r["l_linestatus"],
                    "sum_qty": r["l_quantity_sum_sum"], "sum_base_price": r["l_extendedprice_sum_sum"],
                    "sum_disc_price": r["disc_price_sum_sum"], "sum_charge": r["charge_sum_sum"],
                    "avg_qty": r["l_quantity_sum_sum"] / n, "avg_price": r["l_extendedprice_sum_sum"] / n,
                    "avg_disc": r["l_discount_sum_sum"] / n, "count_order": n})
    spent["compute"] += time.process_time() - t0
    return sorted(out, key=lambda r: (r["l_returnflag"], r["l_linestatus"])), spent


def child_duckdb(path: str, threads: int) -> tuple[list, dict]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    t0 = time.process_time()
    cursor = con.execute(Q1_SQL.format(path=path))
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    return rows, {"query": time.process_time() - t0}


def child(variant: str, path: str, out: str) -> None:
    if variant.startswith("arrow"):
        answer, phases = child_arrow(path, int(variant[-2]))
    elif variant == "msgspec-arrow":
        answer, phases = child_msgspec_arrow(path)
    else:
        answer, phases = child_duckdb(path, int(variant[-2]))
    Path(out).write_text(json.dumps({"answer": answer, "phases": phases}))


# ---- the driver ------------------------------------------------------------------------------------------------

def measure(cmd: list[str], cwd: str) -> tuple[float, float, bool]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status:
        sys.stderr.write(proc.stderr.read().decode()[-2000:])
    return wall, usage.ru_utime + usage.ru_stime, status == 0


def same(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        for k, v in y.items():
            u = x.get(k)
            if isinstance(v, (int, float)) and isinstance(u, (int, float)):
                if abs(u - v) > 1e-9 * max(abs(u), abs(v)):
                    return False
            elif u != v:
                return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lineitem", nargs="?")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--meteor-python", default=sys.executable, help="the Python with meteor installed")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    path = str(Path(args.lineitem).resolve())
    work = tempfile.mkdtemp(prefix="bench-columnar-")
    os.symlink(Path(path).parent, Path(work) / "tpch")
    results: dict[str, list] = {v: [] for v in args.variants}
    answers: dict[str, list] = {}
    for rep in range(args.repeat):
        for variant in args.variants:
            out = Path(work) / f"{variant}.json"
            if variant == "meteor":
                cmd = [args.meteor_python, "-m", "meteor.cli", "run", "-q", str(ROOT / "examples/tpch/q1.meteor")]
            else:
                cmd = [sys.executable, __file__, "--child", variant, path, str(out)]
            wall, cpu, ok = measure(cmd, work)
            phases = {}
            if ok and variant == "meteor":
                answers[variant] = json.loads((Path(work) / "q1.json").read_text())
            elif ok:
                data = json.loads(out.read_text())
                answers[variant], phases = data["answer"], data["phases"]
            results[variant].append((wall, cpu, phases, ok))
            print(f"[{rep + 1}/{args.repeat}] {variant}: {wall:.2f} s wall {cpu:.2f} s CPU "
                  + " ".join(f"{k} {v:.2f}" for k, v in phases.items()), file=sys.stderr)
    oracle = answers.get("duckdb-1t") or answers.get("duckdb-2t")
    lines = ["| variant | CPU s (median) | wall s (median) | CPU s per phase (median) | runs | answer = DuckDB |",
             "|---|---|---|---|---|---|"]
    for variant, runs in results.items():
        good = [r for r in runs if r[3]]
        if not good:
            lines.append(f"| {variant} | failed | | | 0/{len(runs)} | |")
            continue
        phases = {k: statistics.median(r[2][k] for r in good) for k in good[0][2]}
        agree = "yes" if oracle is not None and same(sorted(answers[variant], key=lambda r: (
            r["l_returnflag"], r["l_linestatus"])), oracle) else "NO"
        lines.append(f"| {variant} | {statistics.median(r[1] for r in good):.2f} | "
                     f"{statistics.median(r[0] for r in good):.2f} | "
                     + ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
                     + f" | {len(good)}/{len(runs)} | {agree} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
