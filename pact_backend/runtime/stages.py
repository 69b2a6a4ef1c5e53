"""Stages of chained drivers and the task that runs one partition of a stage (in a worker process).

A stage is a head contract (a Source split, or a Reduce / CoGroup / Match / Cross / Union / Map over
shipped inputs) followed by the Maps chained to it, ending in outputs that cut the records into blocks,
partitioned for their consumers; a combiner of a following Reduce runs there too (VLDB J. 2014, sec. 7.3:
source -> map -> combine -> partition in one task). ``StageSpec`` is shipped (cloudpickle) once per stage;
``run_task(spec, task)`` is a pure function from input segments to output segments.
"""

from __future__ import annotations

import itertools
import os
import sys
from dataclasses import dataclass, field
from operator import itemgetter
from time import perf_counter
from typing import Any, Callable, Iterable, Iterator

from pact_backend.runtime.blocks import BucketWriter, Segment, read_records
from pact_backend.runtime.fused_source import FusedRun, fused_plan
from pact_backend.runtime.grouping import order_group
from pact_backend.runtime.memory import SizeEstimator
from pact_backend.runtime.partition import canonical_bytes, partitioner
from pact_backend.runtime.ranges import RangeRouter
from pact_backend.runtime.sorter import SpillDir, external_sort, group_sorted
from pact_backend.runtime.spill import SpillingGrouper, spilling_hash_join
from pact_backend.runtime.stats import Meter, metered, metered_call
from pact_backend.runtime.topk import first_records


@dataclass
class OutputSpec:
    """One output of a stage: ``buckets`` partitions routed by ``key`` (None: one plain bucket), optionally
    pre-aggregated by ``combiner`` (the combiner of the consuming Reduce, same key). With ``boundaries``
    (not None) the output is range-partitioned instead: ``key`` is a range key whose values compare, bucket
    i holds the keys of range i (``descending``: ranges numbered from the largest keys down)."""

    buckets: int = 1
    key: Callable[[Any], Any] | None = None
    combiner: Callable[[Any, list[Any]], Iterable[Any]] | None = None
    consumer: int | None = None  # contract id the combiner's seconds are charged to
    boundaries: list[Any] | None = None
    descending: bool = False

    @property
    def keyed(self) -> bool:
        """True when the output carries (key, record) pairs: a combined record may not have its group's key
        any more, so the key computed before combining travels with it."""
        return self.combiner is not None


@dataclass
class StageSpec:
    """What a worker needs to run any partition of a stage (no Contract objects: they drag the whole plan).

    ``kind``: source, map, union, reduce, cogroup, match, cross or first; ``head``: the head's attributes (udf,
    key(s), combiner, group_order, input_format, build, sort_group, sorts_only); ``head_id`` and ``chain`` (contract id,
    map udf, or a ``ChainedMatch`` probing a broadcast input) name the contracts for statistics; ``outputs``:
    one OutputSpec per distinct output.
    """

    stage: int
    kind: str
    head_id: int
    head: dict[str, Any]
    chain: list[tuple[int, Callable[[Iterator[Any]], Iterable[Any]] | ChainedMatch]] = field(default_factory=list)
    outputs: list[OutputSpec] = field(default_factory=list)


@dataclass
class ChainedMatch:
    """A Match chained to the stage of its forward (probe) input: the other input is broadcast to every task,
    read as stage input ``side`` and held in a hash table (spilling past the budget, as ``_match`` does), and
    the stage's stream probes it, so the probe records are never written to blocks between two stages.
    ``keys`` and ``udf`` are the Match's; ``build``: the index (0 or 1) of the broadcast input."""

    keys: tuple[Callable[[Any], Any], Callable[[Any], Any]]
    udf: Callable[[Any, Any], Iterable[Any]]
    build: int
    side: int

    def probe(self, stream: Iterable[Any], build: Iterable[Any], budget: float, spill: SpillDir
              ) -> Iterator[Any]:
        """The Match's output for ``stream`` (probe records) against ``build`` (every broadcast record)."""
        return _hash_join(stream, build, self.keys, self.udf, self.build, budget, spill)


@dataclass
class TaskInput:
    """One partition of a stage: ``part`` number, ``inputs`` (segments per head input), ``splits`` (source
    parts, None = read the whole source), the run directory, the memory ``budget`` in bytes, and the
    caller's ``cwd`` and ``sys_path`` (relative paths in scripts resolve as in the caller)."""

    part: int
    inputs: list[list[Segment]]
    splits: list[Any] | None
    run_dir: str
    budget: int
    cwd: str
    sys_path: list[str]
    combine_threshold: int = 1024


@dataclass
class TaskResult:
    """What a task produced: segments per output and bucket, per-contract (records out, own seconds), and the
    spill files and bytes it wrote (all removed before it returned)."""

    outputs: list[list[list[Segment]]]
    stats: dict[int, tuple[int, float]]
    spill_files: int = 0
    spill_bytes: int = 0


def prepare(task: TaskInput) -> None:
    """Make the worker see what the caller sees: its working directory and module search path."""
    if os.getcwd() != task.cwd:
        os.chdir(task.cwd)
    missing = [p for p in task.sys_path if p not in sys.path]
    sys.path.extend(missing)


def run_task(spec: StageSpec, task: TaskInput) -> TaskResult:
    """Run partition ``task.part`` of the stage ``spec``; raises whatever a UDF or format raises."""
    prepare(task)
    spill = SpillDir(task.run_dir, prefix=f"s{spec.stage}p{task.part}")
    meters = {spec.head_id: Meter()}
    try:
        plan = fused_plan(spec.kind, spec.head, spec.chain, spec.outputs)
        if plan is not None:
            outputs, combining = _run_fused(spec, task, plan, meters)
        else:
            inputs = [read_records(segments) for segments in task.inputs]
            head = _HEADS[spec.kind]
            stream: Iterable[Any] = metered_call(lambda: head(spec.head, inputs, task, spill), meters[spec.head_id])
            for contract_id, udf in spec.chain:
                meters[contract_id] = Meter()
                if isinstance(udf, ChainedMatch):
                    stream = udf.probe(stream, inputs[udf.side], task.budget, spill)
                else:
                    stream = udf(stream)
                stream = metered(stream, meters[contract_id])
            outputs, combining = _write_outputs(spec, task, stream)
    finally:
        spill.cleanup()
    stats, upstream = {}, 0.0
    for contract_id, meter in meters.items():
        stats[contract_id] = (meter.records, max(0.0, meter.seconds - upstream))
        upstream = meter.seconds
    for target in combining:
        records, seconds = stats.get(target.consumer, (0, 0.0))
        stats[target.consumer] = (records, seconds + target.seconds)
    return TaskResult(outputs, stats, spill.files, spill.bytes)


def _run_fused(spec: StageSpec, task: TaskInput, plan: Any, meters: dict[int, Meter]
               ) -> tuple[list[list[list[Segment]]], list["_Combining"]]:
    """Run a source stage through its combiner's fused source (``fused_source``); same results as unfused."""
    out = spec.outputs[0]
    writer = _writer(spec, task, 0, out)
    combining = _Combining(writer, out, task)
    for contract_id, _ in spec.chain:
        meters[contract_id] = Meter()
    FusedRun(plan, spec.chain, list(meters.values()), combining, writer.write, task.budget).run(
        task.splits if task.splits is not None else [None])
    combining.flush()
    return [writer.close()], [combining]


def _writer(spec: StageSpec, task: TaskInput, index: int, out: OutputSpec) -> BucketWriter:
    """The block writer of output ``index`` of this task, routing records to the output's buckets."""
    path = os.path.join(task.run_dir, f"s{spec.stage}p{task.part}o{index}.blk")
    by = itemgetter(0) if out.keyed else out.key
    route = None if by is None or out.buckets == 1 else partitioner(by, out.buckets)
    if out.boundaries is not None and out.buckets > 1:
        route = RangeRouter(out.key, out.boundaries, out.descending)
    return BucketWriter(path, out.buckets, route)


def _write_outputs(spec: StageSpec, task: TaskInput, stream: Iterable[Any]
                   ) -> tuple[list[list[list[Segment]]], list["_Combining"]]:
    """Route every record of ``stream`` into every output of the stage; returns their segments and the
    combining outputs (for their combiners' seconds)."""
    writers, sinks = [], []
    for index, out in enumerate(spec.outputs):
        writer = _writer(spec, task, index, out)
        writers.append(writer)
        sinks.append(_Combining(writer, out, task) if out.combiner is not None else writer)
    if len(sinks) == 1:
        sinks[0].write_all(stream)
    else:
        writes = [s.write for s in sinks]
        for record in stream:
            for write in writes:
                write(record)
    for target in sinks:
        if isinstance(target, _Combining):
            target.flush()
    return [writer.close() for writer in writers], [t for t in sinks if isinstance(t, _Combining)]


class _Combining:
    """Pre-aggregates records per key with the Reduce's combiner before they are shipped; past the task's
    budget (or at the end) the combined groups go to ``writer`` and the table starts again (no disk)."""

    def __init__(self, writer: BucketWriter, out: OutputSpec, task: TaskInput):
        self.writer, self.key, self.combiner, self.consumer = writer, out.key, out.combiner, out.consumer
        self.seconds = 0.0  # spent in the combiner
        self.threshold, self.budget = task.combine_threshold, task.budget
        self.table: dict[Any, list[Any]] = {}
        self.limits: dict[Any, int] = {}
        self.used, self.estimator = 0.0, SizeEstimator()

    def write(self, record: Any) -> None:
        self.write_all((record,))

    def write_all(self, records: Iterable[Any]) -> None:
        key, combiner, threshold, budget = self.key, self.combiner, self.threshold, self.budget
        table, limits, used = self.table, self.limits, self.used
        get, estimator = table.get, self.estimator
        # SizeEstimator.charge inlined (a method call per record is measurable)
        sample, size, countdown = estimator.sample, estimator.average, estimator.countdown
        for record in records:
            k = None if key is None else key(record)
            group = get(k)
            if group is None:
                table[k] = [record]
            else:
                group.append(record)
                if len(group) >= threshold and len(group) >= limits.get(k, threshold):
                    start = perf_counter()
                    group[:] = list(combiner(k, group))
                    self.seconds += perf_counter() - start
                    limits[k] = max(threshold, 2 * len(group))
            countdown -= 1
            if not countdown:
                countdown = sample
                size = estimator.measure(record)
            used += size
            if used > budget:
                self.flush()
                table, limits, used = self.table, self.limits, 0.0
                get = table.get
        self.used, estimator.countdown = used, countdown

    def flush(self) -> None:
        table, self.table, self.limits, self.used = self.table, {}, {}, 0.0
        start = perf_counter()
        for k, group in table.items():
            for record in (self.combiner(k, group) if len(group) > 1 else group):
                self.writer.write((k, record))
        self.seconds += perf_counter() - start


# -- head drivers: the local strategies of the stage's first contract -------------------------------------------

def _source(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterable[Any]:
    fmt = head["input_format"]
    if task.splits is None:
        return fmt.read()
    if len(task.splits) == 1:
        return fmt.read_split(task.splits[0])  # no extra generator layer for the usual single split
    return itertools.chain.from_iterable(fmt.read_split(part) for part in task.splits)


def _map(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterable[Any]:
    return head["udf"](inputs[0])


def _union(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterable[Any]:
    return itertools.chain.from_iterable(inputs)


def _reduce(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterator[Any]:
    key, udf, order, limit = head["key"], head["udf"], head["group_order"], head.get("limit")
    keyed = head.get("keyed", False)  # input of (key, combined record) pairs
    if key is None and order is not None and (head.get("sorts_only") or limit is not None):
        # one global group in order: an external sort keeps the budget (also per range of a range-partitioned
        # sort); with a limit, a bounded heap keeps only the first records (pre-cut by the producers)
        records = (record for _, record in inputs[0]) if keyed else inputs[0]
        if limit is not None:
            ordered = first_records(records, order[0], order[1], limit, task.budget, spill)
        else:
            ordered = external_sort(records, order[0], task.budget, spill, reverse=order[1])
        yield from (ordered if head.get("sorts_only") else udf(None, list(ordered)))
        return
    if head.get("sort_group") and key is not None:
        pairs = inputs[0] if keyed else ((key(r), r) for r in inputs[0])
        ordered = external_sort(pairs, lambda pair: canonical_bytes(pair[0]), task.budget, spill)
        for k, items in group_sorted(ordered, itemgetter(0)):
            yield from udf(k, _cut(order_group([record for _, record in items], order), limit))
        return
    combiner = head["combiner"] if order is None else None
    budget = task.budget if key is not None else float("inf")  # one global group cannot be split
    grouper = SpillingGrouper([key], budget, spill, combiner, task.combine_threshold)
    if keyed:
        grouper.add_keyed(0, inputs[0])
    else:
        grouper.add(0, inputs[0])
    for k, (group,) in grouper.groups():
        yield from udf(k, _cut(order_group(group, order), limit))


def _cut(group: list[Any], limit: int | None) -> list[Any]:
    """The first ``limit`` records of an ordered group (all of them without a limit)."""
    return group if limit is None else group[:limit]


def _first(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterable[Any]:
    """The first ``head["limit"]`` records of the input (the sorted ranges of a global sort, read in order)."""
    return itertools.islice(inputs[0], head["limit"])


def _cogroup(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterator[Any]:
    udf = head["udf"]
    left_order, right_order = head["group_order"] or (None, None)
    grouper = SpillingGrouper(list(head["keys"]), task.budget, spill)
    grouper.add(0, inputs[0])
    grouper.add(1, inputs[1])
    for k, (left, right) in grouper.groups():
        yield from udf(k, order_group(left, left_order), order_group(right, right_order))


def _hash_join(probe: Iterable[Any], build: Iterable[Any], keys: tuple, udf: Callable[[Any, Any], Iterable[Any]],
               build_index: int, budget: float, spill: SpillDir) -> Iterator[Any]:
    """A Match's output: ``probe`` records against a hash table of ``build`` (input ``build_index``)."""
    return spilling_hash_join(probe, build, keys[1 - build_index], keys[build_index], udf, build_index == 0,
                              budget, spill)


def _match(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterator[Any]:
    build = head["build"]
    yield from _hash_join(inputs[1 - build], inputs[build], head["keys"], head["udf"], build, task.budget, spill)


def _cross(head: dict, inputs: list, task: TaskInput, spill: SpillDir) -> Iterator[Any]:
    udf, inner_side = head["udf"], head["inner"]
    inner = list(inputs[inner_side])
    for outer in inputs[1 - inner_side]:
        for other in inner:
            yield from (udf(outer, other) if inner_side == 1 else udf(other, outer))


_HEADS: dict[str, Callable[[dict, list, TaskInput, SpillDir], Iterable[Any]]] = {
    "source": _source, "map": _map, "union": _union, "reduce": _reduce, "cogroup": _cogroup,
    "match": _match, "cross": _cross, "first": _first,
}
