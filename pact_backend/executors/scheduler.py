"""Scheduling the stages of a run on a task pool: every stage once its producers finished, lost tasks again.

The process and inline executors run their stage graphs through ``schedule``. A task is a pure function from
the block files of its producers to block files of its own (DESIGN.md, "Execution"), so a task whose worker
process died (killed, out of memory, a crash in C code) runs again on a fresh pool, as Dask reruns the tasks
of a lost worker; a task that was running at ``ALLOWED_LOSSES + 1`` worker deaths fails the run with one
``WorkerLost`` line. Ctrl-C and SIGTERM (any BaseException that is not an Exception) end the workers at once.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from typing import Any

from pact_backend.executors.pool import TaskPool, WorkerPool, discard_pool, unpack
from pact_backend.executors.stage_graph import Stage
from pact_backend.progress import NoProgress
from pact_backend.quick_dataclass import dataclass
from pact_backend.runtime.stages import TaskInput, TaskResult

POLL_SECONDS = 0.2   # the scheduler wakes at least this often, so an interrupt is seen at once
ALLOWED_LOSSES = 3   # worker deaths a task may be running at before the run fails (Dask's allowed-failures)


class WorkerLost(RuntimeError):
    """A task that was running each time a worker process died, ``ALLOWED_LOSSES + 1`` times; the message
    names the stage, the partition and how the worker ended."""


@dataclass
class RunReport:
    """What the last run of a ProcessExecutor did besides its records: ``stages`` and ``tasks`` run (tasks
    run again after a lost worker count again, ``retried`` counts those), spill ``spill_files`` /
    ``spill_bytes`` written by tasks (all removed), the ``run_dir`` used (removed)."""

    stages: int = 0
    tasks: int = 0
    spill_files: int = 0
    spill_bytes: int = 0
    run_dir: str = ""
    retried: int = 0


def schedule(stages: list[Stage], pool: TaskPool, report: RunReport, template: dict[str, Any],
             progress: Any = None) -> None:
    """Run every stage of ``stages`` (a producers-first list closed under producers) once its producers (and
    ``after`` stages) finished; tasks of independent stages run concurrently. ``progress`` hears of every
    stage submitted and every task result as it arrives.

    On the first failing task, pending tasks are cancelled, running ones awaited, and the error re-raised;
    a worker's death reruns its tasks (WorkerLost past ``ALLOWED_LOSSES``); on an interrupt the workers are
    terminated and the interrupt re-raised.
    """
    run = _Run(pool, report, template)
    progress = progress if progress is not None else NoProgress()
    pending = list(stages)
    needs = {stage.index: {p.index for p, _, _ in stage.inputs} | {a.index for a in stage.after}
             for stage in stages}
    left: dict[int, int] = {}
    done: set[int] = set()
    try:
        while len(done) < len(stages):
            ready = [s for s in pending if needs[s.index] <= done]
            for stage in ready:
                pending.remove(stage)
                left[stage.index] = run.submit_stage(stage)
                progress.begin(stage.index, f"stage {stage.index} {stage.label}", left[stage.index])
                report.stages += 1
                if not left[stage.index]:
                    done.add(stage.index)
                    progress.end(stage.index)
            if ready and not run.running:
                continue
            if not run.running:
                raise RuntimeError(f"scheduler stalled with stages {[s.index for s in pending]} waiting")
            completed, _ = wait(list(run.running), timeout=progress.interval or POLL_SECONDS,
                                return_when=FIRST_COMPLETED)
            progress.tick()
            for future in completed:
                stage, part = run.running.pop(future)
                result = run.result(future, stage, part)
                if result is None:
                    continue
                stage.results[part] = result
                report.spill_files += result.spill_files
                report.spill_bytes += result.spill_bytes
                records, bytes_ = _task_output(stage, result)
                progress.advance(stage.index, 1, records, bytes_)
                left[stage.index] -= 1
                if not left[stage.index]:
                    done.add(stage.index)
                    progress.end(stage.index)
    except Exception:
        for future in run.running:
            future.cancel()
        wait(list(run.running))
        raise
    except BaseException:  # Ctrl-C, SIGTERM: nothing more of this run is wanted
        if isinstance(pool, WorkerPool):
            discard_pool(pool)
        raise


class _Run:
    """The tasks of one ``schedule`` call in flight: ``running`` (future -> stage, partition), the losses
    per task, and resubmission after a worker died."""

    def __init__(self, pool: TaskPool, report: RunReport, template: dict[str, Any]):
        self.pool, self.report, self.template = pool, report, template
        self.running: dict[Future, tuple[Stage, int]] = {}
        self.submitters: dict[int, Any] = {}
        self.losses: dict[tuple[int, int], int] = {}

    def submit_stage(self, stage: Stage) -> int:
        """Submit the tasks of ``stage`` (skipping partitions whose inputs are all empty); returns how many.
        A shuffle stage first gets the boundaries of its key ranges."""
        if stage.ranges is not None:
            stage.ranges.prepare()
        self.submitters[stage.index] = self.pool.prepare(stage.spec)
        submitted = 0
        for part in range(stage.parts):
            task = task_input(stage, part, self.template)
            if stage.spec.kind != "source" and not any(task.inputs):
                stage.results[part] = TaskResult([[[] for _ in range(o.buckets)] for o in stage.spec.outputs], {})
                continue
            self.submit(stage, part, task)
            submitted += 1
        self.report.tasks += submitted
        return submitted

    def submit(self, stage: Stage, part: int, task: TaskInput) -> None:
        """Submit one task, on fresh workers when the pool broke meanwhile."""
        for attempt in range(2):
            if isinstance(self.pool, WorkerPool) and self.pool.broken:
                self.pool.renew()
            try:
                self.running[self.submitters[stage.index](task)] = (stage, part)
                return
            except BrokenExecutor:  # a BrokenProcessPool (concurrent.futures.process, imported by pools only)
                if attempt:
                    raise

    def result(self, future: Future, stage: Stage, part: int) -> TaskResult | None:
        """The TaskResult of a finished task, or None when its worker died and it was submitted again.
        Raises the task's exception, or WorkerLost when the task was running at too many deaths."""
        try:
            return unpack(future.result())
        except BrokenExecutor:
            if not isinstance(self.pool, WorkerPool):
                raise
        if self.pool.broken:
            self.pool.renew()
        lost = self.losses[(stage.index, part)] = self.losses.get((stage.index, part), 0) + 1
        if lost > ALLOWED_LOSSES:
            raise WorkerLost(f"a worker process {self.pool.last_death} while running stage {stage.index} "
                             f"({stage.label}), partition {part + 1} of {stage.parts}, {lost} times; "
                             f"giving up") from None
        self.report.retried += 1
        self.report.tasks += 1
        self.submit(stage, part, task_input(stage, part, self.template))
        return None


def task_input(stage: Stage, part: int, template: dict[str, Any]) -> TaskInput:
    """The TaskInput of partition ``part`` of ``stage``: the segments it reads from each producer (by the
    channel's ship strategy), its source splits and the run's settings ``template``."""
    inputs = [producer.segments(output, ship, part, stage.parts) for producer, output, ship in stage.inputs]
    splits = stage.splits[part] if stage.splits is not None else None
    return TaskInput(part, inputs, splits, **template)


def _task_output(stage: Stage, result: TaskResult) -> tuple[int, int]:
    """(records, bytes) a task of ``stage`` emitted: its last contract's records out (the worker's counters)
    and the bytes of the blocks it wrote."""
    last = stage.spec.chain[-1][0] if stage.spec.chain else stage.spec.head_id
    records = result.stats.get(last, (0, 0.0))[0]
    written = sum(s.length for output in result.outputs for bucket in output for s in bucket)
    return int(records), written
