"""The inline executor: the stage runtime with one partition, in the calling process (VLDB J. 2014, sec. 7.3).

It runs exactly what the process executor runs (the planner's physical plan at DOP 1, cut into the same stages,
every contract through the same drivers of ``pact_backend.runtime.drivers``), with two differences: tasks run
in this process on the stage specs themselves (nothing is pickled, a UDF's exception propagates unchanged),
and a stage whose only reader is a sink is pulled lazily by the sink writer instead of being written to
blocks first, so a consumer that stops early (the REPL showing the first records of ``$x``) stops the stage.
Stages before it run to completion, as their consumers need all of their output.
"""

from __future__ import annotations

import shutil
import tempfile
from time import perf_counter
from typing import Any, Iterable, Iterator

from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.executors.base import run_stats, write_sinks
from pact_backend.executors.process import ProcessExecutor, RunReport, schedule, task_input
from pact_backend.executors.stage_graph import Stage, StageGraph
from pact_backend.runtime.checks import check_plan
from pact_backend.runtime.stages import TaskResult, stream_task
from pact_backend.runtime.stats import RunStats


class InlineExecutor(ProcessExecutor):
    """Runs a ``PactPlan`` in the calling process at DOP 1; ``run(plan, physical=None) -> RunStats``.

    ``memory_bytes``: the budget of the run (None: a share of RAM), all of it for the one task running at a
    time; ``combine_threshold`` and ``progress`` as for ProcessExecutor; ``parallelism`` is always 1 (a
    physical plan made for more partitions still runs, one task after the other). Raises PlanStructureError
    for malformed programs, UnsupportedPlan for a plan its runtime cannot run; exceptions of UDFs and formats
    propagate unchanged after every opened sink writer was aborted.
    """

    name = "inline"

    def __init__(self, parallelism: int | None = None, memory_bytes: int | None = None,
                 spill_dir: str | None = None, combine_threshold: int = 1024, progress: Any = None):
        super().__init__(1, memory_bytes, spill_dir, in_process=True, combine_threshold=combine_threshold,
                         progress=progress)

    def run(self, plan: pact.PactPlan, physical: phys.PhysicalPlan | None = None) -> RunStats:
        """Execute ``plan`` with ``physical``'s strategies (None: the planner's default strategies at DOP 1);
        every sink commits."""
        start = perf_counter()
        order = check_plan(plan)
        physical = self.checked(plan, physical)
        run_dir = tempfile.mkdtemp(prefix="meteor-run-", dir=self.spill_dir)
        self.last_run = report = RunReport(run_dir=run_dir)
        template = self._task_template(run_dir, physical.memory_per_instance)
        try:
            graph = StageGraph(order, physical, self.progress)
            lazy = _lazy_stages(graph, plan.sinks)
            schedule([s for s in graph.stages if s.index not in lazy], self.pool(), report, template,
                     self.progress)

            def partitions(sink: pact.Sink) -> list[Iterable[Any]]:
                stage = graph.stage_of[sink.inputs[0].id]
                if stage.index not in lazy:
                    return graph.sink_partitions(sink)
                report.stages, report.tasks = report.stages + 1, report.tasks + 1
                stream = stream_task(stage.spec, task_input(stage, 0, template), _keep(stage, report))
                label = f"stage {stage.index} {stage.label} -> Sink {sink.name}"
                return [_reported(stream, self.progress, ("sink", sink.id), label)]

            written = write_sinks(plan.sinks, partitions)
        finally:
            self.progress.close()
            shutil.rmtree(run_dir, ignore_errors=True)
        stats = run_stats(order, graph.produced(written), perf_counter() - start)
        stats.executed = graph.executed(graph.task_reports())
        return stats


def _lazy_stages(graph: StageGraph, sinks: list[pact.Sink]) -> set[int]:
    """Indexes of the stages streamed into their sink: one partition, one output, read by one sink only."""
    readers: dict[int, int] = {}
    for stage in graph.stages:
        for producer, _, _ in stage.inputs:
            readers[producer.index] = readers.get(producer.index, 0) + 1
    for sink in sinks:
        producer = graph.stage_of[sink.inputs[0].id]
        readers[producer.index] = readers.get(producer.index, 0) + 1
    lazy = set()
    for sink in sinks:
        stage = graph.stage_of[sink.inputs[0].id]
        if stage.parts == 1 and len(stage.spec.outputs) == 1 and readers[stage.index] == 1 and not stage.after:
            lazy.add(stage.index)
    return lazy


REPORT_EVERY = 4096  # records between two progress updates of a streamed stage


def _reported(stream: Iterable[Any], progress: Any, key: Any, label: str) -> Iterator[Any]:
    """``stream``'s records, telling ``progress`` every REPORT_EVERY records (and at the end)."""
    if not progress.active:
        yield from stream
        return
    progress.begin(key, label, None, unit="record")
    count = 0
    try:
        for record in stream:
            yield record
            count += 1
            if count == REPORT_EVERY:
                progress.advance(key, count, count)
                count = 0
    finally:
        progress.advance(key, count, count)
        progress.end(key)


def _keep(stage: Stage, report: RunReport) -> Any:
    """A callback storing a streamed task's TaskResult as the stage's result (for statistics) and counting
    its spills into ``report``."""
    def keep(result: TaskResult) -> None:
        stage.results[0] = result
        report.spill_files += result.spill_files
        report.spill_bytes += result.spill_bytes
    return keep
