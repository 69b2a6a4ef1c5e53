"""Stages of chained drivers and the task that runs one partition of a stage (in a worker process).

A stage is a head contract (a Source split, or a Reduce / CoGroup / Match / Cross / Union / Map over
shipped inputs) followed by the Maps chained to it, ending in outputs that cut the records into blocks,
partitioned for their consumers; a combiner of a following Reduce runs there too (VLDB J. 2014, sec. 7.3:
source -> map -> combine -> partition in one task). ``StageSpec`` is shipped (cloudpickle) once per stage;
``run_task(spec, task)`` is a pure function from input segments to output segments.
"""

from __future__ import annotations

import os
from dataclasses import field
from operator import itemgetter
from time import perf_counter
from typing import Any, Callable, Iterable, Iterator

from pact_backend.errors import UserError
from pact_backend.physical import NONE
from pact_backend.quick_dataclass import dataclass
from pact_backend.runtime import record_origin
from pact_backend.runtime.blocks import BucketWriter, Segment, read_records
from pact_backend.runtime.collector import task_collection
from pact_backend.runtime.drivers import DriverContext, hash_join, run_head
from pact_backend.runtime.filtered_source import filtered_plan, filtered_records
from pact_backend.runtime.fused_source import FusedRun, fused_plan
from pact_backend.runtime.memory import SizeEstimator
from pact_backend.runtime.partition import partitioner
from pact_backend.runtime.probed_source import probed_matches, probed_plan
from pact_backend.runtime.ranges import RangeRouter
from pact_backend.runtime.sorter import SpillDir
from pact_backend.runtime.stats import Meter, metered, metered_call
from pact_backend.runtime.task_context import enter


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

    ``kind``: source, map, union, reduce, cogroup, match or cross; ``head``: the head's attributes (udf,
    key(s), combiner, group_order, input_format, inner, sorts_only, keyed) and its ``local`` strategy, the
    key of its driver in ``pact_backend.runtime.drivers.DRIVERS``; ``head_id`` and ``chain`` (contract id, map
    udf, or a ``ChainedMatch`` probing a broadcast input) name the contracts for statistics; ``selections``: the
    declared ``Map.fusion_fact`` of each chain entry (its selection or expansion; None for a ChainedMatch), for
    a combiner's fusion hook; ``batch_selections``: the declared ``Map.batch_selection`` hook of each chain
    entry (None where there is none), for a source stage that filters row batches (``filtered_source``);
    ``outputs``: one OutputSpec per distinct output; ``fused``: the planner fused this source stage into its
    combiner.
    """

    stage: int
    kind: str
    head_id: int
    head: dict[str, Any]
    chain: list[tuple[int, Callable[[Iterator[Any]], Iterable[Any]] | ChainedMatch]] = field(default_factory=list)
    selections: list[Any] = field(default_factory=list)
    batch_selections: list[Any] = field(default_factory=list)
    outputs: list[OutputSpec] = field(default_factory=list)
    fused: bool = False


@dataclass
class ChainedMatch:
    """A Match chained to the stage of its forward (probe) input: the other input reaches every task whole
    (broadcast, or forwarded at DOP 1), is read as stage input ``side`` and held in a hash table (spilling past
    the budget, as the Match driver does), and the stage's stream probes it, so the probe records are never
    written to blocks between two stages. ``keys``, ``udf`` and ``batch_probe`` (its batch hook,
    ``probed_source``) are the Match's; ``build``: the index (0 or 1) of the build input; ``local``: the
    Match's local strategy (a hybrid hash join building on ``build``)."""

    keys: tuple[Callable[[Any], Any], Callable[[Any], Any]]
    udf: Callable[[Any, Any], Iterable[Any]]
    build: int
    side: int
    local: str
    batch_probe: Any = None

    def probe(self, contract_id: int, stream: Iterable[Any], build: Iterable[Any], ctx: DriverContext
              ) -> Iterator[Any]:
        """The Match's output for ``stream`` (probe records) against ``build`` (every broadcast record)."""
        ctx.ran[contract_id] = self.local
        return hash_join(stream, build, self.keys, self.udf, self.build, ctx)


@dataclass
class TaskInput:
    """One partition of a stage: ``part`` number, ``inputs`` (segments per head input), ``splits`` (source
    parts, None = read the whole source), the run directory, the memory ``budget`` in bytes, and the
    caller's module search path ``sys_path`` (absolute entries; ``pact_backend.executors.modules``). Every
    file path a task reads or writes is absolute: the plan's paths are resolved where it is built."""

    part: int
    inputs: list[list[Segment]]
    splits: list[Any] | None
    run_dir: str
    budget: int
    sys_path: list[str]
    combine_threshold: int = 1024


@dataclass
class TaskResult:
    """What a task produced: segments per output and bucket, per-contract (records out, own seconds), the
    spill files and bytes it wrote (all removed before it returned), the local strategy each driver ran
    (``ran``: contract id -> strategy) and whether it ran as a fused source (``fused``)."""

    outputs: list[list[list[Segment]]]
    stats: dict[int, tuple[int, float]]
    spill_files: int = 0
    spill_bytes: int = 0
    ran: dict[int, str] = field(default_factory=dict)
    fused: bool = False


def run_task(spec: StageSpec, task: TaskInput) -> TaskResult:
    """Run partition ``task.part`` of the stage ``spec``, writing its outputs as blocks to the run directory;
    raises whatever a UDF or format raises. The garbage collector examines young objects only meanwhile
    (``collector.task_collection``)."""
    with task_collection():
        return _run_task(spec, task)


def _run_task(spec: StageSpec, task: TaskInput) -> TaskResult:
    enter(task.run_dir, spec.stage, task.part)
    ctx = _context(spec, task)
    meters = {spec.head_id: Meter()}
    fused = False
    try:
        plan = fused_plan(spec.kind, spec.head, spec.selections, spec.outputs) if spec.fused else None
        if plan is not None:
            outputs, combining = _run_fused(spec, task, plan, meters)
            fused = True
            ctx.ran.update({contract_id: NONE for contract_id in meters})  # source and selections: no strategy
        else:
            outputs, combining = _write_outputs(spec, task, _stream(spec, task, ctx, meters))
    except UserError as error:  # once per failed task: where its record was read
        record_origin.locate(error, spec.kind, spec.head, task.splits)
        raise
    finally:
        ctx.spill.cleanup()
    return _result(spec, ctx, meters, outputs, combining, fused)


def stream_task(spec: StageSpec, task: TaskInput, report: Callable[[TaskResult], None]) -> Iterator[Any]:
    """The records of partition ``task.part`` of a stage whose only output is read by the caller (a sink),
    pulled lazily: a consumer that stops early stops the stage (the inline executor's last stages, so the REPL
    can show the first records of a large data set). ``report`` receives the TaskResult when the stream ends
    or is closed. The garbage collector examines young objects only until then (``collector.task_collection``)."""
    enter(task.run_dir, spec.stage, task.part)
    ctx = _context(spec, task)
    meters = {spec.head_id: Meter()}
    try:
        with task_collection():
            yield from _stream(spec, task, ctx, meters)
    except UserError as error:
        record_origin.locate(error, spec.kind, spec.head, task.splits)
        raise
    finally:
        ctx.spill.cleanup()
        report(_result(spec, ctx, meters, [[[]]], [], False))


def _context(spec: StageSpec, task: TaskInput) -> DriverContext:
    spill = SpillDir(task.run_dir, prefix=f"s{spec.stage}p{task.part}")
    return DriverContext(task.budget, spill, task.combine_threshold, splits=task.splits)


def _stream(spec: StageSpec, task: TaskInput, ctx: DriverContext, meters: dict[int, Meter]) -> Iterable[Any]:
    """The stage's record stream: its head's driver, then every chained contract, each metered."""
    inputs = [read_records(segments) for segments in task.inputs]
    batched = _batch_head(spec, ctx, meters, inputs)
    if batched is None:
        stream, chain = metered_call(lambda: run_head(spec.kind, spec.head, spec.head_id, inputs, ctx),
                                     meters[spec.head_id]), spec.chain
    else:
        stream, chain = batched
    for contract_id, udf in chain:
        meters[contract_id] = Meter()
        if isinstance(udf, ChainedMatch):
            stream = udf.probe(contract_id, stream, inputs[udf.side], ctx)
        else:
            stream = udf(stream)
            ctx.ran[contract_id] = NONE
        stream = metered(stream, meters[contract_id])
    return stream


def _batch_head(spec: StageSpec, ctx: DriverContext, meters: dict[int, Meter], inputs: list[Iterable[Any]]
                ) -> tuple[Iterable[Any], list] | None:
    """The stream of a source stage that reads row batches, and the chain entries left after it: the leading
    selections filter the batches (``filtered_source``), and a chained Match that follows them probes with the
    rows (``probed_source``). None when the stage reads records."""
    probed, count = probed_plan(spec.kind, spec.head, spec.chain, spec.batch_selections, spec.selections)
    plan = probed
    if probed is None:
        plan, count = filtered_plan(spec.kind, spec.head, spec.batch_selections, spec.selections)
        if plan is None:
            return None
    leading = spec.chain[:count]
    for contract_id, _ in leading:
        meters[contract_id] = Meter()
    ctx.ran.update({contract_id: NONE for contract_id, _ in [(spec.head_id, None), *leading]})
    udfs, selected = [udf for _, udf in leading], [meters[c] for c, _ in leading]
    if probed is None:
        return filtered_records(plan, ctx.splits, udfs, meters[spec.head_id], selected), spec.chain[count:]
    match_id, match = spec.chain[count]
    ctx.ran[match_id] = match.local
    meters[match_id] = Meter()
    stream = probed_matches(probed, match, ctx.splits, inputs[match.side], udfs,
                            [meters[spec.head_id], *selected], ctx)
    return metered(stream, meters[match_id]), spec.chain[count + 1:]


def _result(spec: StageSpec, ctx: DriverContext, meters: dict[int, Meter], outputs: list[list[list[Segment]]],
            combining: list["_Combining"], fused: bool) -> TaskResult:
    """The TaskResult: own seconds per contract (a chained contract's meter includes its upstream's time)."""
    stats, upstream = {}, 0.0
    for contract_id, meter in meters.items():
        stats[contract_id] = (meter.records, max(0.0, meter.seconds - upstream))
        upstream = meter.seconds
    for target in combining:
        records, seconds = stats.get(target.consumer, (0, 0.0))
        stats[target.consumer] = (records, seconds + target.seconds)
    return TaskResult(outputs, stats, ctx.spill.files, ctx.spill.bytes, dict(ctx.ran), fused)


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
    return BucketWriter(path, out.buckets, route, budget=task.budget)


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
