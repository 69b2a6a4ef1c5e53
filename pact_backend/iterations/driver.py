"""Running PACT programs that hold iterations: every iteration's inputs are computed, its step plan is prepared
once (constant path cached) and run once per superstep through the planner and the executor's ``run``, and its
result replaces it in the program, which then runs as usual (VLDB J. 2014, sec. 5.3). ``run_program`` is how
every program runs (with or without iterations): it works with any ``pact_backend.executors.registry.Executor``
(and nested iterations, step plans holding iterations of their own).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import orjson

from pact_backend import contracts as pact
from pact_backend.io.memory import CollectOutput, MemoryInput
from pact_backend.iterations.contracts import (PARTIAL, SOLUTION, WORKSET, BulkIteration, Iteration,
                                               IterationStats, SuperstepStats, WorksetIteration, iterations_of)
from pact_backend.iterations.steps import PreparedStep, prepare, rewire
from pact_backend.planner import plan_physical
from pact_backend.runtime.stats import RunStats


@dataclass
class ProgramResult:
    """What running a program did: ``stats`` of its final run (the sinks), ``iterations`` (one IterationStats
    per iteration run, nested ones included), the wall ``seconds``. ``table()`` renders all of it."""

    stats: RunStats
    iterations: list[IterationStats] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> str:
        parts = [it.table() for it in self.iterations] + [self.stats.table()]
        return "\n\n".join(parts)


def run_once(plan: pact.PactPlan, executor: Any, optimize: bool = True) -> RunStats:
    """Run an iteration-free ``plan`` on ``executor`` with the planner's physical plan for the executor's own
    resources (``optimize`` False: the default strategies)."""
    return executor.run(plan, plan_physical(plan, executor.resources(), optimize))


def run_program(plan: pact.PactPlan, executor: Any, optimize: bool = True) -> ProgramResult:
    """Run ``plan`` (which may hold iteration contracts) on ``executor``; every sink commits. Exceptions of UDFs,
    formats and the executor propagate unchanged."""
    start = perf_counter()
    iterations: list[IterationStats] = []
    replaced: dict[int, pact.Contract] = {}
    for it in iterations_of(plan):
        inputs = rewire(list(it.inputs), replaced)
        records = collect(inputs, executor, optimize, iterations)
        result, stats = _iterate(it, records, executor, optimize, iterations)
        source = pact.Source(name=it.name, input_format=MemoryInput(result, it.name))
        source.id = it.id
        source.hints.output_records = len(result)
        replaced[it.id] = source
        iterations.append(stats)
    final = pact.PactPlan(rewire(list(plan.sinks), replaced)) if replaced else plan
    stats = run_once(final, executor, optimize)
    return ProgramResult(stats, iterations, perf_counter() - start)


def collect(contracts: list[pact.Contract], executor: Any, optimize: bool,
            iterations: list[IterationStats] | None = None) -> list[list[Any]]:
    """The records of each of ``contracts`` (one run with a collecting sink per contract)."""
    outputs = [CollectOutput(c.name) for c in contracts]
    sinks = [pact.Sink(name=f"collect {c.name}", inputs=[c], output_format=out) for c, out in zip(contracts, outputs)]
    result = run_program(pact.PactPlan(sinks), executor, optimize)
    if iterations is not None:
        iterations.extend(result.iterations)
    return [out.records for out in outputs]


def _iterate(it: Iteration, inputs: list[list[Any]], executor: Any, optimize: bool,
             nested: list[IterationStats]) -> tuple[list[Any], IterationStats]:
    start = perf_counter()
    key = it.solution_key if isinstance(it, WorksetIteration) else None
    prepared = prepare(it.step, lambda cs: collect(cs, executor, optimize, nested), key)
    stats = IterationStats(it.name, it.kind, constant_contracts=prepared.constant_contracts,
                           constant_records=prepared.constant_records, cached_joins=prepared.cached_joins,
                           solution_lookups=prepared.solution_lookups)
    loop = _bulk if isinstance(it, BulkIteration) else _workset
    result = loop(it, prepared, inputs, stats, lambda: _superstep(prepared, executor, optimize, nested))
    stats.seconds = perf_counter() - start
    return result, stats


def _superstep(prepared: PreparedStep, executor: Any, optimize: bool,
               nested: list[IterationStats]) -> tuple[list[list[Any]], int, float]:
    """Run the step plan once: (records of each step output, records processed by all contracts, seconds)."""
    start = perf_counter()
    result = run_program(prepared.plan, executor, optimize)
    nested.extend(result.iterations)
    processed = sum(c.records_in for c in result.stats.contracts if c.kind != "Sink")
    return prepared.outputs_records(), processed, perf_counter() - start


def _fill(prepared: PreparedStep, role: str, records: list[Any]) -> None:
    placeholder = prepared.placeholders.get(role)
    if placeholder is not None:
        placeholder.input_format = MemoryInput(records, role)
        placeholder.hints = copy.copy(placeholder.hints)
        placeholder.hints.output_records = len(records)


def _bulk(it: BulkIteration, prepared: PreparedStep, inputs: list[list[Any]], stats: IterationStats,
          superstep: Any) -> list[Any]:
    partial = inputs[0]
    limit = it.max_supersteps
    step = 0
    stats.stopped = f"after {limit} supersteps"
    while limit is None or step < limit:
        step += 1
        _fill(prepared, PARTIAL, partial)
        outputs, processed, seconds = superstep()
        current = outputs[0]
        stats.supersteps.append(SuperstepStats(step, len(partial), len(current), None, None, processed, seconds))
        previous, partial = partial, current
        if it.has_termination and not outputs[1]:
            stats.stopped = "termination criterion empty"
            break
        if it.until is not None and it.until(previous, current, step):
            stats.stopped = "converged"
            break
    return partial


def _workset(it: WorksetIteration, prepared: PreparedStep, inputs: list[list[Any]], stats: IterationStats,
             superstep: Any) -> list[Any]:
    index = prepared.index
    index.merge(inputs[0])
    workset = inputs[1]
    limit = it.max_supersteps
    step = 0
    stats.stopped = "workset empty"
    while workset:
        if limit is not None and step >= limit:
            stats.stopped = f"after {limit} supersteps (workset not empty)"
            break
        step += 1
        _fill(prepared, WORKSET, workset)
        if SOLUTION in prepared.placeholders:
            _fill(prepared, SOLUTION, list(index.table.values()))
        outputs, processed, seconds = superstep()
        delta, workset_next = outputs
        index.merge(delta)
        stats.supersteps.append(SuperstepStats(step, len(workset), len(workset_next), len(delta),
                                               len(index.table), processed, seconds))
        workset = workset_next
    return list(index.table.values())


def _canonical(record: Any) -> bytes:
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        import pickle

        return pickle.dumps(record, protocol=5)


def unchanged(previous: list[Any], current: list[Any], superstep: int = 0) -> bool:
    """Convergence criterion of a bulk iteration: the partial solution did not change (equal as bags)."""
    if len(previous) != len(current):
        return False
    try:
        return Counter(previous) == Counter(current)  # hashable records (tuples of scalars)
    except TypeError:
        return Counter(map(_canonical, previous)) == Counter(map(_canonical, current))
