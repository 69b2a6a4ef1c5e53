"""Memory-bounded local strategies: external sort, spilling grouping and grace hash join past a tiny budget."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from pact_backend import contracts as pact
from pact_backend.executors.inline import InlineExecutor
from pact_backend.executors.process import ProcessExecutor
from pact_backend.runtime.blocks import BucketWriter, decode_block, encode_block, read_records
from pact_backend.runtime.memory import SizeEstimator, parse_memory, task_budget
from pact_backend.runtime.sorter import SpillDir, external_sort
from pact_backend.runtime.spill import SpillingGrouper, spilling_hash_join

TINY = 64 << 10


def records(n: int, keys: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [{"k": rng.randrange(keys), "v": i, "pad": "x" * 40} for i in range(n)]


def test_blocks_hold_many_records_and_buckets_keep_write_order(tmp_path):
    from sopremo.values import MISSING

    data = records(10000, 7) + [{"m": MISSING}]
    assert decode_block(encode_block(data)) == data and decode_block(encode_block(data))[-1]["m"] is MISSING
    writer = BucketWriter(str(tmp_path / "out.blk"), 3, lambda r: r.get("k", 0) % 3, block_records=500)
    for record in data:
        writer.write(record)
    segments = writer.close()
    assert writer.records == len(data) and all(len(bucket) > 1 for bucket in segments)
    for bucket, parts in enumerate(segments):
        assert list(read_records(parts)) == [r for r in data if r.get("k", 0) % 3 == bucket]
    assert len({s.path for bucket in segments for s in bucket}) == 1  # one file per writer, not per record


def test_parse_memory():
    assert parse_memory("512MB") == 512 << 20
    assert parse_memory("64 KiB") == 64 << 10
    assert parse_memory("1.5g") == 3 << 29
    assert parse_memory(4096) == parse_memory("4096") == 4096
    for bad in ("", "12XB", "-1MB", "0", "MB"):
        with pytest.raises(ValueError, match="memory size"):
            parse_memory(bad)
    assert task_budget(1 << 30, 4) == 1 << 28 and task_budget(10, 4) >= 16 << 10


def test_size_estimator_charges_a_running_average():
    est = SizeEstimator(sample=2)
    sizes = [est.charge({"a": "x" * 100}) for _ in range(10)]
    assert all(s > 100 for s in sizes)


def test_external_sort_spills_and_cleans_up(tmp_path):
    data = records(20000, 500)
    spill = SpillDir(str(tmp_path), "t")
    out = list(external_sort(data, lambda r: r["k"], TINY, spill))
    assert out == sorted(data, key=lambda r: r["k"])  # stable: equal keys keep input order
    assert spill.files > 1 and spill.bytes > 0
    spill.cleanup()
    assert not list(tmp_path.iterdir())


def test_external_sort_descending_is_stable_and_merges_many_runs(tmp_path):
    data = records(30000, 50)
    spill = SpillDir(str(tmp_path), "t")
    out = list(external_sort(data, lambda r: r["k"], 16 << 10, spill, reverse=True))
    assert out == sorted(data, key=lambda r: r["k"], reverse=True)
    assert spill.files > 64  # more runs than the fan-in: several merge passes
    spill.cleanup()


def groups_of(data: list[dict], key) -> dict:
    """Plain Python: every key's records in input order (the oracle of the grouping tests)."""
    out: dict = {}
    for record in data:
        out.setdefault(key(record), []).append(record)
    return out


def test_spilling_grouper_equals_plain_grouping(tmp_path):
    data = records(20000, 3000)
    spill = SpillDir(str(tmp_path), "g")
    grouper = SpillingGrouper([lambda r: r["k"]], TINY, spill)
    grouper.add(0, data)
    got = {k: group for k, (group,) in grouper.groups()}
    assert grouper.spilled > 0
    assert got == groups_of(data, lambda r: r["k"])
    spill.cleanup()
    assert not list(tmp_path.iterdir())


def test_spilling_grouper_with_combiner_and_two_sides(tmp_path):
    data = records(20000, 3000)
    summed = lambda k, group: [{"k": k, "v": sum(r["v"] for r in group), "pad": ""}]
    spill = SpillDir(str(tmp_path), "c")
    grouper = SpillingGrouper([lambda r: r["k"]], TINY, spill, summed, threshold=4)
    grouper.add(0, data)
    totals = {k: sum(r["v"] for r in group) for k, (group,) in grouper.groups()}
    assert totals == {k: sum(r["v"] for r in g) for k, g in groups_of(data, lambda r: r["k"]).items()}
    cogrouper = SpillingGrouper([lambda r: r["k"], lambda r: r["k"] * 2], TINY, spill)
    cogrouper.add(0, data[:10000])
    cogrouper.add(1, data[10000:])
    pairs = {k: (len(left), len(right)) for k, (left, right) in cogrouper.groups()}
    left, right = Counter(r["k"] for r in data[:10000]), Counter(r["k"] * 2 for r in data[10000:])
    assert pairs == {k: (left.get(k, 0), right.get(k, 0)) for k in left.keys() | right.keys()}
    spill.cleanup()


def test_grace_hash_join_equals_nested_loops(tmp_path):
    left, right = records(6000, 2000, seed=2), records(8000, 2000, seed=3)
    udf = lambda a, b: [(a["v"], b["v"])]
    key = lambda r: r["k"]
    spill = SpillDir(str(tmp_path), "j")
    got = list(spilling_hash_join(left, right, key, key, udf, False, TINY, spill))
    assert spill.files == 2
    assert Counter(got) == Counter(pair for a in left for b in right if key(a) == key(b) for pair in udf(a, b))
    flipped = list(spilling_hash_join(right, left, key, key, udf, True, TINY, spill))
    assert Counter(flipped) == Counter(got)
    spill.cleanup()
    assert not list(tmp_path.iterdir())


class _Rows:
    """An InputFormat over generated rows (picklable, no splits: one task reads it)."""

    def __init__(self, n: int, keys: int, seed: int):
        self.n, self.keys, self.seed = n, keys, seed

    def read(self):
        return iter(records(self.n, self.keys, self.seed))

    def describe(self) -> str:
        return "rows"


class _Collect:
    """An OutputFormat collecting into a list (sinks are written by the calling process)."""

    def __init__(self):
        self.records: list = []

    def open(self):
        return self

    def write(self, record):
        self.records.append(record)

    def commit(self):
        pass

    def abort(self):
        self.records.clear()

    def describe(self) -> str:
        return "collect"


def _plan():
    left = pact.Source("left", input_format=_Rows(6000, 1500, 4))
    right = pact.Source("right", input_format=_Rows(6000, 1500, 5))
    key = lambda r: r["k"]
    grouped = pact.Reduce("grouped", [left], key=key, udf=lambda k, g: [{"k": k, "n": len(g)}])
    joined = pact.Match("joined", [grouped, right], keys=(key, key),
                        udf=lambda a, b: [(a["k"], a["n"], b["v"])])
    cogrouped = pact.CoGroup("cogrouped", [left, right], keys=(key, key),
                             udf=lambda k, a, b: [(k, len(a), len(b))])
    sinks = [pact.Sink("s1", [joined], output_format=_Collect()),
             pact.Sink("s2", [cogrouped], output_format=_Collect())]
    return pact.PactPlan(sinks)


def test_process_executor_spills_with_a_tiny_budget_and_agrees_with_inline(tmp_path):
    plan = _plan()
    InlineExecutor().run(plan)
    expected = [Counter(s.output_format.records) for s in plan.sinks]
    for sink in plan.sinks:
        sink.output_format.records.clear()
    executor = ProcessExecutor(parallelism=2, memory_bytes=TINY, spill_dir=str(tmp_path))
    stats = executor.run(plan)
    assert [Counter(s.output_format.records) for s in plan.sinks] == expected
    assert executor.last_run.spill_files > 0 and executor.last_run.spill_bytes > 0
    assert not list(tmp_path.iterdir()), "spill and exchange files are removed at the end"
    assert stats.get("joined").records_out == sum(expected[0].values())
