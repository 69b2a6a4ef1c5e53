"""The process executor: runs a PACT program's physical plan as stages of tasks on a pool of worker processes.

Contracts are cut into stages of chained drivers (a head plus the forward Maps chained to it, VLDB J. 2014,
sec. 7.3); every stage runs one task per partition; tasks exchange records as blocks in files of a run
directory, routed by the ship strategy of each channel (forward, hash-partition by a stable hash, broadcast,
gather; a range-partition is run as a gather, which keeps a global order). Sinks are written by the calling
process, partition after partition, and committed only when every sink has written; any failure aborts them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.executors.base import InlinePool, TaskPool, pack_spec, run_stats, shared_pool, unpack, write_sinks
from pact_backend.runtime.blocks import Segment, read_records
from pact_backend.runtime.checks import PlanStructureError, check_plan
from pact_backend.runtime.join import choose_build_side
from pact_backend.runtime.memory import default_memory, task_budget
from pact_backend.runtime.stages import OutputSpec, StageSpec, TaskInput, TaskResult
from pact_backend.runtime.stats import RunStats


@dataclass
class RunReport:
    """What the last run of a ProcessExecutor did besides its records: ``stages`` and ``tasks`` run, spill
    ``spill_files`` / ``spill_bytes`` written by tasks (all removed), the ``run_dir`` used (removed)."""

    stages: int = 0
    tasks: int = 0
    spill_files: int = 0
    spill_bytes: int = 0
    run_dir: str = ""


class ProcessExecutor:
    """Runs a ``PactPlan`` on worker processes; ``run(plan, physical=None) -> RunStats``.

    ``parallelism``: default DOP (None: ``os.cpu_count()``); contracts' own DOP hints win (``parallel N``,
    a Sort's DOP 1). ``memory_bytes``: the budget of the whole run, shared by concurrent tasks (None: a share
    of RAM, see ``memory.default_memory``). ``spill_dir``: where the run directory of exchange and spill files
    goes (None: the system temp dir). ``in_process``: run tasks in this process (debugging). Raises
    PlanStructureError for malformed programs; exceptions of UDFs and formats propagate unchanged after every
    opened sink writer was aborted. ``last_run`` holds the RunReport of the latest run.
    """

    def __init__(self, parallelism: int | None = None, memory_bytes: int | None = None,
                 spill_dir: str | None = None, in_process: bool = False, combine_threshold: int = 1024):
        if parallelism is not None and parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {parallelism}")
        self.parallelism = parallelism or os.cpu_count() or 1
        self.memory_bytes = memory_bytes or default_memory()
        self.spill_dir = spill_dir
        self.in_process = in_process
        self.combine_threshold = combine_threshold
        self.last_run: RunReport | None = None

    def pool(self) -> TaskPool:
        """The pool tasks run on: the shared pool of min(parallelism, cores) processes, or in-process."""
        if self.in_process:
            return InlinePool()
        return shared_pool(max(1, min(self.parallelism, os.cpu_count() or 1)))

    def run(self, plan: pact.PactPlan, physical: phys.PhysicalPlan | None = None) -> RunStats:
        """Execute ``plan`` (with ``physical``'s strategies, else ``default_physical``); every sink commits."""
        start = perf_counter()
        order = check_plan(plan)
        physical = physical or phys.default_physical(plan, self.parallelism)
        pool = self.pool()
        run_dir = tempfile.mkdtemp(prefix="meteor-run-", dir=self.spill_dir)
        self.last_run = report = RunReport(run_dir=run_dir)
        try:
            graph = _StageGraph(order, physical)
            budget = task_budget(self.memory_bytes, pool.workers)
            _schedule(graph, pool, report, self._task_template(run_dir, budget))
            written = write_sinks(plan.sinks, graph.sink_records)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        return run_stats(order, graph.produced(written), perf_counter() - start)

    def _task_template(self, run_dir: str, budget: int) -> dict[str, Any]:
        return {"run_dir": run_dir, "budget": budget, "cwd": os.getcwd(), "sys_path": list(sys.path),
                "combine_threshold": self.combine_threshold}


class _Stage:
    """A stage being planned and run: its head, spec (head and chained Maps), partitions, inputs, results."""

    def __init__(self, index: int, head: pact.Contract, kind: str, fields: dict[str, Any], parts: int):
        self.index, self.head, self.parts = index, head, parts
        self.spec = StageSpec(index, kind, head.id, fields)
        self.inputs: list[tuple[_Stage, int, str]] = []   # (producer stage, its output index, ship strategy)
        self.splits: list[Any] | None = None               # per partition: source parts (None: whole source)
        self.plain: int | None = None                      # index of the unpartitioned output, if any
        self.results: list[TaskResult | None] = [None] * parts

    def plain_output(self) -> int:
        if self.plain is None:
            self.plain = self.add_output(OutputSpec())
        return self.plain

    def add_output(self, out: OutputSpec) -> int:
        self.spec.outputs.append(out)
        return len(self.spec.outputs) - 1

    def segments(self, output: int, ship: str, part: int, parts: int) -> list[Segment]:
        """The segments of ``output`` that partition ``part`` of ``parts`` consumer partitions reads."""
        if ship == phys.HASH_PARTITION:
            return [s for r in self.results for s in r.outputs[output][part]]
        if ship == phys.FORWARD:
            chosen = self.results[part::parts] if parts < self.parts else self.results[part:part + 1]
        elif ship == phys.BROADCAST or part == 0:
            chosen = self.results
        else:
            chosen = []
        return [s for r in chosen for bucket in r.outputs[output] for s in bucket]


class _StageGraph:
    """The stages of a physical plan: chains Maps onto their only producer, sets partition counts and outputs."""

    def __init__(self, order: list[pact.Contract], physical: phys.PhysicalPlan):
        self.physical = physical
        self.stages: list[_Stage] = []
        self.stage_of: dict[int, _Stage] = {}
        self.sink_outputs: dict[int, int] = {}
        readers: dict[int, int] = {c.id: 0 for c in order}
        for c in order:
            for source in c.inputs:
                readers[source.id] += 1
        for c in order:
            if isinstance(c, pact.Sink):
                self.sink_outputs[c.id] = self.stage_of[c.inputs[0].id].plain_output()
            elif (isinstance(c, pact.Map) and physical.node(c).ship[0] == phys.FORWARD
                  and readers[c.inputs[0].id] == 1):
                stage = self.stage_of[c.inputs[0].id]
                stage.spec.chain.append((c.id, c.udf))
                self.stage_of[c.id] = stage
            else:
                self.stage_of[c.id] = self._new_stage(c)

    def sink_records(self, sink: pact.Sink) -> Any:
        """The records a sink writes: its producer's partitions in order (the order of a sorted input)."""
        producer = self.stage_of[sink.inputs[0].id]
        return read_records(producer.segments(self.sink_outputs[sink.id], phys.GATHER, 0, 1))

    def produced(self, sinks: dict[int, tuple[int, float]]) -> dict[int, list[float]]:
        """Contract id -> [records out, own seconds] summed over all tasks, sinks' from ``sinks``."""
        out: dict[int, list[float]] = {}
        for stage in self.stages:
            for result in stage.results:
                for contract_id, (records, spent) in (result.stats if result else {}).items():
                    entry = out.setdefault(contract_id, [0, 0.0])
                    entry[0] += records
                    entry[1] += spent
        out.update({sink_id: [records, spent] for sink_id, (records, spent) in sinks.items()})
        return out

    def _new_stage(self, c: pact.Contract) -> _Stage:
        node = self.physical.node(c)
        kind, fields = _head_fields(c, node)
        if isinstance(c, pact.Source):
            stage = _Stage(len(self.stages), c, kind, fields, 1)
            _assign_splits(stage, c.input_format, node.dop)
        else:
            stage = _Stage(len(self.stages), c, kind, fields, self._parts(c, node))
            for index, source in enumerate(c.inputs):
                stage.inputs.append(self._channel(source, stage, index, node.ship[index]))
        self.stages.append(stage)
        return stage

    def _parts(self, c: pact.Contract, node: phys.PhysicalNode) -> int:
        """Partitions of a non-source head: 1 under a gather, the node's DOP under a hash or range partition,
        else those of its forward inputs (a Map after a sort stays in one partition)."""
        ships = node.ship
        if phys.GATHER in ships:
            return 1
        if phys.HASH_PARTITION in ships or phys.RANGE_PARTITION in ships:
            parts = node.dop
            for source, ship in zip(c.inputs, ships):
                if ship == phys.FORWARD and isinstance(c, (pact.Match, pact.CoGroup, pact.Reduce)) \
                        and self.stage_of[source.id].parts != parts:
                    raise PlanStructureError(f"{c!r}: forward input {source!r} has "
                                             f"{self.stage_of[source.id].parts} partitions, not {parts}")
            return parts
        forwarded = [self.stage_of[s.id].parts for s, ship in zip(c.inputs, ships) if ship == phys.FORWARD]
        return max(forwarded) if forwarded else node.dop

    def _channel(self, source: pact.Contract, stage: _Stage, index: int, ship: str) -> tuple[_Stage, int, str]:
        """The output of ``source``'s stage that feeds input ``index`` of ``stage`` (a plain one unless it is
        hash-partitioned; a Reduce's combiner runs before shipping and its input then carries keys)."""
        producer, consumer = self.stage_of[source.id], stage.head
        if ship != phys.HASH_PARTITION:
            return producer, producer.plain_output(), ship
        key, combiner = _key_of(consumer, index), None
        if isinstance(consumer, pact.Reduce) and consumer.group_order is None and consumer.combiner is not None:
            combiner = consumer.combiner
            stage.spec.head["keyed"] = True
        return producer, producer.add_output(OutputSpec(stage.parts, key, combiner, consumer.id)), ship


def _head_fields(c: pact.Contract, node: phys.PhysicalNode) -> tuple[str, dict[str, Any]]:
    """The driver kind and the attributes a worker needs of the head contract ``c``."""
    if isinstance(c, pact.Source):
        return "source", {"input_format": c.input_format}
    if isinstance(c, pact.Map):
        return "map", {"udf": c.udf}
    if isinstance(c, pact.Reduce):
        return "reduce", {"key": c.key, "udf": c.udf, "combiner": c.combiner, "group_order": c.group_order,
                          "sort_group": node.local == phys.SORT_GROUP}
    if isinstance(c, pact.CoGroup):
        return "cogroup", {"keys": c.keys, "udf": c.udf, "group_order": c.group_order}
    if isinstance(c, pact.Match):
        build = {phys.HYBRID_HASH_BUILD_FIRST: 0, phys.HYBRID_HASH_BUILD_SECOND: 1}.get(node.local)
        if build is None:
            build = choose_build_side(c.inputs[0].hints, c.inputs[1].hints)
        return "match", {"keys": c.keys, "udf": c.udf, "build": build}
    if isinstance(c, pact.Cross):
        inner = 0 if node.ship[0] == phys.BROADCAST and node.ship[1] != phys.BROADCAST else 1
        return "cross", {"udf": c.udf, "inner": inner}
    return "union", {}


def _key_of(c: pact.Contract, index: int) -> Any:
    """The key function ``c`` groups or joins its input ``index`` by (None: one global key)."""
    if isinstance(c, pact.Reduce):
        return c.key
    keys = getattr(c, "keys", None)
    return keys[index] if keys is not None else None


def _assign_splits(stage: _Stage, fmt: Any, dop: int) -> None:
    """Deal the format's splits round-robin to at most ``dop`` partitions (one partition without splits)."""
    if dop > 1 and hasattr(fmt, "splits") and hasattr(fmt, "read_split"):
        splits = list(fmt.splits(dop))
        parts = max(1, min(dop, len(splits)))
        stage.parts, stage.results = parts, [None] * parts
        stage.splits = [splits[i::parts] for i in range(parts)]


def _schedule(graph: _StageGraph, pool: TaskPool, report: RunReport, template: dict[str, Any]) -> None:
    """Run every stage once its producers finished; tasks of independent stages run concurrently.

    On the first failing task, pending tasks are cancelled, running ones awaited, and the error re-raised.
    """
    pending = list(graph.stages)
    needs = {stage.index: {p.index for p, _, _ in stage.inputs} for stage in graph.stages}
    left: dict[int, int] = {}
    done: set[int] = set()
    running: dict[Future, tuple[_Stage, int]] = {}
    try:
        while len(done) < len(graph.stages):
            ready = [s for s in pending if needs[s.index] <= done]
            for stage in ready:
                pending.remove(stage)
                left[stage.index] = _submit(stage, pool, running, report, template)
                report.stages += 1
                if not left[stage.index]:
                    done.add(stage.index)
            if ready and not running:
                continue
            if not running:
                raise RuntimeError(f"scheduler stalled with stages {[s.index for s in pending]} waiting")
            completed, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in completed:
                stage, part = running.pop(future)
                result = stage.results[part] = unpack(future.result())
                report.spill_files += result.spill_files
                report.spill_bytes += result.spill_bytes
                left[stage.index] -= 1
                if not left[stage.index]:
                    done.add(stage.index)
    except BaseException:
        for future in running:
            future.cancel()
        wait(list(running))
        raise


def _submit(stage: _Stage, pool: TaskPool, running: dict[Future, tuple[_Stage, int]], report: RunReport,
            template: dict[str, Any]) -> int:
    """Submit the tasks of ``stage`` (skipping partitions whose inputs are all empty); returns how many."""
    blob, digest = pack_spec(stage.spec)
    submitted = 0
    for part in range(stage.parts):
        inputs = [producer.segments(output, ship, part, stage.parts) for producer, output, ship in stage.inputs]
        if stage.spec.kind != "source" and not any(inputs):
            stage.results[part] = TaskResult([[[] for _ in range(o.buckets)] for o in stage.spec.outputs], {})
            continue
        splits = stage.splits[part] if stage.splits is not None else None
        task = TaskInput(part, inputs, splits, **template)
        running[pool.submit(blob, digest, task)] = (stage, part)
        submitted += 1
    report.tasks += submitted
    return submitted
