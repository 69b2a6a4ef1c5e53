"""``--memory`` bounds what a run holds: a global sort and one huge group, measured as an operator would.

The CLI tests run ``python -m meteor run`` and read the peak resident set (VmHWM in /proc/<pid>/status) of the
main process and of every worker while the run goes on; the peak of the whole process tree (the largest of
meteor and every process it waited for, so a worker that ended between two readings is counted too) comes
from ``os.wait4`` in a small wrapper process: Linux charges a child the peak of the process it was forked from,
and that would be pytest's. Results are compared with plain Python (the oracle) and with a run without a budget. The driver
tests measure the Python heap of one task (tracemalloc) while a group far larger than its budget streams.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from pact_backend.runtime import drivers
from pact_backend.physical import HASH_GROUP, SORT_GROUP
from pact_backend.runtime.drivers import DriverContext
from pact_backend.runtime.memory import deep_size, merge_layout
from pact_backend.runtime.sorter import SpillDir, external_sort

MB = 1 << 20


WRAPPER = """import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w"))
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)
"""


def run_measured(cwd: Path, *args: str) -> tuple[int, str, dict[int, int], int]:
    """``meteor run *args`` in ``cwd``: (exit status, stderr, {pid: peak RSS in bytes} of meteor and each of its
    descendants read from /proc every 5 ms, peak RSS in bytes of the whole tree from ``os.wait4``)."""
    err_path = cwd / "stderr.txt"
    wrapper = subprocess.Popen([sys.executable, "-c", WRAPPER, str(err_path), sys.executable, "-m", "meteor",
                                "run", "-q", *args], cwd=cwd, stdout=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    deadline = time.monotonic() + 300
    while wrapper.poll() is None:
        assert time.monotonic() < deadline, "meteor run did not finish"
        for pid in descendants(wrapper.pid):  # meteor and its workers
            peak = vm_hwm(pid)
            if peak is not None:
                peaks[pid] = max(peaks.get(pid, 0), peak)
        time.sleep(0.005)
    status, tree = map(int, wrapper.stdout.read().split())
    wrapper.stdout.close()
    return status, err_path.read_text(), peaks, tree


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (through /proc/<pid>/task/*/children)."""
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            except OSError:
                continue
            found += map(int, children)
            stack += map(int, children)
    return found


def vm_hwm(pid: int) -> int | None:
    """Peak resident set of ``pid`` in bytes (VmHWM), None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


SORT_SCRIPT = "$r = read from '{data}';\n$s = sort $r on $r.k;\nwrite $s to 'sorted.jsonl';\n"


def sort_data(path: Path, n: int) -> list[dict]:
    """``n`` records with random keys (many repeated: the sort must stay stable), written as JSON Lines."""
    rng = random.Random(15)
    records = [{"id": i, "k": rng.randrange(n // 4), "name": f"n{rng.randrange(10**8):08d}"} for i in range(n)]
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    return records


def test_a_global_sort_of_600k_records_keeps_every_process_under_160mb_with_64mb(tmp_path):
    records = sort_data(tmp_path / "in.jsonl", 600_000)
    (tmp_path / "s.meteor").write_text(SORT_SCRIPT.format(data="in.jsonl"))
    status, err, peaks, tree = run_measured(tmp_path, "--memory", "64MB", "--parallelism", "2", "s.meteor")
    assert (status, err) == (0, "")
    assert len(peaks) >= 3, peaks  # meteor and its two workers were measured
    assert max(peaks.values()) < 160 * MB and tree < 160 * MB, (peaks, tree)
    assert read_jsonl(tmp_path / "sorted.jsonl") == sorted(records, key=lambda r: r["k"])


def test_the_merge_of_a_sort_keeps_to_a_tiny_budget(tmp_path):
    """With 1 MB per task the runs are many; the merge reads blocks sized by the budget, so a worker holds
    little more than one that sorts a thousand records (it held one 4096-record block per run before)."""
    (tmp_path / "s.meteor").write_text(SORT_SCRIPT.format(data="small.jsonl"))
    sort_data(tmp_path / "small.jsonl", 1000)
    workers = lambda peaks: sorted(peaks.values())[:-1]  # noqa: E731 - every process but meteor (the largest)
    for _ in range(10):  # forked workers sort 1,000 records in a few ms: the 5 ms sampling may miss them
        status, err, small, _ = run_measured(tmp_path, "--memory", "2MB", "--parallelism", "2", "s.meteor")
        assert (status, err) == (0, "")
        if workers(small):
            break
    assert workers(small), "no worker of the small run was ever sampled"
    records = sort_data(tmp_path / "small.jsonl", 200_000)
    status, err, large, _ = run_measured(tmp_path, "--memory", "2MB", "--parallelism", "2", "s.meteor")
    assert (status, err) == (0, "")
    assert max(workers(large)) - max(workers(small)) < 24 * MB, (small, large)
    assert read_jsonl(tmp_path / "sorted.jsonl") == sorted(records, key=lambda r: r["k"])


def test_one_group_of_a_million_records_streams_to_its_fold_under_a_small_budget(tmp_path):
    """``sort`` is no algebraic aggregation, so no combiner shrinks the group: the Reduce folds it as it
    streams from the merged spill files (it held the whole group, 326 MB, before)."""
    n = 1_000_000
    (tmp_path / "in.jsonl").write_text("".join(f'{{"g":{1 if i % 500 else 2},"v":{i % 200}}}\n' for i in range(n)))
    (tmp_path / "s.meteor").write_text(
        "$r = read from 'in.jsonl';\n"
        "$g = group $r by $r.g into {g: $r[0].g, n: count($r), s: sum($r[*].v), lo: sort($r[*].v)[0],\n"
        "                            hi: max($r[*].v)};\n"
        "$o = sort $g on $g.g;\nwrite $o to 'out.jsonl';\n")
    status, err, peaks, tree = run_measured(tmp_path, "--memory", "16MB", "--parallelism", "2", "s.meteor")
    assert (status, err) == (0, "")
    assert max(peaks.values()) < 160 * MB and tree < 160 * MB, (peaks, tree)
    bounded = read_jsonl(tmp_path / "out.jsonl")
    groups = {1: [i % 200 for i in range(n) if i % 500], 2: [i % 200 for i in range(0, n, 500)]}
    assert bounded == [{"g": g, "n": len(vs), "s": sum(vs), "lo": min(vs), "hi": max(vs)}
                       for g, vs in sorted(groups.items())]
    status, err, _, _ = run_measured(tmp_path, "--parallelism", "2", "s.meteor")  # the default budget
    assert (status, err) == (0, "") and read_jsonl(tmp_path / "out.jsonl") == bounded


def test_one_group_of_a_million_records_read_twice_and_by_index_spills_under_a_small_budget(tmp_path):
    """``$r[count($r) - 1]`` is no aggregation: the Reduce cannot fold the group, it needs it as a sequence
    (counted twice, summed, indexed at both ends). Past its share of the budget the group is read back from a
    spill file, so no process holds it (the worker grouping it peaked at 260 MB before, as a list)."""
    n = 1_000_000
    (tmp_path / "in.jsonl").write_text("".join(f'{{"g":{1 if i % 500 else 2},"v":{i % 200},"i":{i}}}\n'
                                               for i in range(n)))
    (tmp_path / "s.meteor").write_text(
        "$r = read from 'in.jsonl';\n"
        "$g = group $r by $r.g into {g: $r[0].g, n: count($r), s: sum($r[*].v), first: $r[0].i,\n"
        "                            last: $r[count($r) - 1].i};\n"
        "$o = sort $g on $g.g;\nwrite $o to 'out.jsonl';\n")
    status, err, peaks, tree = run_measured(tmp_path, "--memory", "16MB", "--parallelism", "2", "s.meteor")
    assert (status, err) == (0, "")
    assert max(peaks.values()) < 96 * MB and tree < 96 * MB, (peaks, tree)
    groups = {1: [i for i in range(n) if i % 500], 2: list(range(0, n, 500))}
    assert read_jsonl(tmp_path / "out.jsonl") == [
        {"g": g, "n": len(ids), "s": sum(i % 200 for i in ids), "first": ids[0], "last": ids[-1]}
        for g, ids in sorted(groups.items())]


def test_a_cogroup_with_one_key_of_a_million_records_spills_its_side_under_a_small_budget(tmp_path):
    """One key holds 998,000 records of the left input; ``into`` counts, sums and indexes that side and reads
    the other, so each side comes as a sequence, the huge one from a spill file (262 MB as lists before)."""
    n = 1_000_000
    (tmp_path / "a.jsonl").write_text("".join(f'{{"k":{1 if i % 500 else i},"v":{i % 200},"i":{i}}}\n'
                                              for i in range(n)))
    (tmp_path / "b.jsonl").write_text("".join(f'{{"k":{1 if i % 2 else i},"w":{i % 7}}}\n' for i in range(1000)))
    (tmp_path / "s.meteor").write_text(
        "$a = read from 'a.jsonl';\n$b = read from 'b.jsonl';\n"
        "$c = group $x in $a by $x.k, $y in $b by $y.k into {k: $x.k, n: count($x), s: sum($x[*].v),\n"
        "                                                    m: sum($y[*].w), last: $x[count($x) - 1].i};\n"
        "$o = sort $c on $c.k;\nwrite $o to 'out.jsonl';\n")
    status, err, peaks, tree = run_measured(tmp_path, "--memory", "16MB", "--parallelism", "2", "s.meteor")
    assert (status, err) == (0, "")
    assert max(peaks.values()) < 96 * MB and tree < 96 * MB, (peaks, tree)
    left: dict[int, list[int]] = {}
    for i in range(n):
        left.setdefault(1 if i % 500 else i, []).append(i)
    right: dict[int, list[int]] = {}
    for i in range(1000):
        right.setdefault(1 if i % 2 else i, []).append(i % 7)
    expected = []
    for k in sorted(left.keys() | right.keys()):
        ids, ws = left.get(k, []), right.get(k, [])
        record = {"k": k, "n": len(ids), "s": sum(i % 200 for i in ids), "m": sum(ws)}
        expected.append({**record, "last": ids[-1]} if ids else record)
    assert read_jsonl(tmp_path / "out.jsonl") == expected


# -- the drivers, in process ---------------------------------------------------------------------------------

def huge_group(n: int):
    """``n`` records of one key (made lazily, so only what the driver keeps is on the heap)."""
    return ({"k": 1, "v": i, "pad": "x" * 40} for i in range(n))


def count_group(key, group):
    assert not isinstance(group, list)  # streamed, never materialised
    count = total = 0
    for record in group:
        count += 1
        total += record["v"]
    yield {"k": key, "n": count, "sum": total}


def streamed_peak(tmp_path: Path, local: str, key, n: int, budget: int) -> tuple[list, int, int]:
    """(output, peak heap bytes, spill files) of a streaming Reduce over one group of ``n`` records."""
    head = {"key": key, "udf": count_group, "combiner": None, "group_order": None, "limit": None,
            "streams_group": True, "local": local}
    ctx = DriverContext(budget, SpillDir(str(tmp_path), "t"))
    tracemalloc.start()
    try:
        out = list(drivers.run_head("reduce", head, 1, [huge_group(n)], ctx))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    files = ctx.spill.files
    ctx.spill.cleanup()
    assert list(tmp_path.iterdir()) == []
    return out, peak, files


def test_a_streaming_reduce_never_holds_a_group_larger_than_its_budget(tmp_path):
    n, budget = 60_000, 512 << 10
    whole = deep_size(list(huge_group(n)))
    assert whole > 20 * budget
    expected = [{"k": 1, "n": n, "sum": n * (n - 1) // 2}]
    for local in (HASH_GROUP, SORT_GROUP):
        out, peak, files = streamed_peak(tmp_path, local, lambda r: r["k"], n, budget)
        assert out == expected and files > 1
        assert peak < 4 * budget, (local, peak, whole)
    out, peak, files = streamed_peak(tmp_path, HASH_GROUP, None, n, budget)  # the one global group
    assert out == [{**expected[0], "k": None}] and files == 0 and peak < budget


def test_a_reduce_that_needs_its_group_as_a_list_still_gets_one(tmp_path):
    data = [{"k": i % 3, "v": i, "pad": "x" * 40} for i in range(20_000)]
    head = {"key": lambda r: r["k"], "udf": lambda k, g: [(k, type(g) is list, [r["v"] for r in g])],
            "combiner": None, "group_order": None, "limit": None, "local": HASH_GROUP}
    ctx = DriverContext(64 << 10, SpillDir(str(tmp_path), "t"))
    out = sorted(drivers.run_head("reduce", head, 1, [iter(data)], ctx))
    assert ctx.spill.files > 1
    ctx.spill.cleanup()
    assert out == [(k, True, [r["v"] for r in data if r["k"] == k]) for k in range(3)]


def test_merge_layout_keeps_the_merge_blocks_within_the_budget():
    for budget in (16 << 10, 1 << 20, 8 << 20, 32 << 20, 1 << 30):
        for record_bytes in (50, 300, 5000, 1 << 20):
            fan_in, block_records = merge_layout(budget, record_bytes)
            assert 2 <= fan_in <= 64 and block_records >= 1
            assert fan_in * block_records * record_bytes <= max(budget / 2, fan_in * record_bytes)


def test_external_sort_charges_its_keys_and_holds_about_its_budget(tmp_path):
    rng = random.Random(3)
    data = [{"k": rng.random(), "name": f"n{i}", "pad": "y" * 30} for i in range(50_000)]
    budget = 1 << 20
    spill = SpillDir(str(tmp_path), "t")
    tracemalloc.start()
    try:
        stream = external_sort(iter(data), lambda r: (r["k"], r["name"]), budget, spill)
        first = list(itertools.islice(stream, 10))
        peak = tracemalloc.get_traced_memory()[1]
        rest = list(stream)
    finally:
        tracemalloc.stop()
    assert first + rest == sorted(data, key=lambda r: (r["k"], r["name"]))
    assert spill.files > 10 and peak < 3 * budget, peak
    spill.cleanup()


def test_deep_size_counts_what_a_record_holds():
    record = {"a": "x" * 100, "b": [1.5, 2.5, {"c": 10**30}], "d": None, "e": True}
    assert deep_size(record) >= sys.getsizeof(record) + 100 + sys.getsizeof([1.5, 2.5, {}])
    nested: list = []
    for _ in range(5000):
        nested = [nested]
    assert deep_size(nested) >= 5000 * sys.getsizeof([])  # iterative: no RecursionError
