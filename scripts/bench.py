"""TPC-H Q1, Q3, Q15 on JSON Lines: meteor vs DuckDB, Polars and a plain orjson loop, in one interleaved run.

Usage: ``python scripts/bench.py [--data /tmp/meteor-bench] [--sf 0.1 1] [--queries q1 q3 q15]
[--tools meteor duckdb polars orjson] [--repeat 3] [--memory 256MB] [--parallelism N] [--check-spill]
[--markdown out.md] [--ie CORPUS] [--cleansing N]``. Missing tables are generated once into ``<data>/sf<SF>/tpch`` (scripts/make_tpch.py).
Every measurement is a fresh process; repetitions go round-robin over the tools, so load from other programs
hits every tool alike. Per run: wall seconds, CPU seconds (user + sys of the child and its reaped workers,
from ``os.wait4``), the peak RSS of the largest process (its VmHWM) and the peak of the summed RSS of the
whole process tree (both sampled every 20 ms from /proc; the sum is an upper bound, shared pages counted per
process).
Prints Markdown tables of the medians and the ratios meteor / DuckDB and meteor / orjson loop, and checks
that every tool gave the same answer as meteor. ``--check-spill`` runs Q3 at the largest scale factor
without and with ``--memory 256MB`` (or the ``--spill-memory`` budgets), compares the answers and reports how
much was spilled (issue 3's spill target). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import compileall
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
METEOR = [PYTHON, "-m", "meteor.cli"] if not (Path(PYTHON).parent / "meteor").exists() else [
    str(Path(PYTHON).parent / "meteor")]
NEEDED = ("lineitem", "orders", "customer", "supplier")
TOOLS = ("meteor", "duckdb", "polars", "orjson")


@dataclass
class Run:
    """One measured process: seconds of wall and CPU time, peak RSS in MB (largest process, tree sum)."""

    wall: float
    cpu: float
    rss_max: float
    rss_tree: float
    ok: bool


@dataclass
class Cell:
    """All runs of one (scale factor, query, tool) and the answer of the first run (rows, or None)."""

    runs: list[Run] = field(default_factory=list)
    answer: list | None = None


def ensure_data(data: Path, sf: float) -> Path:
    """``<data>/sf<sf>/tpch`` holding the needed tables as JSON Lines, generated when missing."""
    tpch = data / f"sf{sf:g}" / "tpch"
    missing = [t for t in NEEDED if not (tpch / f"{t}.jsonl").exists()]
    if missing:
        print(f"generating TPC-H SF {sf:g} tables {missing} into {tpch} ...", file=sys.stderr)
        subprocess.run([PYTHON, str(ROOT / "scripts" / "make_tpch.py"), "--sf", str(sf), "--out", str(tpch),
                        "--tables", *missing], check=True, stdout=subprocess.DEVNULL)
    return tpch


def _tree_memory(pid: int) -> tuple[int, int]:
    """(summed resident bytes, largest high-water mark VmHWM in bytes) of ``pid`` and its descendants."""
    total, largest, todo, page = 0, 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as statm:
                total += int(statm.read().split()[1]) * page
            with open(f"/proc/{p}/status") as status:
                hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
            largest = max(largest, int(hwm[0]) * 1024 if hwm else 0)
            with open(f"/proc/{p}/task/{p}/children") as children:
                todo.extend(int(c) for c in children.read().split())
        except (OSError, ValueError):
            continue
    return total, largest


def measure(cmd: list[str], cwd: Path, log: Path) -> Run:
    """Run ``cmd`` in ``cwd`` as a fresh process (output to ``log``) and measure it. Memory is sampled from
    /proc every 20 ms (``ru_maxrss`` would count the copy of this process the child is forked from)."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        peak, done = [0, 0], threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                total, largest = _tree_memory(proc.pid)
                peak[:] = max(peak[0], total), max(peak[1], largest)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, peak[1] / 2**20, peak[0] / 2**20, status == 0)


def command(tool: str, query: str, tpch: Path, work: Path, args: argparse.Namespace) -> list[str]:
    """The command line of one run; meteor runs in ``work`` (where ``tpch`` links to the data)."""
    if tool == "meteor":
        cmd = [*METEOR, "run", str(ROOT / "examples" / "tpch" / f"{query}.meteor")]
        if args.memory:
            cmd += ["--memory", args.memory]
        if args.parallelism:
            cmd += ["--parallelism", str(args.parallelism)]
        return cmd
    return [PYTHON, str(ROOT / "scripts" / "bench_tools.py"), tool, query, str(tpch), str(work / f"{query}.json")]


def workdir(data: Path, sf: float, tool: str) -> Path:
    """``<data>/runs/sf<sf>-<tool>`` with a ``tpch`` link to the data (the scripts read tpch/<table>.jsonl)."""
    work = data / "runs" / f"sf{sf:g}-{tool}"
    work.mkdir(parents=True, exist_ok=True)
    link = work / "tpch"
    if not link.exists():
        link.symlink_to(data / f"sf{sf:g}" / "tpch", target_is_directory=True)
    return work


def run_all(args: argparse.Namespace) -> dict[tuple[float, str, str], Cell]:
    """Every (sf, query, tool) ``args.repeat`` times, round-robin over the tools within each repetition."""
    cells: dict[tuple[float, str, str], Cell] = {}
    data = Path(args.data)
    for sf in args.sf:
        ensure_data(data, sf)
    compile_bytecode()
    for rep in range(args.repeat):
        for sf in args.sf:
            tpch = data / f"sf{sf:g}" / "tpch"
            for query in args.queries:
                for tool in args.tools:
                    work = workdir(data, sf, tool)
                    result = work / f"{query}.json"
                    result.unlink(missing_ok=True)
                    run = measure(command(tool, query, tpch, work, args), work, work / f"{query}.log")
                    cell = cells.setdefault((sf, query, tool), Cell())
                    cell.runs.append(run)
                    if rep == 0 and run.ok:
                        cell.answer = orjson.loads(result.read_bytes())
                    print(f"[{rep + 1}/{args.repeat}] SF {sf:g} {query} {tool}: {run.wall:.2f}s wall "
                          f"{run.cpu:.2f}s cpu {run.rss_tree:.0f} MB{'' if run.ok else ' FAILED'}", file=sys.stderr)
    return cells


def compile_bytecode() -> None:
    """Write meteor's bytecode (.pyc) as ``pip install`` does for an installed package, so that runs do not
    compile its modules from source (an editable install under PYTHONDONTWRITEBYTECODE=1 would, every run)."""
    for package in ("meteor", "sopremo", "pact_backend", "packages"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def _canonical(rows: list[dict]) -> list[tuple]:
    return sorted(tuple(sorted(r.items())) for r in rows)


def same_answer(a: list | None, b: list | None) -> bool:
    """Whether two answers hold the same rows (any order; floats equal to 1e-9 relative)."""
    if a is None or b is None or len(a) != len(b):
        return False
    for x, y in zip(_canonical(a), _canonical(b)):
        if [k for k, _ in x] != [k for k, _ in y]:
            return False
        for (_, u), (_, v) in zip(x, y):
            close = isinstance(u, (int, float)) and isinstance(v, (int, float)) and math.isclose(u, v, rel_tol=1e-9)
            if u != v and not close:
                return False
    return True


def report(cells: dict[tuple[float, str, str], Cell], args: argparse.Namespace) -> str:
    """Markdown: medians per (sf, query, tool), then the ratios per (sf, query)."""
    lines = ["| SF | query | tool | wall s (median) | CPU s | peak RSS MB (largest proc / tree) | runs | "
             "answer = meteor |", "|---|---|---|---|---|---|---|---|"]
    ratios = ["| SF | query | meteor / DuckDB (wall) | meteor / orjson loop (wall) | meteor / Polars (wall) |",
              "|---|---|---|---|---|"]
    for sf in args.sf:
        for query in args.queries:
            medians = {}
            for tool in args.tools:
                cell = cells[(sf, query, tool)]
                ok = [r for r in cell.runs if r.ok]
                if not ok:
                    lines.append(f"| {sf:g} | {query} | {tool} | failed | | | 0/{len(cell.runs)} | |")
                    continue
                wall = medians[tool] = statistics.median(r.wall for r in ok)
                cpu = statistics.median(r.cpu for r in ok)
                agree = same_answer(cell.answer, cells.get((sf, query, "meteor"), Cell()).answer)
                lines.append(f"| {sf:g} | {query} | {tool} | {wall:.2f} | {cpu:.2f} | "
                             f"{max(r.rss_max for r in ok):.0f} / {max(r.rss_tree for r in ok):.0f} | "
                             f"{len(ok)}/{len(cell.runs)} | {'yes' if agree else 'NO'} |")
            ratio = [f"{medians['meteor'] / medians[t]:.2f}" if "meteor" in medians and t in medians else "-"
                     for t in ("duckdb", "orjson", "polars")]
            ratios.append(f"| {sf:g} | {query} | " + " | ".join(ratio) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(ratios) + "\n"


def check_spill(args: argparse.Namespace) -> str:
    """Q3 at the largest scale factor without and with each ``--spill-memory`` budget: same answer? spilled?"""
    sf, data = max(args.sf), Path(args.data)
    ensure_data(data, sf)
    answers, lines = [], ["| Q3 run | wall s | CPU s | peak RSS MB (largest proc / tree) | spilled |",
                          "|---|---|---|---|---|"]
    for memory in (None, *args.spill_memory):
        work = workdir(data, sf, f"spill{memory}" if memory else "nospill")
        (work / "q3.json").unlink(missing_ok=True)
        cmd = [PYTHON, str(ROOT / "scripts" / "bench_tools.py"), "meteor-spill", "q3", *([memory] if memory else [])]
        run = measure(cmd, work, work / "q3.log")
        answers.append(orjson.loads((work / "q3.json").read_bytes()) if run.ok else None)
        spilled = (work / "q3.log").read_text().strip().splitlines()[-1:] or ["?"]
        lines.append(f"| SF {sf:g}, memory {memory or 'default'} | {run.wall:.2f} | {run.cpu:.2f} | "
                     f"{run.rss_max:.0f} / {run.rss_tree:.0f} | {spilled[0]} |")
    same = answers[0] is not None and all(a == answers[0] for a in answers[1:])
    verdict = "yes" if same else "NO"
    budgets = ", ".join(args.spill_memory)
    return "\n".join(lines) + f"\n\nQ3 with --memory {budgets} gives the same answer as without: {verdict}\n"


def package_bench(script: str, *arguments: str) -> str:
    """Run one of the package benchmarks (scripts/bench_ie.py, scripts/bench_cleansing.py) in a fresh process
    and return its report as a Markdown section; raises CalledProcessError when it fails."""
    done = subprocess.run([PYTHON, str(ROOT / "scripts" / script), *arguments], check=True,
                          capture_output=True, text=True)
    return f"### {script} {' '.join(arguments)}\n\n```\n{done.stdout.strip()}\n```\n"


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: run, print the Markdown tables (and write them to ``--markdown``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/tmp/meteor-bench", help="data and run directory")
    parser.add_argument("--sf", type=float, nargs="+", default=[0.1, 1.0], help="scale factors")
    parser.add_argument("--queries", nargs="+", default=["q1", "q3", "q15"], choices=["q1", "q3", "q15"])
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per measurement (median)")
    parser.add_argument("--memory", help="memory budget passed to meteor, e.g. 256MB")
    parser.add_argument("--parallelism", type=int, help="parallelism passed to meteor")
    parser.add_argument("--check-spill", action="store_true", help="also run the Q3 spill check")
    parser.add_argument("--spill-memory", nargs="+", default=["256MB"], help="budgets of the spill check")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--ie", metavar="CORPUS", help="also measure the ie package on this JSON Lines corpus "
                        "(articles/s per operator, scripts/bench_ie.py)")
    parser.add_argument("--cleansing", metavar="N", type=int, help="also time detect duplicates on N generated "
                        "persons (sorted neighbourhood, blocking; scripts/bench_cleansing.py)")
    args = parser.parse_args(argv)
    text = report(run_all(args), args) if args.repeat > 0 else ""
    if args.check_spill:
        text += "\n" + check_spill(args)
    if args.ie:
        text += "\n" + package_bench("bench_ie.py", args.ie, "--repeat", str(max(args.repeat, 1)))
    if args.cleansing:
        text += "\n" + package_bench("bench_cleansing.py", str(args.cleansing))
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
