"""The process executor: runs a PACT program's physical plan as stages of tasks on a pool of worker processes.

Contracts are cut into stages of chained drivers (a head plus the forward Maps chained to it, VLDB J. 2014,
sec. 7.3); every stage runs one task per partition; tasks exchange records as blocks in files of a run
directory, routed by the ship strategy of each channel (forward, hash-partition by a stable hash, broadcast,
gather, range-partition). A range-partitioned channel gets a shuffle stage of its own: once the producer has
finished, the caller samples keys from its output, chooses the range boundaries and the shuffle routes every
record to its range, so a global sort runs on all cores and its partitions, read in order, are totally
ordered. Sinks are written by the calling process, partition after partition, and committed only when every
sink has written; any failure aborts them. Progress (``pact_backend.progress``) is reported per stage from
the task results as they arrive.
"""

from __future__ import annotations

import os
import shutil
import sys
from time import perf_counter
from typing import Any, Callable, Iterable

from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.executors.base import StageExecutor, run_stats, write_sinks
from pact_backend.executors.modules import client_path
from pact_backend.executors.pool import InlinePool, TaskPool, shared_pool
from pact_backend.executors.scheduler import RunReport, schedule
from pact_backend.executors.stage_graph import StageGraph
from pact_backend.progress import NoProgress
from pact_backend.runtime.checks import check_plan
from pact_backend.runtime.memory import default_memory, task_budget
from pact_backend.runtime.stats import RunStats
from pact_backend.runtime.temp_files import run_directory


class ProcessExecutor(StageExecutor):
    """Runs a ``PactPlan`` on worker processes; ``run(plan, physical=None) -> RunStats``.

    ``parallelism``: default DOP (None: ``os.cpu_count()``); contracts' own DOP hints win (``parallel N``,
    a Sort's DOP 1). ``memory_bytes``: the budget of the whole run, shared by concurrent tasks (None: a share
    of RAM, see ``memory.default_memory``); ``memory_per_instance`` is one task's share, the budget the
    planner plans with. ``spill_dir``: where the run directory of exchange and spill files goes (None: the
    system temp dir). ``in_process``: run tasks in this process (debugging). ``progress``: a
    ``pact_backend.progress`` reporter (default: none) told about every stage and sink as it runs. Raises
    PlanStructureError for malformed programs and UnsupportedPlan for a physical plan its runtime lacks a
    strategy of; exceptions of UDFs and formats propagate unchanged after every opened sink writer was
    aborted. ``last_run`` holds the RunReport of the latest run.
    """

    name = "process"

    def __init__(self, parallelism: int | None = None, memory_bytes: int | None = None,
                 spill_dir: str | None = None, in_process: bool = False, combine_threshold: int = 1024,
                 progress: Any = None):
        if parallelism is not None and parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {parallelism}")
        self.parallelism = parallelism or os.cpu_count() or 1
        self.memory_bytes = memory_bytes or default_memory()
        self.spill_dir = spill_dir
        self.in_process = in_process
        self.combine_threshold = combine_threshold
        self.progress = progress if progress is not None else NoProgress()
        self.last_run: RunReport | None = None

    @property
    def workers(self) -> int:
        """Tasks that run at once: min(parallelism, cores), or 1 in process."""
        return 1 if self.in_process else max(1, min(self.parallelism, os.cpu_count() or 1))

    @property
    def memory_per_instance(self) -> int:
        """Bytes one task may hold before it spills: the run's budget shared by the concurrent tasks."""
        return task_budget(self.memory_bytes, self.workers)

    def pool(self) -> TaskPool:
        """The pool tasks run on: the shared pool of ``workers`` processes, or in-process."""
        if self.in_process:
            return InlinePool()
        return shared_pool(self.workers)

    def run(self, plan: pact.PactPlan, physical: phys.PhysicalPlan | None = None) -> RunStats:
        """Execute ``plan`` with ``physical``'s strategies (None: the planner's default strategies for this
        executor); every sink commits. Raises UnsupportedPlan before running anything it cannot run."""
        start = perf_counter()
        order = check_plan(plan)
        physical = self.checked(plan, physical)
        run_dir = run_directory(self.spill_dir)
        self.last_run = report = RunReport(run_dir=run_dir)
        try:
            graph = StageGraph(order, physical, self.progress)
            template = self._task_template(run_dir, physical.memory_per_instance)
            written = write_sinks(plan.sinks, self._run_stages(graph, plan.sinks, report, template))
        finally:
            self.progress.close()
            shutil.rmtree(run_dir, ignore_errors=True)
        stats = run_stats(order, graph.produced(written), perf_counter() - start)
        stats.executed = graph.executed(graph.task_reports())
        return stats

    def _run_stages(self, graph: StageGraph, sinks: list[pact.Sink], report: RunReport,
                    template: dict[str, Any]) -> Callable[[pact.Sink], list[Iterable[Any]]]:
        """Run every stage on the pool; returns how the sinks read their records (their producers' blocks)."""
        schedule(graph.stages, self.pool(), report, template, self.progress)
        return graph.sink_partitions

    def _task_template(self, run_dir: str, budget: int) -> dict[str, Any]:
        return {"run_dir": run_dir, "budget": budget, "sys_path": client_path(),
                "combine_threshold": self.combine_threshold}
