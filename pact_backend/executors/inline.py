"""The inline executor: the stage runtime with one partition, in the calling process (VLDB J. 2014, sec. 7.3).

It runs exactly what the process executor runs (the planner's physical plan at DOP 1, cut into the same stages,
every contract through the same drivers of ``pact_backend.runtime.drivers``), with two differences: tasks run
in this process on the stage specs themselves (nothing is pickled, a UDF's exception propagates unchanged),
and a stage whose only reader is a sink is pulled lazily by the sink writer instead of being written to
blocks first, so a consumer that stops early (the REPL showing the first records of ``$x``) stops the stage.
Stages before it run to completion, as their consumers need all of their output.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from pact_backend import contracts as pact
from pact_backend.executors.process import ProcessExecutor
from pact_backend.executors.scheduler import RunReport, schedule, task_input
from pact_backend.executors.stage_graph import Stage, StageGraph
from pact_backend.runtime.stages import TaskResult, stream_task


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

    def _run_stages(self, graph: StageGraph, sinks: list[pact.Sink], report: RunReport,
                    template: dict[str, Any]) -> Callable[[pact.Sink], list[Iterable[Any]]]:
        """Run every stage but those streamed into their sink (``_lazy_stages``); returns how the sinks read
        their records: a lazy stage's task pulled by the sink writer, else the producer's blocks."""
        lazy = _lazy_stages(graph, sinks)
        schedule([s for s in graph.stages if s.index not in lazy], self.pool(), report, template, self.progress)

        def partitions(sink: pact.Sink) -> list[Iterable[Any]]:
            stage = graph.stage_of[sink.inputs[0].id]
            if stage.index not in lazy:
                return graph.sink_partitions(sink)
            report.stages, report.tasks = report.stages + 1, report.tasks + 1
            stream = stream_task(stage.spec, task_input(stage, 0, template), _keep(stage, report))
            label = f"stage {stage.index} {stage.label} -> Sink {sink.name}"
            return [_reported(stream, self.progress, ("sink", sink.id), label)]

        return partitions


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
