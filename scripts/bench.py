"""TPC-H Q1-Q22 and word count on JSON Lines: meteor vs DuckDB, Polars and a plain orjson loop, interleaved.

Usage: ``python scripts/bench.py [--data /tmp/meteor-bench] [--sf 0.1 1] [--queries q1 q3 ... wordcount]
[--tools meteor duckdb polars orjson] [--repeat 3] [--memory 256MB] [--parallelism N] [--wordcount-mb 100]
[--check-spill] [--markdown docs/benchmarks.md] [--ie CORPUS] [--cleansing N]``.
The TPC-H queries are whatever ``examples/tpch/q<N>.meteor`` has an SQL twin ``q<N>.sql`` (all by default, in
query order); ``wordcount`` runs examples/paper/word_count.meteor on a generated corpus (``--wordcount-mb`` MB
of JSON Lines articles whose words follow a Zipf law, made once into ``<data>/wordcount/news.jsonl``). Missing
TPC-H tables are generated once into ``<data>/sf<SF>/tpch`` (scripts/make_tpch.py). DuckDB runs every query
(it is the oracle); Polars and the orjson loop only the queries written for them (scripts/bench_tools.py).
Every measurement is a fresh process; repetitions go round-robin over queries and tools, so load from other
programs hits every tool alike. Per run: wall seconds, CPU seconds (user + sys of the child and its reaped
workers, from ``os.wait4``), the peak RSS of the largest process (its VmHWM) and the peak of the summed RSS of
the whole process tree (both sampled every 20 ms from /proc; the sum is an upper bound, shared pages counted
per process).
Prints Markdown tables of the medians, the ratios to meteor, the sums over the TPC-H queries, and checks that
every tool gave the same answer as meteor. ``--markdown FILE`` also writes them to FILE: between the lines
``<!-- bench.py results begin -->`` and ``<!-- bench.py results end -->`` when FILE has them (so
docs/benchmarks.md keeps its prose), else as the whole file. ``--check-spill`` runs Q3 at the largest scale
factor without and with ``--memory 256MB`` (or the ``--spill-memory`` budgets), compares the answers and reports
how much was spilled. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import compileall
import math
import os
import random
import re
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
TPCH = ROOT / "examples" / "tpch"
WORDCOUNT_SCRIPT = ROOT / "examples" / "paper" / "word_count.meteor"
TOOLS = ("meteor", "duckdb", "polars", "orjson")
BEGIN, END = "<!-- bench.py results begin -->", "<!-- bench.py results end -->"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tools import has_twin  # noqa: E402  (beside this script)


def tpch_queries() -> list[str]:
    """``q<N>`` for every examples/tpch/q<N>.meteor with an SQL twin, in query order."""
    found = [p.stem for p in TPCH.glob("q*.meteor") if re.fullmatch(r"q\d+", p.stem) and p.with_suffix(".sql").exists()]
    return sorted(found, key=lambda q: int(q[1:]))


def tables_of(query: str) -> list[str]:
    """The TPC-H tables ``examples/tpch/<query>.meteor`` reads (``tpch/<table>.jsonl``)."""
    return sorted(set(re.findall(r"tpch/(\w+)\.jsonl", (TPCH / f"{query}.meteor").read_text())))


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


def ensure_data(data: Path, sf: float, tables: list[str]) -> Path:
    """``<data>/sf<sf>/tpch`` holding ``tables`` as JSON Lines, generated when missing."""
    tpch = data / f"sf{sf:g}" / "tpch"
    missing = [t for t in tables if not (tpch / f"{t}.jsonl").exists()]
    if missing:
        print(f"generating TPC-H SF {sf:g} tables {missing} into {tpch} ...", file=sys.stderr)
        subprocess.run([PYTHON, str(ROOT / "scripts" / "make_tpch.py"), "--sf", str(sf), "--out", str(tpch),
                        "--tables", *missing], check=True, stdout=subprocess.DEVNULL)
    return tpch


def ensure_corpus(data: Path, megabytes: float, seed: int = 17) -> Path:
    """``<data>/wordcount/<MB>mb/news.jsonl``: about ``megabytes`` MB of articles ``{"id", "text"}`` of 100 to
    500 words drawn from a vocabulary of 50,000 made-up words with Zipf frequencies (rank r weighs 1/r), mixed
    case, separated by single spaces, some by tabs or double spaces; made once per size (the same for a seed)."""
    directory = data / "wordcount" / f"{megabytes:g}mb"
    path = directory / "news.jsonl"
    if path.exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    print(f"generating a {megabytes:g} MB word count corpus into {path} ...", file=sys.stderr)
    rng = random.Random(seed)
    syllables = ["ka", "to", "ri", "an", "mel", "so", "du", "ne", "lor", "pi", "es", "gra", "vo", "th", "ul", "ze"]
    vocabulary = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(80000)})
    rng.shuffle(vocabulary)
    vocabulary = vocabulary[:50000]
    weights = [1.0 / rank for rank in range(1, len(vocabulary) + 1)]
    limit, written, article = megabytes * 1e6, 0, 0
    temp = path.with_suffix(".tmp")
    with open(temp, "wb") as out:
        while written < limit:
            words = rng.choices(vocabulary, weights, k=rng.randint(100, 500))
            words = [w.capitalize() if rng.random() < 0.1 else w for w in words]
            seps = rng.choices([" ", "  ", "\t"], [0.97, 0.02, 0.01], k=len(words))
            text = "".join(w + sep for w, sep in zip(words, seps)).rstrip()
            line = orjson.dumps({"id": article, "text": text}) + b"\n"
            out.write(line)
            written += len(line)
            article += 1
    temp.rename(path)
    return directory


def _tree_memory(pid: int) -> tuple[int, int]:
    """(summed resident bytes, largest high-water mark VmHWM in bytes) of ``pid`` and its descendants (the
    children of every thread: a process forked from a thread other than the main one is listed only there)."""
    total, largest, todo, page = 0, 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as statm:
                total += int(statm.read().split()[1]) * page
            with open(f"/proc/{p}/status") as status:
                hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
            largest = max(largest, int(hwm[0]) * 1024 if hwm else 0)
            for thread in os.listdir(f"/proc/{p}/task"):  # meteor forks its workers from a thread of its own
                with open(f"/proc/{p}/task/{thread}/children") as children:
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


def command(tool: str, query: str, source: Path, work: Path, args: argparse.Namespace) -> list[str]:
    """The command line of one run; meteor runs in ``work`` (where links lead to the data in ``source``)."""
    if tool == "meteor":
        script = WORDCOUNT_SCRIPT if query == "wordcount" else TPCH / f"{query}.meteor"
        cmd = [*METEOR, "run", str(script)]
        if args.memory:
            cmd += ["--memory", args.memory]
        if args.parallelism:
            cmd += ["--parallelism", str(args.parallelism)]
        return cmd
    return [PYTHON, str(ROOT / "scripts" / "bench_tools.py"), tool, query, str(source), str(work / f"{query}.json")]


def workdir(data: Path, label: str, tool: str, links: dict[str, Path]) -> Path:
    """``<data>/runs/<label>-<tool>`` with the symbolic ``links`` (name -> target) the scripts read through
    (``tpch`` -> the tables; ``news.jsonl`` -> the word count corpus)."""
    work = data / "runs" / f"{label}-{tool}"
    work.mkdir(parents=True, exist_ok=True)
    for name, target in links.items():
        link = work / name
        if link.is_symlink() and link.resolve() != target.resolve():
            link.unlink()
        if not link.exists():
            link.symlink_to(target, target_is_directory=target.is_dir())
    return work


def cases(args: argparse.Namespace) -> list[tuple[str, str, Path, dict[str, Path]]]:
    """(label, query, data directory, links) of every measurement: each TPC-H query per scale factor, then
    word count once."""
    data, found = Path(args.data), []
    tpch = [q for q in args.queries if q != "wordcount"]
    for sf in args.sf if tpch else ():
        tables = sorted({t for q in tpch for t in tables_of(q)})
        source = ensure_data(data, sf, tables)
        found += [(f"sf{sf:g}", q, source, {"tpch": source}) for q in tpch]
    if "wordcount" in args.queries:
        source = ensure_corpus(data, args.wordcount_mb)
        found.append((f"text{args.wordcount_mb:g}mb", "wordcount", source, {"news.jsonl": source / "news.jsonl"}))
    return found


def run_all(args: argparse.Namespace) -> dict[tuple[str, str, str], Cell]:
    """Every (label, query, tool) ``args.repeat`` times, round-robin over the tools within each repetition;
    a tool without a twin of the query is skipped."""
    cells: dict[tuple[str, str, str], Cell] = {}
    todo = cases(args)
    compile_bytecode()
    for rep in range(args.repeat):
        for label, query, source, links in todo:
            for tool in args.tools:
                if not has_twin(tool, query):
                    continue
                work = workdir(Path(args.data), label, tool, links)
                result = work / f"{query}.json"
                result.unlink(missing_ok=True)
                run = measure(command(tool, query, source, work, args), work, work / f"{query}.log")
                cell = cells.setdefault((label, query, tool), Cell())
                cell.runs.append(run)
                if rep == 0 and run.ok:
                    cell.answer = orjson.loads(result.read_bytes())
                print(f"[{rep + 1}/{args.repeat}] {label} {query} {tool}: {run.wall:.2f}s wall "
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


def report(cells: dict[tuple[str, str, str], Cell], args: argparse.Namespace) -> str:
    """Markdown: medians per (data, query, tool); the ratios per (data, query); the sums over the TPC-H
    queries of each scale factor that every tool in the sum ran."""
    lines = ["| data | query | tool | wall s (median) | CPU s | peak RSS MB (largest proc / tree) | runs | "
             "answer = meteor |", "|---|---|---|---|---|---|---|---|"]
    ratios = ["| data | query | meteor / DuckDB (wall) | meteor / DuckDB (CPU) | meteor / orjson loop (wall) | "
              "meteor / Polars (wall) |", "|---|---|---|---|---|---|"]
    walls: dict[tuple[str, str, str], tuple[float, float]] = {}
    labels = list(dict.fromkeys(label for label, _, _ in cells))
    for label in labels:
        for query in dict.fromkeys(q for lab, q, _ in cells if lab == label):
            for tool in args.tools:
                cell = cells.get((label, query, tool))
                if cell is None:
                    continue
                ok = [r for r in cell.runs if r.ok]
                if not ok:
                    lines.append(f"| {label} | {query} | {tool} | failed | | | 0/{len(cell.runs)} | |")
                    continue
                wall, cpu = statistics.median(r.wall for r in ok), statistics.median(r.cpu for r in ok)
                walls[(label, query, tool)] = (wall, cpu)
                agree = same_answer(cell.answer, cells.get((label, query, "meteor"), Cell()).answer)
                lines.append(f"| {label} | {query} | {tool} | {wall:.2f} | {cpu:.2f} | "
                             f"{max(r.rss_max for r in ok):.0f} / {max(r.rss_tree for r in ok):.0f} | "
                             f"{len(ok)}/{len(cell.runs)} | {'yes' if agree else 'NO'} |")
            mine = walls.get((label, query, "meteor"))

            def ratio(tool: str, index: int = 0) -> str:
                other = walls.get((label, query, tool))
                return f"{mine[index] / other[index]:.2f}" if mine and other else "-"

            ratios.append(f"| {label} | {query} | {ratio('duckdb')} | {ratio('duckdb', 1)} | {ratio('orjson')} | "
                          f"{ratio('polars')} |")
    sums = ["| data | TPC-H queries | meteor wall s (sum of medians) | DuckDB wall s | meteor / DuckDB | "
            "worst query (meteor / DuckDB) |", "|---|---|---|---|---|---|"]
    for label in labels:
        both = [q for lab, q, t in walls if lab == label and t == "meteor" and q != "wordcount"
                and (label, q, "duckdb") in walls]
        if not both:
            continue
        mine = sum(walls[(label, q, "meteor")][0] for q in both)
        theirs = sum(walls[(label, q, "duckdb")][0] for q in both)
        worst = max(both, key=lambda q: walls[(label, q, "meteor")][0] / walls[(label, q, "duckdb")][0])
        sums.append(f"| {label} | {len(both)} | {mine:.2f} | {theirs:.2f} | {mine / theirs:.2f} | {worst} "
                    f"({walls[(label, worst, 'meteor')][0] / walls[(label, worst, 'duckdb')][0]:.2f}) |")
    text = "\n".join(lines) + "\n\n" + "\n".join(ratios) + "\n"
    return text + ("\n" + "\n".join(sums) + "\n" if len(sums) > 2 else "")


def write_markdown(path: Path, text: str) -> None:
    """Put ``text`` into ``path`` between the lines that are exactly BEGIN and END when the file has both
    (a mention of the markers inside other text does not count), else make ``text`` the whole file."""
    old = path.read_text() if path.exists() else ""
    lines = old.splitlines(keepends=True)
    begin = next((i for i, line in enumerate(lines) if line.strip() == BEGIN), None)
    end = next((i for i, line in enumerate(lines) if line.strip() == END and begin is not None and i > begin), None)
    if begin is None or end is None:
        path.write_text(text)
        return
    path.write_text("".join(lines[:begin + 1]) + text.strip() + "\n" + "".join(lines[end:]))


def check_spill(args: argparse.Namespace) -> str:
    """Q3 at the largest scale factor without and with each ``--spill-memory`` budget: same answer? spilled?"""
    sf, data = max(args.sf), Path(args.data)
    source = ensure_data(data, sf, tables_of("q3"))
    answers, lines = [], ["| Q3 run | wall s | CPU s | peak RSS MB (largest proc / tree) | spilled |",
                          "|---|---|---|---|---|"]
    for memory in (None, *args.spill_memory):
        work = workdir(data, f"sf{sf:g}", f"spill{memory}" if memory else "nospill", {"tpch": source})
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
    queries = [*tpch_queries(), "wordcount"]
    parser.add_argument("--queries", nargs="+", default=queries, choices=queries,
                        help="TPC-H queries with an SQL twin, and wordcount (default: all)")
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per measurement (median)")
    parser.add_argument("--memory", help="memory budget passed to meteor, e.g. 256MB")
    parser.add_argument("--parallelism", type=int, help="parallelism passed to meteor")
    parser.add_argument("--wordcount-mb", type=float, default=100.0, help="size of the word count corpus in MB")
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
        write_markdown(Path(args.markdown), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
