"""Times detect duplicates on generated persons (sorted neighbourhood, blocking) and reports precision and recall.

Usage: ``python scripts/bench_cleansing.py [N] [--executor inline|process]`` (default N = 100000). Generates N
records with scripts/make_persons.py into a temporary directory, runs each plan with ``meteor.api.run_file``
and prints seconds (compile and run), pairs found, precision and recall against the generator's truth, and
the machine's load average before and after (other jobs slow the runs down). Reports, never asserts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONDITION = "average(jaroWinkler($p.firstName), levenshtein($p.lastName), dateSim($p.birthDay)) >= 0.85"
PLANS = {
    "sorted neighbourhood (lastName + firstName, window 20)": "sort on $p.lastName + $p.firstName with window 20",
    "blocking (zip)": "partition on $p.zip",
    "multi-pass blocking (zip, birthDay)": "partition on [$p.zip, $p.birthDay]",
}


def _generator():
    spec = importlib.util.spec_from_file_location("make_persons", HERE / "make_persons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_plan(directory: Path, clause: str, executor: str | None) -> tuple[float, set[tuple[int, int]]]:
    """Seconds and the id pairs of one detect duplicates run over ``persons.jsonl`` in ``directory``."""
    from meteor import api

    script = directory / "bench.meteor"
    script.write_text("using cleansing;\n$persons = read from 'persons.jsonl';\n"
                      f"$d = detect duplicates $p in $persons where {CONDITION} {clause};\n"
                      "write $d to 'pairs.jsonl';\n", encoding="utf-8")
    started = time.perf_counter()
    plan = api.compile_file(script)
    api.run_plan(plan, executor=executor)
    seconds = time.perf_counter() - started
    lines = (directory / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    pairs = {tuple(sorted((p[0]["id"], p[1]["id"]))) for p in map(json.loads, lines) if p}
    return seconds, pairs


def main() -> None:
    """Command line: one line per plan with time, pairs, precision and recall."""
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--executor", default=None)
    args = parser.parse_args()
    generator = _generator()
    records = generator.make_persons(args.n)
    truth = generator.truth_pairs(records)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "persons.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
        cwd = os.getcwd()
        os.chdir(directory)
        try:
            print(f"{args.n} records, {len(truth)} true pairs, condition: {CONDITION}")
            print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
            for name, clause in PLANS.items():
                seconds, pairs = run_plan(directory, clause, args.executor)
                hits = len(pairs & truth)
                precision = hits / len(pairs) if pairs else 1.0
                print(f"{name:45s} {seconds:7.2f} s  {len(pairs):7d} pairs  precision {precision:.3f}  "
                      f"recall {hits / len(truth):.3f}")
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    main()
